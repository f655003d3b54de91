package incident

import (
	"errors"
	"fmt"
	"slices"
)

// Status is where a breach case stands. The decision is part of the status
// (notify or not) so that the transition table alone says what may follow.
type Status string

// Statuses, in the order a case usually passes them.
const (
	StatusReported        Status = "meldt"                // reported, not yet taken (Rule AV-01)
	StatusAssessing       Status = "under_vurdering"      // a case worker assesses the risk (Rule AV-04)
	StatusDecidedNotify   Status = "besluttet_melde"      // decided: Datatilsynet is to be notified (Rule AV-05)
	StatusDecidedNoNotify Status = "besluttet_ikke_melde" // decided with a written reason not to notify (Rule AV-04)
	StatusNotified        Status = "meldt_datatilsynet"   // the initial notice is filed; supplements may follow
	StatusClosed          Status = "lukket"               // handled; the learning follow-up runs (Rule AV-08)
	StatusFollowedUp      Status = "oppfolging_fullfort"  // every follow-up item is done
)

// Statuses lists every status in order.
func Statuses() []Status {
	return []Status{StatusReported, StatusAssessing, StatusDecidedNotify, StatusDecidedNoNotify,
		StatusNotified, StatusClosed, StatusFollowedUp}
}

// ParseStatus accepts a status name.
func ParseStatus(s string) (Status, error) {
	if st := Status(s); slices.Contains(Statuses(), st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown breach status %q", s)
}

// Label is the status in the portal.
func (s Status) Label() string {
	switch s {
	case StatusReported:
		return "Meldt"
	case StatusAssessing:
		return "Under vurdering"
	case StatusDecidedNotify:
		return "Besluttet: meldes til Datatilsynet"
	case StatusDecidedNoNotify:
		return "Besluttet: meldes ikke"
	case StatusNotified:
		return "Meldt til Datatilsynet"
	case StatusClosed:
		return "Lukket – oppfølging pågår"
	case StatusFollowedUp:
		return "Oppfølging fullført"
	}
	return string(s)
}

// Open reports whether the Datatilsynet clock still matters: the case is
// not yet notified nor decided against notifying (Rule AV-05).
func (s Status) Open() bool {
	return s == StatusReported || s == StatusAssessing || s == StatusDecidedNotify
}

// Step is something someone does to a breach case.
type Step string

// Steps.
const (
	StepReport         Step = "meld"                 // anyone: the report (Rule AV-01)
	StepAssess         Step = "vurder"               // staff: take the case and assess (Rule AV-04)
	StepDecideNotify   Step = "besluttet_melde"      // staff: notify Datatilsynet (Rule AV-05)
	StepDecideNoNotif  Step = "besluttet_ikke_melde" // staff: not notify, with a written reason (Rule AV-04)
	StepReconsider     Step = "vurder_paa_nytt"      // staff: new facts reopen a decision not to notify
	StepFileInitial    Step = "send_forste_melding"  // staff: the initial notice (Rules AV-05, DPA-08)
	StepFileSupplement Step = "send_tilleggsmelding" // staff: a supplement (art. 33(4))
	StepClose          Step = "lukk"                 // staff: handled (Rule AV-07)
	StepFollowUpDone   Step = "oppfolging_fullfort"  // staff: every learning item done (Rule AV-08)
)

// Errors of Transition.
var (
	ErrWrongStatus = errors.New("the step is not possible in the case's status")
	ErrNotYourStep = errors.New("the actor may not take this step")
)

// next is the state machine: by step, from status, to status.
var next = map[Step]map[Status]Status{
	StepReport:         {"": StatusReported},
	StepAssess:         {StatusReported: StatusAssessing},
	StepDecideNotify:   {StatusAssessing: StatusDecidedNotify},
	StepDecideNoNotif:  {StatusAssessing: StatusDecidedNoNotify},
	StepReconsider:     {StatusDecidedNoNotify: StatusAssessing},
	StepFileInitial:    {StatusDecidedNotify: StatusNotified},
	StepFileSupplement: {StatusNotified: StatusNotified},
	StepClose:          {StatusDecidedNoNotify: StatusClosed, StatusNotified: StatusClosed},
	StepFollowUpDone:   {StatusClosed: StatusFollowedUp},
}

// Next is the status step leads to from status; ok is false when the step is not possible there.
func Next(from Status, step Step) (to Status, ok bool) {
	to, ok = next[step][from]
	return to, ok
}

// Transition is the status a case moves to when actor takes step in status
// from. Only the register's staff move a case past the report; a reporter's
// organisation never decides or files for the register (Rule DPA-08).
func Transition(from Status, step Step, actor Actor) (Status, error) {
	if !mayTake(actor, step) {
		return "", fmt.Errorf("%s may not %s: %w", actor.Role, step, ErrNotYourStep)
	}
	to, ok := Next(from, step)
	if !ok {
		return "", fmt.Errorf("%s in status %q: %w", step, from, ErrWrongStatus)
	}
	return to, nil
}

// Steps is what actor may do to a case in status from, in the table's order, for the portal's buttons.
func Steps(from Status, actor Actor) []Step {
	var out []Step
	for _, s := range []Step{StepAssess, StepDecideNotify, StepDecideNoNotif, StepReconsider,
		StepFileInitial, StepFileSupplement, StepClose, StepFollowUpDone} {
		if _, err := Transition(from, s, actor); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// CanSee reports whether viewer may see a case reported by reporter. The
// register's staff see every case; anyone else sees the reports they made
// and their own organisation's. A caller that gets false answers "not
// found", never "forbidden" (house rule: never reveal what exists).
func CanSee(viewer, reporter Actor) bool {
	switch {
	case viewer.Staff():
		return true
	case viewer.UserID != "" && viewer.UserID == reporter.UserID:
		return true
	case viewer.Org != "" && viewer.Org != ControllerOrg && viewer.Org == reporter.Org:
		return true
	}
	return false
}

// CanSeeAsController reports whether a viewer acting for org as its
// administrator or role holder may see a case reported as r: a processor's
// report under an agreement where org is the controller (Rule DPA-07).
func CanSeeAsController(org string, controllerRole bool, r Report) bool {
	return controllerRole && org != "" && org != ControllerOrg && r.Controller == org
}
