package governance

import (
	"net/mail"
	"strings"
)

// ContactRole is what a contact person is contacted about.
type ContactRole string

// Contact roles (Rules AA-01, AA-06, AA-22).
const (
	ContactAdministrative ContactRole = "administrativ" // agreements, applications, terms
	ContactTechnical      ContactRole = "teknisk"       // integration, operational notices
	ContactSecurity       ContactRole = "sikkerhet"     // security and privacy breaches
)

// ContactRoles lists the contact roles in the order the portal shows them.
func ContactRoles() []ContactRole {
	return []ContactRole{ContactAdministrative, ContactTechnical, ContactSecurity}
}

// Label is the contact role's name in the portal.
func (r ContactRole) Label() string {
	switch r {
	case ContactAdministrative:
		return "Administrativ kontakt"
	case ContactTechnical:
		return "Teknisk kontakt"
	case ContactSecurity:
		return "Sikkerhetskontakt"
	}
	return string(r)
}

// Contact is one of a consumer's contact persons (Rule AA-06: kept current by the consumer).
type Contact struct {
	ID       string
	Consumer string
	Navn     string
	Epost    string
	Telefon  string
	Rolle    ContactRole
	Varsler  bool // subscribes to news and operational notices (Rule AA-20)
}

// Validate lists what is wrong with a contact, by form field, in Norwegian.
func (c *Contact) Validate() map[string]string {
	bad := map[string]string{}
	c.Navn, c.Epost, c.Telefon = strings.TrimSpace(c.Navn), strings.TrimSpace(c.Epost), strings.TrimSpace(c.Telefon)
	if c.Navn == "" || len(c.Navn) > 200 {
		bad["navn"] = "Skriv navnet til kontaktpersonen."
	}
	if !ValidEmail(c.Epost) {
		bad["epost"] = "Skriv en gyldig e-postadresse, for eksempel navn@virksomhet.no."
	}
	if len(c.Telefon) > 40 {
		bad["telefon"] = "Telefonnummeret er for langt."
	}
	switch c.Rolle {
	case ContactAdministrative, ContactTechnical, ContactSecurity:
	default:
		bad["rolle"] = "Velg hva kontaktpersonen er kontakt for."
	}
	return bad
}

// ValidEmail accepts a plain address (no display name), as the portal stores them.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}
