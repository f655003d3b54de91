package post

import (
	"slices"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
)

// Rule DPV-03: where the key roles come from. A portal user's
// Enhetsregisteret roles in an organisation are recorded as role codes
// (store.SetPostRoleCodes: the register's staff or the demo, never the
// organisation's own users); a holder of one of KeyRoles reads Post/Arkiv,
// of one of ConfidentialKeyRoles confidential post too.
//
// A portal role holder (governance.Rolleinnehaver: the daglig leder,
// styreleder or innehaver as registered, the one who may sign, AA-01)
// stands for DAGL only on a link that predates the role codes: one that
// existed when migration 00027 ran and for which nothing has been recorded
// since (store: er_role_legacy), so that an upgrade cuts no reader off.
// Recording codes for such a link — none too — ends the stand-in, and a
// role holder made afterwards (invited by another role holder, say) holds
// the key roles their recorded codes give and nothing else: a role holder
// cannot make someone a key role holder (review finding 3). The codes are
// Enhetsregisteret's facts and count whatever the portal role; they go when
// the user's last role in the organisation ends or the account is closed.
//
// governance.Administrator is the access-management role (Tilgangsstyring):
// it may delegate Post/Arkiv but does not read by it. Every other portal
// role reads post only by delegation.

// KeyRoleOfRoleHolder is the Enhetsregisteret role a portal role holder
// stands for on a link that predates the role codes.
const KeyRoleOfRoleHolder RoleCode = "DAGL"

// roleNames are the Enhetsregisteret role codes deling records, with their
// names: the key roles of KeyRoles and common other roles (which carry no
// post). The names of KEMN, KOMK and PRIV follow Altinn's list of roles that
// get Post/Arkiv (research §4.3), not brreg's code list, which was not at hand.
var roleNames = map[RoleCode]string{
	"BEST": "Bestyrende reder", "BOBE": "Bostyrer", "DAGL": "Daglig leder",
	"DTPR": "Deltaker med proratarisk ansvar (delt ansvar)", "DTSO": "Deltaker med solidarisk ansvar (fullt ansvar)",
	"INNH": "Innehaver", "KEMN": "Kontaktperson i kommune", "KOMK": "Kontaktperson i kommune",
	"KOMP": "Komplementar", "LEDE": "Styrets leder", "PRIV": "Kontaktperson ADOS",
	"REPR": "Norsk representant for utenlandsk enhet", "SAM": "Sameier",
	"MEDL": "Styremedlem", "NEST": "Nestleder", "VARA": "Varamedlem", "REGN": "Regnskapsfører",
	"REVI": "Revisor", "KONT": "Kontaktperson", "OBS": "Observatør", "FFØR": "Forretningsfører",
}

// ParseRoleCode accepts an Enhetsregisteret role code deling knows.
func ParseRoleCode(s string) (RoleCode, bool) {
	_, ok := roleNames[RoleCode(s)]
	return RoleCode(s), ok
}

// Label is the role's name in Enhetsregisteret (Norwegian).
func (c RoleCode) Label() string {
	if n, ok := roleNames[c]; ok {
		return n
	}
	return string(c)
}

// PortalRoles are the Enhetsregisteret roles someone holds in org — the
// recorded codes, or DAGL for a role holder whose link predates the codes
// (standIn) — and whether they hold the access-management role, as the
// portal's memberships for org give it.
func PortalRoles(ms []governance.Membership, org string, codes []RoleCode, standIn bool) (roles []RoleCode, manages bool) {
	roles = codes
	if len(roles) == 0 && standIn && governance.Has(ms, org, governance.Rolleinnehaver) {
		roles = []RoleCode{KeyRoleOfRoleHolder}
	}
	return roles, governance.Has(ms, org, governance.Administrator)
}

// PortalViewer is a portal user reading org's post: a person named by the
// account id, with the roles that the role codes, the stand-in and
// memberships give (PortalRoles) and the delegations that name them.
func PortalViewer(userID string, ms []governance.Membership, org string, codes []RoleCode, standIn bool, dels []Delegation, now time.Time) Viewer {
	roles, manages := PortalRoles(ms, org, codes, standIn)
	return Viewer{Party: PortalPerson(userID), Roles: roles, Manages: manages, Delegations: dels, At: now}
}

// PortalPerson is a portal user as a party.
func PortalPerson(userID string) Party { return Party{Kind: PartyPerson, User: userID} }

// Through is the viewer as a reader of org's post by the delegations that
// org gave to the organisation home, which the viewer reads post for (an
// accountant's people reading a client's post): a right over org's post
// that org gave to home, and that the viewer holds over home's own post
// (Rule DPV-03). It goes one step only: a delegation home gave onward to a
// third organisation does not pass org's post on, and the access-management
// role is never given to an organisation.
func Through(home Viewer, homeOrg, org ident.Orgnr, dels []Delegation) Viewer {
	out := Viewer{Party: home.Party, At: home.At}
	if homeOrg == org {
		return out
	}
	for _, d := range dels {
		if d.Org == org && d.To.Kind == PartyOrganisation && d.To.Orgnr == homeOrg && d.InForce(home.At) &&
			d.Right != RightAccessManagement && home.Has(homeOrg, d.Right) {
			d.To = home.Party
			out.Delegations = append(out.Delegations, d)
		}
	}
	return out
}

// OrgsThrough are the organisations whose post a viewer of home's post may
// read by their delegations to home (Through), each once, in order.
func OrgsThrough(home Viewer, homeOrg ident.Orgnr, dels []Delegation) []ident.Orgnr {
	var out []ident.Orgnr
	for _, d := range dels {
		if !slices.Contains(out, d.Org) && Through(home, homeOrg, d.Org, dels).Has(d.Org, RightPostArkiv) {
			out = append(out, d.Org)
		}
	}
	slices.Sort(out)
	return out
}
