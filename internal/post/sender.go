package post

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"deling/internal/ident"
)

// Sender is an organisation registered by the register's staff as an
// eligible sender of digital post (Rule DPV-01): a public body, or one that
// acts for and is financed by one; the register decides. It names a service
// lead with a deputy or a shared address (DPV-09), the categories it sends
// in (DPV-02), any full agreement that lifts the yearly quota (DPV-10), and
// when it left the service (DPV-11).
type Sender struct {
	Orgnr        ident.Orgnr
	Name         string
	RegisteredBy string // the staff member who registered it
	RegisteredAt time.Time
	// Basis is why it is eligible, in the register's words (public body, acts for one…).
	Basis       string
	ServiceLead Contact  // Rule DPV-09: serviceleder
	Deputy      *Contact // a fixed deputy, or …
	Shared      *Contact // … a shared e-mail address and phone several can reach
	Categories  []Category
	Agreement   *Agreement // Rule DPV-10: a full agreement beyond the free volume
	LeftAt      *time.Time // Rule DPV-11: when it left; its archived post is then deleted
}

// Contact is a person or shared contact point: name, e-mail and phone.
type Contact struct {
	Name  string
	Email string
	Phone string
}

// Agreement is a full (ordinary cooperation) agreement recorded for a
// sender: while in force, its volume is not capped (Rule DPV-10).
type Agreement struct {
	Reference  string
	From       time.Time
	Until      *time.Time
	RecordedBy string
}

// InForce reports whether the agreement covers t.
func (a *Agreement) InForce(t time.Time) bool {
	return a != nil && !t.Before(a.From) && (a.Until == nil || t.Before(*a.Until))
}

func (c *Contact) complete() bool {
	if c == nil || strings.TrimSpace(c.Email) == "" || strings.TrimSpace(c.Phone) == "" {
		return false
	}
	_, err := mail.ParseAddress(c.Email)
	return err == nil
}

// Validate lists what is wrong with a sender's registration, by form field,
// in Norwegian.
func (s *Sender) Validate() map[string]string {
	bad := map[string]string{}
	s.Name, s.Basis = strings.TrimSpace(s.Name), strings.TrimSpace(s.Basis)
	if _, err := ident.ParseOrgnr(string(s.Orgnr)); err != nil {
		bad["orgnr"] = "Skriv et gyldig organisasjonsnummer."
	}
	if s.Name == "" {
		bad["navn"] = "Skriv avsenderens navn."
	}
	if s.Basis == "" {
		// Rule DPV-01: only public bodies and those acting for them.
		bad["grunnlag"] = "Skriv hvorfor virksomheten kan bruke tjenesten (offentlig virksomhet eller på vegne av en)."
	}
	if strings.TrimSpace(s.ServiceLead.Name) == "" || !s.ServiceLead.complete() {
		// Rule DPV-09.
		bad["serviceleder"] = "Oppgi serviceleder med navn, e-post og telefon."
	}
	if !s.Deputy.complete() && !s.Shared.complete() {
		// Rule DPV-09: a fixed deputy, or a shared address several can reach.
		bad["stedfortreder"] = "Oppgi en fast stedfortreder eller en felles e-postadresse og telefon."
	}
	if len(s.Categories) == 0 {
		bad["kategorier"] = "Velg minst én meldingskategori."
	}
	for _, c := range s.Categories {
		if !slices.Contains(Categories(), c) {
			bad["kategorier"] = fmt.Sprintf("Ukjent meldingskategori %q.", c)
		}
	}
	return bad
}

// MaySend says whether the sender may send in category c at now (Rules
// DPV-01, DPV-02, DPV-09, DPV-11), nil if so.
func (s *Sender) MaySend(c Category, now time.Time) *Problem {
	if s == nil || s.RegisteredAt.IsZero() || s.RegisteredAt.After(now) || (s.LeftAt != nil && !now.Before(*s.LeftAt)) {
		return notEligible()
	}
	if len(s.Validate()) > 0 {
		return notEligible()
	}
	if !slices.Contains(s.Categories, c) {
		return problem(CodeCategoryNotOpen, "correspondence.resourceId",
			fmt.Sprintf("The sender is not registered for the category %s", c.ResourceID()),
			fmt.Sprintf("Avsenderen er ikke registrert for «%s».", c.Label()))
	}
	return nil
}

func notEligible() *Problem {
	p := problem(CodeSenderNotEligible, "", "The organisation is not registered as an eligible sender of digital post",
		"Virksomheten er ikke registrert som avsender av digital post til virksomheter.")
	p.Status = 403
	return p
}
