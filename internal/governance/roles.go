package governance

import (
	"fmt"
	"slices"
	"time"
)

// Role is what a user may do for an organisation.
type Role string

// The register authority's staff hold their roles for AuthorityOrg.
const (
	Saksbehandler   Role = "saksbehandler"   // case worker: handles applications, objections, suspensions
	Forvalter       Role = "forvalter"       // the register's administrator: accounts, terms, notices
	Personvernombud Role = "personvernombud" // data protection officer: reads logs and cases
)

// A consumer organisation's people hold their roles for its orgnr.
const (
	Rolleinnehaver Role = "rolleinnehaver" // role holder (e.g. daglig leder): may sign (Rule AA-01)
	Administrator  Role = "administrator"  // manages applications, contacts, users, clients
	Utvikler       Role = "utvikler"       // developer: clients and keys, the API documentation
	Oppslagsbruker Role = "oppslagsbruker" // web-lookup user (Rule AA-04)
	// Databehandler is a data processor's staff, held for the processor's orgnr (Rules AA-13, SK-04).
	Databehandler Role = "databehandler"
)

// Person is a data subject, held for no organisation ("").
const Person Role = "person"

// AuthorityOrg is the organisation the register authority's staff act for.
const AuthorityOrg = "register"

var authorityRoles = []Role{Saksbehandler, Forvalter, Personvernombud}
var consumerRoles = []Role{Rolleinnehaver, Administrator, Utvikler, Oppslagsbruker, Databehandler}

// ParseRole accepts any role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(authorityRoles, r) || slices.Contains(consumerRoles, r) || r == Person {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// ForAuthority reports whether the role belongs to the register authority's staff.
func (r Role) ForAuthority() bool { return slices.Contains(authorityRoles, r) }

// ForOrganisation reports whether the role is held for a consumer or processor organisation.
func (r Role) ForOrganisation() bool { return slices.Contains(consumerRoles, r) }

// Label is the role's name in the portal (Norwegian).
func (r Role) Label() string {
	switch r {
	case Saksbehandler:
		return "Saksbehandler"
	case Forvalter:
		return "Forvalter"
	case Personvernombud:
		return "Personvernombud"
	case Rolleinnehaver:
		return "Rolleinnehaver (kan signere)"
	case Administrator:
		return "Administrator"
	case Utvikler:
		return "Utvikler"
	case Oppslagsbruker:
		return "Oppslagsbruker"
	case Databehandler:
		return "Databehandler"
	case Person:
		return "Privatperson"
	}
	return string(r)
}

// OrganisationRoles are the roles an organisation's administrator may give its users.
func OrganisationRoles() []Role {
	return []Role{Rolleinnehaver, Administrator, Utvikler, Oppslagsbruker}
}

// User is an account in the portal.
type User struct {
	ID       string
	Email    string
	Navn     string
	PID      string // fødselsnummer of a data subject; never shown or logged
	Disabled bool
	// MustChangePassword: the password was set by someone else; its owner changes it before anything else.
	MustChangePassword bool
	// PasswordGen counts changes of the password; a session made under an older one ends.
	PasswordGen int
}

// Membership is one role a user holds for one organisation.
type Membership struct {
	UserID     string
	Org        string // orgnr, AuthorityOrg, or "" for Person
	Role       Role
	CreatedAt  time.Time
	ReviewedAt time.Time // last confirmed by the organisation (Rule AA-27)
}

// Has reports whether the memberships hold role for org.
func Has(ms []Membership, org string, role Role) bool {
	return slices.ContainsFunc(ms, func(m Membership) bool { return m.Org == org && m.Role == role })
}

// HasAny reports whether the memberships hold any of roles for org.
func HasAny(ms []Membership, org string, roles ...Role) bool {
	return slices.ContainsFunc(ms, func(m Membership) bool { return m.Org == org && slices.Contains(roles, m.Role) })
}

// Orgs are the consumer or processor organisations the memberships act for, in order, once each.
func Orgs(ms []Membership) []string {
	var out []string
	for _, m := range ms {
		if m.Role.ForOrganisation() && !slices.Contains(out, m.Org) {
			out = append(out, m.Org)
		}
	}
	slices.Sort(out)
	return out
}
