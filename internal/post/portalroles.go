package post

import (
	"slices"
	"time"

	"deling/internal/governance"
)

// Rule DPV-03: where the key roles come from. deling's register import
// keeps no Enhetsregisteret role codes, so the portal's roles stand in for
// them, in this one place:
//
//   - governance.Rolleinnehaver — the organisation's daglig leder,
//     styreleder or innehaver as registered, the one who may sign (AA-01) —
//     is a key role holder: DAGL, which carries Post/Arkiv and confidential
//     post (and makes the organisation able to receive confidential post, 1044);
//   - governance.Administrator is the access-management role
//     (Tilgangsstyring): it may delegate Post/Arkiv but does not read by it;
//   - every other portal role reads post only by delegation.

// KeyRoleOfRoleHolder is the Enhetsregisteret role a portal role holder stands for.
const KeyRoleOfRoleHolder RoleCode = "DAGL"

// PortalRoles are the Enhetsregisteret roles and whether the access-management
// role is held, as the portal's memberships for org give them.
func PortalRoles(ms []governance.Membership, org string) (roles []RoleCode, manages bool) {
	if governance.Has(ms, org, governance.Rolleinnehaver) {
		roles = append(roles, KeyRoleOfRoleHolder)
	}
	return roles, governance.Has(ms, org, governance.Administrator)
}

// OrgRoles are the Enhetsregisteret roles someone holds in an organisation
// whose portal users hold roles (any user): what the 1044 check on
// confidential post asks of a recipient (ConfidentialRecipientOK).
func OrgRoles(roles []governance.Role) []RoleCode {
	if slices.Contains(roles, governance.Rolleinnehaver) {
		return []RoleCode{KeyRoleOfRoleHolder}
	}
	return nil
}

// PortalViewer is a portal user reading org's post: a person named by the
// account id, with the roles the memberships give and the delegations that
// name them.
func PortalViewer(userID string, ms []governance.Membership, org string, dels []Delegation, now time.Time) Viewer {
	roles, manages := PortalRoles(ms, org)
	return Viewer{Party: PortalPerson(userID), Roles: roles, Manages: manages, Delegations: dels, At: now}
}

// PortalPerson is a portal user as a party.
func PortalPerson(userID string) Party { return Party{Kind: PartyPerson, User: userID} }
