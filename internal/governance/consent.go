package governance

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
)

// Consent is a data subject's consent that one consumer may obtain their data
// for one purpose (Rule SK-08). It is valid from GivenAt until ExpiresAt,
// unless withdrawn before. PersonPID is the person's fødselsnummer: it is
// never shown in full, put in a URL, logged or written into an event.
type Consent struct {
	ID          string
	PersonPID   string
	Consumer    string // orgnr
	Purpose     string // formål, as the consent-based grant names it
	GivenAt     time.Time
	ExpiresAt   time.Time
	WithdrawnAt *time.Time
}

// Valid reports whether the consent is in force at now: given, not expired, not withdrawn (Rule SK-08).
func (c *Consent) Valid(now time.Time) bool {
	return !c.GivenAt.IsZero() && !now.Before(c.GivenAt) && now.Before(c.ExpiresAt) &&
		(c.WithdrawnAt == nil || now.Before(*c.WithdrawnAt))
}

// ConsentState is where a consent stands.
type ConsentState string

// Consent states.
const (
	ConsentActive    ConsentState = "active"
	ConsentExpired   ConsentState = "expired"
	ConsentWithdrawn ConsentState = "withdrawn"
)

// State says whether the consent is active, expired or withdrawn at now.
func (c *Consent) State(now time.Time) ConsentState {
	switch {
	case c.WithdrawnAt != nil && !now.Before(*c.WithdrawnAt):
		return ConsentWithdrawn
	case c.Valid(now):
		return ConsentActive
	}
	return ConsentExpired
}

// Label is the state's name in the portal.
func (s ConsentState) Label() string {
	switch s {
	case ConsentActive:
		return "Gyldig"
	case ConsentExpired:
		return "Utløpt"
	case ConsentWithdrawn:
		return "Trukket tilbake"
	}
	return string(s)
}

// ConsentRequest is a consumer asking people for consent for a purpose: it
// has an active grant that rests on consent (Rules SK-01, SK-08).
type ConsentRequest struct {
	Consumer     string // orgnr
	ConsumerName string
	Purpose      string
}

// Key identifies the request in a form: orgnr and purpose.
func (r ConsentRequest) Key() string { return r.Consumer + "|" + r.Purpose }

// ConsentRequests lists, once each, the consumer and purpose pairs of the
// grants that rest on consent and are in force at now.
func ConsentRequests(grants []access.Grant, now time.Time) []ConsentRequest {
	var out []ConsentRequest
	for _, g := range grants {
		if !g.Consent || !g.ActiveAt(now) {
			continue
		}
		r := ConsentRequest{Consumer: g.Consumer, Purpose: g.Purpose}
		if !slices.ContainsFunc(out, func(o ConsentRequest) bool { return o.Key() == r.Key() }) {
			out = append(out, r)
		}
	}
	return out
}

// Check lists what is wrong with a consent a person is about to give, by form
// field, in Norwegian (Rule SK-08): it must be for a consumer and purpose that
// asks for consent, and expire in the future, at most maxValidity ahead.
func (c *Consent) Check(now time.Time, maxValidity time.Duration, asked []ConsentRequest) map[string]string {
	bad := map[string]string{}
	c.Purpose = strings.TrimSpace(c.Purpose)
	if !slices.ContainsFunc(asked, func(r ConsentRequest) bool { return r.Consumer == c.Consumer && r.Purpose == c.Purpose }) {
		bad["foresporsel"] = "Velg hvem som skal få samtykket, og til hvilket formål."
	}
	switch {
	case c.ExpiresAt.IsZero():
		bad["utloper"] = "Skriv når samtykket skal utløpe."
	case !c.ExpiresAt.After(now):
		bad["utloper"] = "Utløpsdatoen må være etter i dag."
	case c.ExpiresAt.After(now.Add(maxValidity)):
		bad["utloper"] = "Et samtykke kan gjelde i høyst " + strconv.Itoa(int(maxValidity/(24*time.Hour))) + " dager."
	}
	if c.PersonPID == "" {
		bad["person"] = "Bare en innlogget privatperson kan gi samtykke."
	}
	return bad
}
