package channel

import (
	"time"

	"deling/internal/ident"
	"deling/internal/register"
)

// ParsePerson checks an employee identifier by the environment's rule
// (register.Env.AdmitPerson, Rule AA-14): a test environment takes synthetic
// identities only, production real ones only. The reason is Norwegian, for
// the caller, and never repeats the value.
func (s *Shared) ParsePerson(v string) (string, string, bool) {
	p, err := ident.ParsePerson(v)
	if err != nil {
		return "", ident.Norwegian(err), false
	}
	if why := refusalText[s.env.AdmitPerson(p)]; why != "" {
		return "", why, false
	}
	return p.String(), "", true
}

// ParseOrgnr checks an organisation number by the environment's rule
// (register.Env.AdmitOrgnr).
func (s *Shared) ParseOrgnr(v string) (string, string, bool) {
	o, err := ident.ParseOrgnr(v)
	if err != nil {
		return "", "ugyldig organisasjonsnummer: " + ident.Norwegian(err), false
	}
	switch s.env.AdmitOrgnr(o) {
	case register.RealInTest:
		return "", "testmiljøet har bare syntetiske organisasjonsnumre", false
	case register.SyntheticInProd:
		return "", "produksjonsmiljøet tar bare ekte organisasjonsnumre, ikke syntetiske", false
	}
	return string(o), "", true
}

// refusalText is why a person identity is refused, by the rule's refusal.
var refusalText = map[register.Refusal]string{
	register.RealInTest:      "testmiljøet har bare syntetiske identiteter",
	register.SyntheticInProd: "produksjonsmiljøet tar bare ekte identiteter, ikke syntetiske (Tenor eller NAV) eller H-numre",
	register.HNummerInProd:   "et H-nummer er ikke en identitet i registeret",
}

// ParseEmployer checks an arbeidssted or opplysningspliktig: an organisation
// number, a person (a private employer), or a legacy employer number.
func (s *Shared) ParseEmployer(v string) (string, string, bool) {
	if _, err := ident.ParseOrgnr(v); err == nil {
		o, why, ok := s.ParseOrgnr(v)
		if !ok && s.env == register.EnvProd {
			if l, err := ident.ParseLegacyEmployer(v); err == nil {
				return l, "", true // a legacy employer number that happens to pass the check digit
			}
		}
		return o, why, ok
	}
	if len(v) == 11 {
		if _, err := ident.ParsePerson(v); err == nil {
			return s.ParsePerson(v)
		}
	}
	if l, err := ident.ParseLegacyEmployer(v); err == nil {
		return l, "", true
	}
	return "", "ugyldig organisasjonsnummer eller identitet", false
}

// today is the date in Norway, which statuses are evaluated at.
func (s *Shared) Today() register.Date {
	return register.Date(s.now().In(s.oslo).Format(time.DateOnly))
}
