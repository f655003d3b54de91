package incident

import "slices"

// Role is what someone acting on a case is. The register's two roles have
// the same values as governance.Saksbehandler and governance.Personvernombud
// so that the portal converts a membership without a table; this package
// does not import governance, which sits beside it in the domain layer.
type Role string

// Roles.
const (
	CaseWorker Role = "saksbehandler"   // the register's case worker: handles breaches and incidents
	DPO        Role = "personvernombud" // the register's data protection officer (Rule AA-21)
	// Reporter is anyone else who reports: a consumer's or a processor's
	// staff, or a member of the public through the open form (Rule AV-01).
	Reporter Role = "melder"
)

// ControllerOrg is the organisation the register's staff act for: the
// controller (behandlingsansvarlig). Same value as governance.AuthorityOrg.
const ControllerOrg = "register"

// Actor is who takes a step: a user acting for an organisation in a role.
type Actor struct {
	UserID string // "" for an anonymous report from the public form
	Org    string // orgnr, ControllerOrg, or "" for a private person
	Role   Role
	Name   string // as shown in the case's history
}

// Staff reports whether the actor handles cases for the register: a case
// worker or the data protection officer, acting for the controller.
func (a Actor) Staff() bool {
	return a.Org == ControllerOrg && (a.Role == CaseWorker || a.Role == DPO)
}

// stepRoles says who may take each step; StepReport is open to everyone (Rule AV-01).
var stepRoles = map[Step][]Role{
	StepReport:         {Reporter, CaseWorker, DPO},
	StepAssess:         {CaseWorker, DPO},
	StepDecideNotify:   {CaseWorker, DPO},
	StepDecideNoNotif:  {CaseWorker, DPO},
	StepReconsider:     {CaseWorker, DPO},
	StepFileInitial:    {CaseWorker, DPO},
	StepFileSupplement: {CaseWorker, DPO},
	StepClose:          {CaseWorker, DPO},
	StepFollowUpDone:   {CaseWorker, DPO},
}

// mayTake reports whether the actor may take the step: the register's steps
// only by its staff acting for the controller, never by a reporter's
// organisation holding a role of the same name.
func mayTake(a Actor, step Step) bool {
	roles := stepRoles[step]
	if step == StepReport {
		return slices.Contains(roles, a.Role)
	}
	return a.Staff() && slices.Contains(roles, a.Role)
}
