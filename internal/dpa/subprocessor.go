package dpa

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/register"
)

// A sub-processor joins only with the controller's prior written approval
// (Rule DPA-05; template § 8). Before an agreement is first signed, the
// processor lists its sub-processors in the version's annex 3 and the
// controller's signature approves them. Once it is in force, the processor
// proposes each new one here; nothing changes until the controller approves
// it in the portal, and a refused or pending one stays visible. Annex 3 at
// any date is what was approved then (Annex3At).

// SubStatus is where a proposed sub-processor stands.
type SubStatus string

// Sub-processor statuses.
const (
	SubProposed SubStatus = "foreslatt" // proposed by the processor; no effect yet
	SubApproved SubStatus = "godkjent"  // approved in writing by the controller
	SubRefused  SubStatus = "avslatt"   // refused by the controller, with reasons
	SubRemoved  SubStatus = "fjernet"   // withdrawn by the processor or revoked by the controller
)

// Label is the status in the portal.
func (s SubStatus) Label() string {
	switch s {
	case SubProposed:
		return "Foreslått – venter på godkjenning"
	case SubApproved:
		return "Godkjent"
	case SubRefused:
		return "Avslått"
	case SubRemoved:
		return "Fjernet"
	}
	return string(s)
}

// SubStep is something someone does to a proposed sub-processor.
type SubStep string

// Sub-processor steps.
const (
	SubStepPropose SubStep = "foreslaa" // processor
	SubStepApprove SubStep = "godkjenn" // controller, in writing (Rule DPA-05)
	SubStepRefuse  SubStep = "avslaa"   // controller, with reasons
	SubStepRemove  SubStep = "fjern"    // either party: withdraw a proposal, or end an approval
)

// Label is the step as the agreement's history shows it.
func (s SubStep) Label() string {
	switch s {
	case SubStepPropose:
		return "Foreslått"
	case SubStepApprove:
		return "Godkjent skriftlig"
	case SubStepRefuse:
		return "Avslått"
	case SubStepRemove:
		return "Fjernet"
	}
	return string(s)
}

var subNext = map[SubStep]map[SubStatus]SubStatus{
	SubStepPropose: {"": SubProposed},
	SubStepApprove: {SubProposed: SubApproved},
	SubStepRefuse:  {SubProposed: SubRefused},
	SubStepRemove:  {SubProposed: SubRemoved, SubApproved: SubRemoved},
}

var subHats = map[SubStep][]Hat{
	SubStepPropose: {ProcessorStaff, ProcessorRoleHolder},
	SubStepApprove: {ControllerAdmin, ControllerRoleHolder},
	SubStepRefuse:  {ControllerAdmin, ControllerRoleHolder},
	SubStepRemove:  {ControllerAdmin, ControllerRoleHolder, ProcessorStaff, ProcessorRoleHolder},
}

// SubProcessor is a sub-processor proposed after the agreement came into force.
type SubProcessor struct {
	ID          string
	AgreementID string
	Entry       SubProcessorEntry
	Status      SubStatus
	ProposedBy  string // actor
	ProposedAt  time.Time
	// Transfer is the controller's instruction given with the approval when
	// the sub-processor works outside the EU/EEA (Rule DPA-06).
	Transfer       *Transfer
	ApprovedBy     string
	ApprovedByName string
	ApprovedAt     time.Time
	RefusedBy      string
	RefusedAt      time.Time
	Reason         string // the refusal's reasons
	RemovedBy      string
	RemovedAt      time.Time
}

// approvedAt reports whether s was approved at t and not yet removed.
func (s *SubProcessor) approvedAt(t time.Time) bool {
	return !s.ApprovedAt.IsZero() && !s.ApprovedAt.After(t) && (s.RemovedAt.IsZero() || s.RemovedAt.After(t))
}

// TransitionSub is the status a proposal moves to when someone holding ms
// takes step on it under agreement a: only while a is active or stopped,
// only by the hats allowed, and never by someone holding a role on both
// sides (ErrBothParties), so the processor never approves its own proposal.
func TransitionSub(a *Agreement, s *SubProcessor, step SubStep, ms []governance.Membership) (SubStatus, error) {
	hats := Hats(ms, a.Controller, a.Processor)
	if bothParties(hats) {
		return "", fmt.Errorf("%s: %w", step, ErrBothParties)
	}
	if !slices.ContainsFunc(hats, func(h Hat) bool { return slices.Contains(subHats[step], h) }) {
		return "", fmt.Errorf("%s: %w", step, ErrNotYourStep)
	}
	if a.Status != StatusActive && a.Status != StatusStopped {
		return "", fmt.Errorf("%s on an agreement %s: %w", step, a.Status, ErrWrongStatus)
	}
	to, ok := subNext[step][s.Status]
	if !ok {
		return "", fmt.Errorf("%s on a sub-processor %q: %w", step, s.Status, ErrWrongStatus)
	}
	return to, nil
}

// Validate lists what is wrong with a proposal, by form field, in Norwegian.
func (s *SubProcessor) Validate(env register.Env) map[string]string {
	e := &s.Entry
	e.Navn, e.Orgnr, e.ForeignID, e.Task = clean(e.Navn), clean(e.Orgnr), clean(e.ForeignID), clean(e.Task)
	e.Country = country(e.Country)
	bad := e.validate(env)
	for field, v := range map[string]string{FieldSubName: e.Navn, FieldSubOrgnr: e.Orgnr + e.ForeignID} {
		if tooLong(v, maxShort) {
			bad[field] = tooLongMsg(maxShort)
		}
	}
	if tooLong(e.Task, maxLong) {
		bad[FieldSubTask] = tooLongMsg(maxLong)
	}
	return bad
}

// ReadyToApprove says what keeps the controller from approving s under a
// at now, by form field, in Norwegian: a valid proposal, not one already
// approved, and outside the EU/EEA the controller's instruction naming its
// country and basis — given with the approval, or carried by the version in
// force (Rules DPA-05, DPA-06).
func ReadyToApprove(a *Agreement, subs []SubProcessor, s *SubProcessor, env register.Env, now time.Time) map[string]string {
	bad := s.Validate(env)
	for _, e := range Annex3At(a, subs, now) {
		if e.Entry.Key() == s.Entry.Key() {
			bad[FieldSubName] = "Underdatabehandleren er allerede godkjent."
		}
	}
	ts := TransfersAt(a, subs, now)
	if s.Transfer != nil {
		for field, msg := range s.Transfer.Validate() {
			bad[field] = msg
		}
		if !s.Transfer.names(s.Entry.Country, s.Entry.Navn) {
			bad[FieldTransferCountry] = "Instruksen må gjelde underdatabehandlerens land og navn."
		}
		ts = append(ts, *s.Transfer)
	}
	if _, ok := bad[FieldSubCountry]; !ok {
		if msg := CheckTransfer(s.Entry.Country, s.Entry.Navn, ts); msg != "" {
			bad[FieldSubCountry] = msg
		}
	}
	return bad
}

// CheckRefusal says what a refusal lacks, or "": its reasons in writing.
func CheckRefusal(reason string) map[string]string {
	if strings.TrimSpace(reason) == "" {
		return map[string]string{FieldSubReason: "Skriv begrunnelsen for avslaget."}
	}
	if tooLong(reason, maxLong) {
		return map[string]string{FieldSubReason: tooLongMsg(maxLong)}
	}
	return nil
}

// Annex3Item is one approved sub-processor in annex 3 as of a date.
type Annex3Item struct {
	Entry      SubProcessorEntry
	ApprovedAt time.Time // when the controller approved it: its proposal's approval, or the signature of the version listing it
	Transfer   *Transfer // the instruction it works under outside the EU/EEA, if any
	Version    int       // the version that lists it; 0 for one approved as a proposal since
}

// Annex3At is annex 3 of agreement a as of t: the sub-processors the
// version in force at t lists, and those approved as proposals at or before
// t, less those removed at or before t (unless a version that came into
// force after the removal lists them again), in the order of approval
// (Rule DPA-05). Pending and refused proposals are never in it.
func Annex3At(a *Agreement, subs []SubProcessor, t time.Time) []Annex3Item {
	removed := map[string]time.Time{} // key → last removal at or before t
	for _, s := range subs {
		if !s.RemovedAt.IsZero() && !s.ApprovedAt.IsZero() && !s.RemovedAt.After(t) && s.RemovedAt.After(removed[s.Entry.Key()]) {
			removed[s.Entry.Key()] = s.RemovedAt
		}
	}
	items := map[string]*Annex3Item{}
	add := func(it Annex3Item) {
		k := it.Entry.Key()
		if old, ok := items[k]; ok {
			if it.ApprovedAt.Before(old.ApprovedAt) {
				old.ApprovedAt = it.ApprovedAt
			}
			if old.Transfer == nil {
				old.Transfer = it.Transfer
			}
			return
		}
		items[k] = &it
	}
	if v := a.InForce(t); v != nil {
		for _, e := range v.Content.Annex3 {
			if r, ok := removed[e.Key()]; ok && !v.InForceAt.After(r) {
				continue
			}
			it := Annex3Item{Entry: e, ApprovedAt: firstListed(a, e.Key(), t), Version: v.Number}
			for _, tr := range v.Content.Transfers {
				if tr.names(e.Country, e.Navn) {
					tr := tr
					it.Transfer = &tr
					break
				}
			}
			add(it)
		}
	}
	for i := range subs {
		if s := &subs[i]; s.approvedAt(t) && s.AgreementID == a.ID {
			add(Annex3Item{Entry: s.Entry, ApprovedAt: s.ApprovedAt, Transfer: s.Transfer})
		}
	}
	out := make([]Annex3Item, 0, len(items))
	for _, it := range items {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(x, y Annex3Item) int {
		if c := x.ApprovedAt.Compare(y.ApprovedAt); c != 0 {
			return c
		}
		return strings.Compare(x.Entry.Key(), y.Entry.Key())
	})
	return out
}

// firstListed is when the earliest version in force at or before t that lists key came into force.
func firstListed(a *Agreement, key string, t time.Time) time.Time {
	var first time.Time
	for _, v := range a.Versions {
		if v.InForceAt.IsZero() || v.InForceAt.After(t) || (v.Status != VersionSigned && v.Status != VersionSuperseded) {
			continue
		}
		if slices.ContainsFunc(v.Content.Annex3, func(e SubProcessorEntry) bool { return e.Key() == key }) &&
			(first.IsZero() || v.InForceAt.Before(first)) {
			first = v.InForceAt
		}
	}
	return first
}

// Proposals are the proposals of agreement a that are not approved: pending
// first, then refused, each newest first — visible to both parties (Rule DPA-05).
func Proposals(a *Agreement, subs []SubProcessor) []SubProcessor {
	var out []SubProcessor
	for _, s := range subs {
		if s.AgreementID == a.ID && (s.Status == SubProposed || s.Status == SubRefused) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(x, y SubProcessor) int {
		if x.Status != y.Status {
			if x.Status == SubProposed {
				return -1
			}
			return 1
		}
		return y.ProposedAt.Compare(x.ProposedAt)
	})
	return out
}
