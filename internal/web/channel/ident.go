package channel

import (
	"strings"
	"time"

	"deling/internal/ident"
	"deling/internal/register"
)

// ParsePerson checks an employee identifier. Rule AA-14: a test environment
// takes synthetic identities only; production refuses H-numbers.
func (s *Shared) ParsePerson(v string) (string, string, bool) {
	p, err := ident.ParsePerson(v)
	switch {
	case err != nil:
		return "", strings.TrimPrefix(err.Error(), "ident: "), false
	case s.env == register.EnvTest && !p.IsSynthetic():
		return "", "testmiljøet har bare syntetiske identiteter", false
	case s.env == register.EnvProd && p.MaybeHNummer():
		return "", "et H-nummer er ikke en identitet i registeret", false
	}
	return p.String(), "", true
}

// ParseEmployer checks an arbeidssted or opplysningspliktig: an organisation
// number, a person (a private employer), or a legacy employer number.
func (s *Shared) ParseEmployer(v string) (string, string, bool) {
	if o, err := ident.ParseOrgnr(v); err == nil {
		if s.env == register.EnvTest && !o.IsSynthetic() {
			return "", "testmiljøet har bare syntetiske organisasjonsnumre", false
		}
		return string(o), "", true
	}
	if len(v) == 11 {
		if id, _, ok := s.ParsePerson(v); ok {
			return id, "", true
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
