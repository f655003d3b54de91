package dpa

import (
	"errors"
	"fmt"
	"slices"

	"deling/internal/governance"
)

// An agreement has two levels of status. Status is the agreement's life:
// being negotiated, active, stopped (Rule DPA-11), ended (Rule DPA-10), its
// deletion confirmed. VersionStatus is where its newest version stands on
// its way to both signatures (Rule DPA-01): drafted by the controller's
// administrator, completed by the processor, signed by a role holder on each
// side in either order. A change to an active agreement is a new version
// that goes the same way while the signed one stays in force; when the new
// one is signed by both it replaces the old. The first version signed by
// both makes the agreement active.

// Status is where an agreement stands in its life.
type Status string

// Agreement statuses, in the order an agreement usually passes them.
const (
	StatusPending   Status = "under_arbeid"       // no version signed by both yet
	StatusActive    Status = "aktiv"              // in force: delegations may rest on it (Rule SK-04)
	StatusStopped   Status = "stanset"            // the controller ordered processing stopped (Rule DPA-11)
	StatusEnded     Status = "avsluttet"          // ended: the processor deletes or returns all data (Rule DPA-10)
	StatusDeleted   Status = "sletting_bekreftet" // the processor's deletion certificate is filed (Rule DPA-10)
	StatusDiscarded Status = "forkastet"          // dropped before it was ever signed by both
)

// Statuses lists every agreement status in order.
func Statuses() []Status {
	return []Status{StatusPending, StatusActive, StatusStopped, StatusEnded, StatusDeleted, StatusDiscarded}
}

// ParseStatus accepts an agreement status name.
func ParseStatus(s string) (Status, error) {
	if st := Status(s); slices.Contains(Statuses(), st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown agreement status %q", s)
}

// Label is the status in the portal.
func (s Status) Label() string {
	switch s {
	case StatusPending:
		return "Under arbeid – ikke inngått"
	case StatusActive:
		return "Aktiv"
	case StatusStopped:
		return "Stanset av behandlingsansvarlig"
	case StatusEnded:
		return "Avsluttet – sletting pågår"
	case StatusDeleted:
		return "Avsluttet – sletting bekreftet"
	case StatusDiscarded:
		return "Forkastet"
	}
	return string(s)
}

// Live reports whether the agreement's versions may still change: it is
// negotiated, active or stopped.
func (s Status) Live() bool { return s == StatusPending || s == StatusActive || s == StatusStopped }

// VersionStatus is where a version stands on its way to both signatures.
type VersionStatus string

// Version statuses.
const (
	VersionDraft            VersionStatus = "utkast"                       // the controller's administrator writes it
	VersionWithProcessor    VersionStatus = "hos_databehandler"            // the processor completes annex 2 and proposes annex 3
	VersionToSign           VersionStatus = "til_signering"                // complete; waiting for both role holders
	VersionSignedController VersionStatus = "signert_behandlingsansvarlig" // the controller's role holder signed
	VersionSignedProcessor  VersionStatus = "signert_databehandler"        // the processor's role holder signed
	VersionSigned           VersionStatus = "signert"                      // signed by both: in force, or was
	VersionSuperseded       VersionStatus = "erstattet"                    // a newer version signed by both replaced it
	VersionDiscarded        VersionStatus = "forkastet"                    // dropped before both signed
)

// VersionStatuses lists every version status in order.
func VersionStatuses() []VersionStatus {
	return []VersionStatus{VersionDraft, VersionWithProcessor, VersionToSign, VersionSignedController,
		VersionSignedProcessor, VersionSigned, VersionSuperseded, VersionDiscarded}
}

// ParseVersionStatus accepts a version status name.
func ParseVersionStatus(s string) (VersionStatus, error) {
	if st := VersionStatus(s); slices.Contains(VersionStatuses(), st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown version status %q", s)
}

// Label is the version status in the portal.
func (s VersionStatus) Label() string {
	switch s {
	case VersionDraft:
		return "Utkast hos behandlingsansvarlig"
	case VersionWithProcessor:
		return "Til utfylling hos databehandler"
	case VersionToSign:
		return "Til signering"
	case VersionSignedController:
		return "Signert av behandlingsansvarlig – venter på databehandler"
	case VersionSignedProcessor:
		return "Signert av databehandler – venter på behandlingsansvarlig"
	case VersionSigned:
		return "Signert av begge parter"
	case VersionSuperseded:
		return "Erstattet av ny versjon"
	case VersionDiscarded:
		return "Forkastet"
	}
	return string(s)
}

// Pending reports whether the version is on its way to both signatures.
func (s VersionStatus) Pending() bool {
	return s == VersionDraft || s == VersionWithProcessor || s == VersionToSign ||
		s == VersionSignedController || s == VersionSignedProcessor
}

// State is an agreement's status and its newest version's.
type State struct {
	Agreement Status
	Version   VersionStatus
}

// Side is a party to an agreement, or the register that oversees them.
type Side string

// Sides.
const (
	Controller Side = "behandlingsansvarlig" // the consumer organisation
	Processor  Side = "databehandler"        // the data processor
	Register   Side = "register"             // the register authority's staff: they read, never act
)

// Label is the side in the portal.
func (s Side) Label() string {
	switch s {
	case Controller:
		return "Behandlingsansvarlig"
	case Processor:
		return "Databehandler"
	case Register:
		return "Registerforvalter"
	}
	return string(s)
}

// Hat is a role held on one side of an agreement: the controller's
// administrator, the processor's role holder, …
type Hat struct {
	Side Side
	Role governance.Role
}

// The hats that take steps.
var (
	ControllerAdmin      = Hat{Controller, governance.Administrator}
	ControllerRoleHolder = Hat{Controller, governance.Rolleinnehaver}
	ProcessorStaff       = Hat{Processor, governance.Databehandler}
	ProcessorRoleHolder  = Hat{Processor, governance.Rolleinnehaver}
	RegisterCaseWorker   = Hat{Register, governance.Saksbehandler}
)

// Step is something someone does to an agreement.
type Step string

// Steps.
const (
	StepSave            Step = "lagre"                  // controller: create or change the draft
	StepSend            Step = "send_til_databehandler" // controller: to the processor to complete
	StepProcessorSave   Step = "lagre_databehandler"    // processor: annex 2 and the proposed annex 3
	StepReturn          Step = "returner"               // processor: back to the controller with a note
	StepComplete        Step = "fullfor"                // processor: complete, ready for signatures
	StepReopen          Step = "gjenaapne"              // controller: back to the draft; signatures lapse
	StepRevise          Step = "revider"                // processor: back to annex 2; signatures lapse
	StepSignController  Step = "signer_behandlingsansvarlig"
	StepSignProcessor   Step = "signer_databehandler"
	StepAmend           Step = "endre"            // controller: a new version of a signed agreement
	StepDiscard         Step = "forkast"          // controller: drop the unsigned newest version
	StepStop            Step = "stans"            // controller: stop processing at once (Rule DPA-11)
	StepResume          Step = "gjenoppta"        // controller: a new decision to resume (Rule DPA-11)
	StepEnd             Step = "avslutt"          // either party: the agreement ends (Rule DPA-10)
	StepConfirmDeletion Step = "bekreft_sletting" // processor's role holder: the certificate (Rule DPA-10)
)

// Steps lists every step in the order the portal shows buttons.
func Steps() []Step {
	return []Step{StepSave, StepSend, StepProcessorSave, StepReturn, StepComplete, StepReopen, StepRevise,
		StepSignController, StepSignProcessor, StepAmend, StepDiscard, StepStop, StepResume, StepEnd, StepConfirmDeletion}
}

// Label is the step as the history shows it.
func (s Step) Label() string {
	switch s {
	case StepSave:
		return "Utkast lagret"
	case StepSend:
		return "Sendt til databehandler"
	case StepProcessorSave:
		return "Databehandler lagret sine opplysninger"
	case StepReturn:
		return "Returnert til behandlingsansvarlig"
	case StepComplete:
		return "Fullført av databehandler – klar til signering"
	case StepReopen:
		return "Åpnet igjen av behandlingsansvarlig"
	case StepRevise:
		return "Åpnet igjen av databehandler"
	case StepSignController:
		return "Signert av behandlingsansvarlig"
	case StepSignProcessor:
		return "Signert av databehandler"
	case StepAmend:
		return "Ny versjon påbegynt"
	case StepDiscard:
		return "Versjonen forkastet"
	case StepStop:
		return "Pålegg om stans av behandlingen"
	case StepResume:
		return "Behandlingen gjenopptatt etter ny beslutning"
	case StepEnd:
		return "Avtalen avsluttet"
	case StepConfirmDeletion:
		return "Sletting bekreftet"
	}
	return string(s)
}

// stepHats is who may take each step. The controller's people draft,
// reopen, amend, stop and resume; the processor's staff complete; each
// side's role holder signs for that side only (Rule DPA-01); either side's
// people may end (the processor only by its role holder); only the
// processor's role holder certifies deletion (Rule DPA-10). The register's
// case workers take no step: they read.
var stepHats = map[Step][]Hat{
	StepSave:            {ControllerAdmin, ControllerRoleHolder},
	StepSend:            {ControllerAdmin, ControllerRoleHolder},
	StepReopen:          {ControllerAdmin, ControllerRoleHolder},
	StepAmend:           {ControllerAdmin, ControllerRoleHolder},
	StepDiscard:         {ControllerAdmin, ControllerRoleHolder},
	StepProcessorSave:   {ProcessorStaff, ProcessorRoleHolder},
	StepReturn:          {ProcessorStaff, ProcessorRoleHolder},
	StepComplete:        {ProcessorStaff, ProcessorRoleHolder},
	StepRevise:          {ProcessorStaff, ProcessorRoleHolder},
	StepSignController:  {ControllerRoleHolder},
	StepSignProcessor:   {ProcessorRoleHolder},
	StepStop:            {ControllerAdmin, ControllerRoleHolder},
	StepResume:          {ControllerAdmin, ControllerRoleHolder},
	StepEnd:             {ControllerAdmin, ControllerRoleHolder, ProcessorRoleHolder},
	StepConfirmDeletion: {ProcessorRoleHolder},
}

// versionNext moves the newest version: by step, from, to. StepSave from ""
// creates the agreement; StepAmend from a signed (or discarded) newest
// version starts a new one.
var versionNext = map[Step]map[VersionStatus]VersionStatus{
	StepSave:          {"": VersionDraft, VersionDraft: VersionDraft},
	StepSend:          {VersionDraft: VersionWithProcessor},
	StepProcessorSave: {VersionWithProcessor: VersionWithProcessor},
	StepReturn:        {VersionWithProcessor: VersionDraft},
	StepComplete:      {VersionWithProcessor: VersionToSign},
	StepReopen:        {VersionToSign: VersionDraft, VersionSignedController: VersionDraft, VersionSignedProcessor: VersionDraft},
	StepRevise: {VersionToSign: VersionWithProcessor, VersionSignedController: VersionWithProcessor,
		VersionSignedProcessor: VersionWithProcessor},
	StepSignController: {VersionToSign: VersionSignedController, VersionSignedProcessor: VersionSigned},
	StepSignProcessor:  {VersionToSign: VersionSignedProcessor, VersionSignedController: VersionSigned},
	StepAmend:          {VersionSigned: VersionDraft, VersionDiscarded: VersionDraft},
	StepDiscard: {VersionDraft: VersionDiscarded, VersionWithProcessor: VersionDiscarded, VersionToSign: VersionDiscarded,
		VersionSignedController: VersionDiscarded, VersionSignedProcessor: VersionDiscarded},
}

// agreementNext moves the agreement by the steps that act on it as a whole.
var agreementNext = map[Step]map[Status]Status{
	StepStop:            {StatusActive: StatusStopped},
	StepResume:          {StatusStopped: StatusActive},
	StepEnd:             {StatusActive: StatusEnded, StatusStopped: StatusEnded},
	StepConfirmDeletion: {StatusEnded: StatusDeleted},
}

// Errors of Transition.
var (
	ErrWrongStatus = errors.New("the step is not possible in the agreement's status")
	ErrNotYourStep = errors.New("the role may not take this step")
	// ErrBothParties is separation of parties: nobody acts for one side of
	// an agreement while holding a role on the other, nor signs both sides.
	// It is an ErrNotYourStep.
	ErrBothParties = fmt.Errorf("separation of parties: %w", ErrNotYourStep)
)

// Next is the state step leads to from from, whoever takes it; ok is false when the step is not possible there.
func Next(from State, step Step) (to State, ok bool) {
	if m, isAgreementStep := agreementNext[step]; isAgreementStep {
		to.Agreement, ok = m[from.Agreement]
		to.Version = from.Version
		return to, ok
	}
	v, ok := versionNext[step][from.Version]
	if !ok {
		return State{}, false
	}
	switch {
	case step == StepSave && from.Version == "":
		// Only a new agreement has no version.
		if from.Agreement != "" {
			return State{}, false
		}
		return State{Agreement: StatusPending, Version: v}, true
	case step == StepAmend:
		// A new version only of an agreement in force, stopped or not.
		if from.Agreement != StatusActive && from.Agreement != StatusStopped {
			return State{}, false
		}
	case !from.Agreement.Live():
		return State{}, false
	}
	to = State{Agreement: from.Agreement, Version: v}
	switch {
	case v == VersionSigned && from.Agreement == StatusPending:
		// The first version signed by both makes the agreement active. A
		// later one leaves a stopped agreement stopped: only the
		// controller's decision resumes it (Rule DPA-11).
		to.Agreement = StatusActive
	case v == VersionDiscarded && from.Agreement == StatusPending:
		to.Agreement = StatusDiscarded
	}
	return to, true
}

// Transition is the state an agreement moves to when someone wearing hat
// takes step in state from. It fails with ErrNotYourStep when the hat may
// not take the step, and ErrWrongStatus when the step is not possible now.
func Transition(from State, step Step, hat Hat) (State, error) {
	if !slices.Contains(stepHats[step], hat) {
		return State{}, fmt.Errorf("%s %s may not %s: %w", hat.Side, hat.Role, step, ErrNotYourStep)
	}
	to, ok := Next(from, step)
	if !ok {
		return State{}, fmt.Errorf("%s in status %q/%q: %w", step, from.Agreement, from.Version, ErrWrongStatus)
	}
	return to, nil
}

// Hats are the hats memberships give on the agreement between controller
// and processor (orgnrs): roles held for the controller's organisation are
// worn on its side, roles for the processor's on the other, the register's
// case workers on the register's.
func Hats(ms []governance.Membership, controller, processor string) []Hat {
	var out []Hat
	for _, m := range ms {
		var h Hat
		switch {
		case m.Org == governance.AuthorityOrg && m.Role.ForAuthority():
			h = Hat{Register, m.Role}
		case m.Org != "" && m.Org == controller && m.Role.ForOrganisation():
			h = Hat{Controller, m.Role}
		case m.Org != "" && m.Org == processor && m.Role.ForOrganisation():
			h = Hat{Processor, m.Role}
		default:
			continue
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// bothParties reports whether hats are worn on both sides of the agreement.
func bothParties(hats []Hat) bool {
	return slices.ContainsFunc(hats, func(h Hat) bool { return h.Side == Controller }) &&
		slices.ContainsFunc(hats, func(h Hat) bool { return h.Side == Processor })
}

// TransitionOn is Transition for agreement a by actor (as the log names
// people, "user:<id>") holding ms, with separation of parties: someone
// holding a role on both sides of a may take no party's step, and nobody
// signs a version for one side when they signed it for the other; both fail
// with ErrBothParties. The page that shows a step's button and the handler
// that takes it both ask this, so they agree. What the step needs from the
// content (a complete annex, a certificate) is Ready's.
func TransitionOn(a *Agreement, step Step, actor string, ms []governance.Membership) (State, error) {
	hats := Hats(ms, a.Controller, a.Processor)
	if bothParties(hats) {
		return State{}, fmt.Errorf("%s on the agreement between %s and %s: %w", step, a.Controller, a.Processor, ErrBothParties)
	}
	if v := a.Newest(); v != nil && actor != "" {
		if (step == StepSignController && v.ProcessorSig != nil && v.ProcessorSig.Actor == actor) ||
			(step == StepSignProcessor && v.ControllerSig != nil && v.ControllerSig.Actor == actor) {
			return State{}, fmt.Errorf("%s: signed the other side: %w", step, ErrBothParties)
		}
	}
	from := a.State()
	err := fmt.Errorf("%s: %w", step, ErrNotYourStep)
	for _, h := range hats {
		if slices.Contains(stepHats[step], h) {
			return Transition(from, step, h)
		}
	}
	return State{}, err
}

// MayOn reports whether actor, holding ms, may take step on a now (TransitionOn).
func MayOn(a *Agreement, step Step, actor string, ms []governance.Membership) bool {
	_, err := TransitionOn(a, step, actor, ms)
	return err == nil
}

// StepsOn is what actor, holding ms, may do to a now, in Steps' order: the portal's buttons.
func StepsOn(a *Agreement, actor string, ms []governance.Membership) []Step {
	var out []Step
	for _, s := range Steps() {
		if MayOn(a, s, actor, ms) {
			out = append(out, s)
		}
	}
	return out
}

// CanSee reports whether someone holding ms may see agreement a: the
// people of either party, and the register's case workers and data
// protection officer, who oversee the agreements delegations rest on. A
// caller that gets false answers "not found" (never reveal what exists).
func CanSee(a *Agreement, ms []governance.Membership) bool {
	return slices.ContainsFunc(Hats(ms, a.Controller, a.Processor), func(h Hat) bool {
		return h.Side != Register || h.Role == governance.Saksbehandler || h.Role == governance.Personvernombud
	})
}
