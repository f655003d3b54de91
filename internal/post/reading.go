package post

import (
	"slices"
	"time"

	"deling/internal/ident"
)

// Rule DPV-03: reading an organisation's post needs the role Post/Arkiv.
// Holders of a key role in Enhetsregisteret have it automatically; it can
// be delegated to persons, other organisations and enterprise users, and
// only key role holders or holders of the access-management role
// (Tilgangsstyring) may delegate it. Confidential post needs a key role that
// Altinn checks for confidential post, or a delegation of confidential
// post explicitly. (Altinn 3 goes further and gives nobody confidential post
// by default; deling follows its own rule, the issue's, and says so here.)

// RoleCode is a role code of Enhetsregisteret (DAGL, LEDE, INNH, …).
type RoleCode string

// KeyRoles are the Enhetsregisteret roles that carry Post/Arkiv
// (Altinn's role map to A0236: BEST, BOBE, DAGL, DTPR, DTSO, INNH, KEMN,
// KOMK, KOMP, LEDE, PRIV, REPR, SAM; research §4.3).
func KeyRoles() []RoleCode {
	return []RoleCode{"BEST", "BOBE", "DAGL", "DTPR", "DTSO", "INNH", "KEMN", "KOMK", "KOMP", "LEDE", "PRIV", "REPR", "SAM"}
}

// IsKeyRole reports whether c is one of KeyRoles.
func IsKeyRole(c RoleCode) bool { return slices.Contains(KeyRoles(), c) }

// ConfidentialKeyRoles are the key roles Altinn requires a recipient of
// confidential post to have someone in (1044): bestyrende reder, daglig
// leder, deltakere, innehaver, styreleder, komplementar (research §4.4).
func ConfidentialKeyRoles() []RoleCode {
	return []RoleCode{"BEST", "DAGL", "DTPR", "DTSO", "INNH", "KOMP", "LEDE"}
}

// Right is a right over an organisation's post that can be delegated.
type Right string

// The rights.
const (
	RightPostArkiv        Right = "post_arkiv"      // read ordinary post (A2 A0236)
	RightConfidential     Right = "taushetsbelagt"  // read confidential post too (A2 a0286)
	RightAccessManagement Right = "tilgangsstyring" // delegate onward (A2 admai)
)

// Label is the right's name in the portal.
func (r Right) Label() string {
	switch r {
	case RightPostArkiv:
		return "Post/arkiv"
	case RightConfidential:
		return "Taushetsbelagt post"
	case RightAccessManagement:
		return "Tilgangsstyring"
	}
	return string(r)
}

// PartyKind is what kind of party holds a right.
type PartyKind string

// The party kinds that Post/Arkiv can be delegated to (DPV-03).
const (
	PartyPerson         PartyKind = "person"
	PartyOrganisation   PartyKind = "virksomhet"
	PartyEnterpriseUser PartyKind = "virksomhetsbruker" // acts with the enterprise certificate of Orgnr
)

// Party is a person, an organisation or an enterprise user. A person is
// named by a fødselsnummer, or, as the portal names its users, by the
// portal account's id (User): deling's users sign in with an e-mail address,
// and their fødselsnummer is neither asked for nor shown.
type Party struct {
	Kind     PartyKind
	Person   string      // fødselsnummer or D-nummer, for a person
	User     string      `json:",omitempty"` // the portal account's id, for a person who is a user of the organisation
	Orgnr    ident.Orgnr // the organisation, or the enterprise user's
	Username string      // an enterprise user's name
}

// Same reports whether p and q are the same party.
func (p Party) Same(q Party) bool { return p == q }

// Delegation gives a party a right over an organisation's post.
type Delegation struct {
	Org       ident.Orgnr
	To        Party
	Right     Right
	By        Party // who delegated, for the record
	From      time.Time
	RevokedAt *time.Time
}

// InForce reports whether the delegation covers t.
func (d Delegation) InForce(t time.Time) bool {
	return !t.Before(d.From) && (d.RevokedAt == nil || t.Before(*d.RevokedAt))
}

// Viewer is someone reading post, with the facts the decision needs: the
// roles they hold in Enhetsregisteret in the organisation being read (for a
// person), the delegations that name them, and the time.
type Viewer struct {
	Party       Party
	Roles       []RoleCode // the party's Enhetsregisteret roles in the organisation read
	Manages     bool       // holds the access-management role (Tilgangsstyring) in the organisation read
	Delegations []Delegation
	At          time.Time
}

func hasAny(have, want []RoleCode) bool {
	return slices.ContainsFunc(have, func(r RoleCode) bool { return slices.Contains(want, r) })
}

func (v Viewer) delegated(org ident.Orgnr, r Right) bool {
	return slices.ContainsFunc(v.Delegations, func(d Delegation) bool {
		return d.Org == org && d.Right == r && d.To.Same(v.Party) && d.InForce(v.At)
	})
}

// HasKeyRole reports whether the viewer holds a key role (Post/Arkiv automatically).
func (v Viewer) HasKeyRole() bool { return v.Party.Kind == PartyPerson && hasAny(v.Roles, KeyRoles()) }

// Has reports whether the viewer holds right r over org's post now.
func (v Viewer) Has(org ident.Orgnr, r Right) bool {
	switch r {
	case RightPostArkiv:
		return v.HasKeyRole() || v.delegated(org, RightPostArkiv) || v.Has(org, RightConfidential)
	case RightConfidential:
		return (v.Party.Kind == PartyPerson && hasAny(v.Roles, ConfidentialKeyRoles())) || v.delegated(org, RightConfidential)
	case RightAccessManagement:
		return v.HasKeyRole() || v.Manages || v.delegated(org, RightAccessManagement)
	}
	return false
}

// Readable is what the reading decision needs of a correspondence.
type Readable struct {
	Recipient    ident.Orgnr
	Confidential bool
	Status       Status // current
}

// MayRead decides whether the viewer may read msg as org's post (Rule
// DPV-03). It is false for anything the recipient may not see yet (or any
// more), so the caller answers "not found", never "forbidden".
func MayRead(v Viewer, org ident.Orgnr, msg Readable) bool {
	if msg.Recipient != org || !msg.Status.VisibleToRecipient() {
		return false
	}
	if msg.Confidential {
		return v.Has(org, RightConfidential)
	}
	return v.Has(org, RightPostArkiv)
}

// MayDelegate says whether the viewer may delegate right r over org's post
// to party to, nil if so (Rule DPV-03, as in Altinn 2): only key role holders
// and holders of the access-management role; one who holds the
// access-management role without a key role may delegate only a right they
// hold themselves, and only a key role holder gives the access-management
// role; nobody delegates to themselves. Post/Arkiv goes to persons,
// enterprise users and other organisations (whose own readers then read it,
// Through); an organisation is given Post/Arkiv or confidential post, never
// the access-management role.
func MayDelegate(v Viewer, org ident.Orgnr, r Right, to Party) map[string]string {
	bad := map[string]string{}
	switch {
	case !v.Has(org, RightAccessManagement):
		bad["rett"] = "Bare de med nøkkelrolle eller rollen Tilgangsstyring kan gi tilgang til virksomhetens post."
	case r == RightAccessManagement && !v.HasKeyRole():
		bad["rett"] = "Bare de med nøkkelrolle kan gi rollen Tilgangsstyring."
	case r == RightConfidential && !v.Has(org, RightConfidential):
		bad["rett"] = "Du kan bare gi tilgang til taushetsbelagt post når du selv har den."
	case !v.HasKeyRole() && !v.Has(org, r):
		bad["rett"] = "Du kan bare gi en tilgang du selv har."
	}
	if !slices.Contains([]Right{RightPostArkiv, RightConfidential, RightAccessManagement}, r) {
		bad["rett"] = "Velg hvilken tilgang som skal gis."
	}
	switch to.Kind {
	case PartyPerson:
		if _, err := ident.ParsePerson(to.Person); err != nil && (to.Person != "" || to.User == "") {
			bad["mottaker"] = "Velg en av virksomhetens brukere."
		}
	case PartyEnterpriseUser:
		if _, err := ident.ParseOrgnr(string(to.Orgnr)); err != nil || to.Username == "" {
			bad["mottaker"] = "Oppgi virksomhetsbrukerens navn og virksomhet."
		}
	case PartyOrganisation:
		switch _, err := ident.ParseOrgnr(string(to.Orgnr)); {
		case err != nil:
			bad["mottaker"] = "Oppgi et gyldig organisasjonsnummer (9 siffer)."
		case to.Orgnr == org:
			bad["mottaker"] = "Virksomheten har allerede tilgang til sin egen post."
		case r == RightAccessManagement:
			bad["rett"] = "Rollen Tilgangsstyring gis til personer, ikke til en annen virksomhet."
		}
	default:
		bad["mottaker"] = "Velg hvem som skal få tilgang: en person, en virksomhetsbruker eller en annen virksomhet."
	}
	if to.Same(v.Party) {
		bad["mottaker"] = "Du kan ikke gi tilgang til deg selv."
	}
	return bad
}

// ConfidentialRecipientOK says whether an organisation whose registered
// roles are roles can receive confidential post (1044): someone must hold a
// key role that can read it, else it must get paper post.
func ConfidentialRecipientOK(roles []RoleCode) *Problem {
	if hasAny(roles, ConfidentialKeyRoles()) {
		return nil
	}
	return problem(CodeConfidentialNoKeyRole, "recipients",
		"Recipient lacks the roles required to receive confidential correspondence",
		"Mottakeren har ingen med nøkkelrolle som kan lese taushetsbelagt post.")
}
