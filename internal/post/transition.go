package post

import (
	"fmt"
	"slices"
)

// Actor is who moves a correspondence from one status to the next.
type Actor string

// The actors.
const (
	BySender    Actor = "sender"    // the sender (or the technical sender acting for it, Rule DPV-04)
	ByRecipient Actor = "recipient" // someone who may read the recipient's post (Rule DPV-03)
	BySystem    Actor = "system"    // deling itself: publishing, scanning, retention, a sender leaving (DPV-11)
)

// Transition is one step of the status table: who may add status To while
// the current status is one of From, and what the history must already hold.
type Transition struct {
	To   Status
	By   Actor
	From []Status
	// Needs is a status the history must hold already (Fetched before Read or Confirmed).
	Needs *Status
}

var recipientVisible = []Status{StatusPublished, StatusRead, StatusReplied, StatusConfirmed, StatusArchived,
	StatusAttachmentsDownloaded, StatusForwarded}

func ptr(s Status) *Status { return &s }

// Transitions is the status table (research §1.5). Replied and Archived are
// legacy: nothing sets them. Reserved is for persons, whom deling does not send to.
func Transitions() []Transition {
	notPurged := []Status{StatusInitialized, StatusReadyForPublish, StatusPublished, StatusRead, StatusReplied,
		StatusConfirmed, StatusArchived, StatusReserved, StatusFailed, StatusAttachmentsDownloaded, StatusForwarded}
	return []Transition{
		{To: StatusReadyForPublish, By: BySystem, From: []Status{StatusInitialized}},
		{To: StatusPublished, By: BySystem, From: []Status{StatusReadyForPublish}},
		{To: StatusFailed, By: BySystem, From: []Status{StatusInitialized, StatusReadyForPublish}},
		{To: StatusFetched, By: ByRecipient, From: recipientVisible},
		{To: StatusRead, By: ByRecipient, From: recipientVisible, Needs: ptr(StatusFetched)},
		{To: StatusConfirmed, By: ByRecipient, From: recipientVisible, Needs: ptr(StatusFetched)},
		{To: StatusAttachmentsDownloaded, By: ByRecipient, From: recipientVisible},
		{To: StatusForwarded, By: ByRecipient, From: recipientVisible},
		{To: StatusPurgedByRecipient, By: ByRecipient, From: recipientVisible},
		// A sender purges only before publication; Altinn records it as PurgedByAltinn.
		{To: StatusPurgedByAltinn, By: BySender, From: []Status{StatusInitialized, StatusReadyForPublish, StatusFailed}},
		// deling deletes at any time: retention, a sender leaving (Rule DPV-11).
		{To: StatusPurgedByAltinn, By: BySystem, From: notPurged},
	}
}

// Lifecycle is what a status step is decided on: the history and whether
// the sender asked for confirmation.
type Lifecycle struct {
	History            []StatusEvent
	ConfirmationNeeded bool
}

// Current is the lifecycle's current status (see Current).
func (l Lifecycle) Current() (Status, bool) { return Current(l.History) }

// Check says whether by may add status to now, nil if so, else the problem
// with Altinn's code. A correspondence the recipient may not see is
// answered as not found (1001), never as a refusal.
func (l Lifecycle) Check(by Actor, to Status) *Problem {
	cur, ok := l.Current()
	if !ok {
		return notFound()
	}
	if by == ByRecipient && !cur.VisibleToRecipient() {
		return notFound()
	}
	if cur.Purged() {
		return problem(CodeAlreadyPurged, "", "Correspondence has already been purged", "Meldingen er allerede slettet.")
	}
	// Repeats Altinn refuses with their own codes.
	switch {
	case by == ByRecipient && to == StatusRead && Has(l.History, StatusRead):
		return problem(CodeAlreadyRead, "", "Correspondence is already marked as read", "Meldingen er allerede lest.")
	case by == ByRecipient && to == StatusConfirmed && Has(l.History, StatusConfirmed):
		return problem(CodeAlreadyConfirmed, "", "Correspondence has already been confirmed", "Meldingen er allerede bekreftet.")
	case by == ByRecipient && to == StatusPurgedByRecipient && l.ConfirmationNeeded && !Has(l.History, StatusConfirmed):
		return problem(CodePurgeBeforeConfirmed, "",
			"Cannot archive or delete a correspondence which has not been confirmed when confirmation is required",
			"Meldingen må bekreftes før den kan slettes.")
	}
	for _, t := range Transitions() {
		if t.By != by || t.To != to {
			continue
		}
		if !slices.Contains(t.From, cur) {
			continue
		}
		if t.Needs != nil && !Has(l.History, *t.Needs) {
			if to == StatusRead {
				return problem(CodeReadBeforeFetched, "", "Correspondence must be fetched before it can be read",
					"Meldingen må åpnes før den kan merkes som lest.")
			}
			return problem(CodeConfirmBeforeFetched, "", "Correspondence must be fetched before it can be confirmed",
				"Meldingen må åpnes før den kan bekreftes.")
		}
		return nil
	}
	if by == BySender && to == StatusPurgedByAltinn {
		return problem(CodeCantPurgePublished, "", "Sender cannot delete correspondence that has been published",
			"Avsenderen kan ikke slette en melding som er publisert.")
	}
	return problem(0, "", fmt.Sprintf("%s may not set %s while the correspondence is %s", by, to, cur),
		fmt.Sprintf("Meldingen kan ikke få status «%s» nå (den er «%s»).", to.Label(), cur.Label()))
}

// Next lists the statuses by may add now, in precedence order: what the
// portal offers as buttons, agreeing with Check.
func (l Lifecycle) Next(by Actor) []Status {
	var out []Status
	for _, s := range Statuses() {
		if l.Check(by, s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// PurgeStatus is the status a purge by actor by records: the recipient's
// own, or PurgedByAltinn for the sender (before publication) and deling.
func PurgeStatus(by Actor) Status {
	if by == ByRecipient {
		return StatusPurgedByRecipient
	}
	return StatusPurgedByAltinn
}

func notFound() *Problem {
	p := problem(CodeNotFound, "", "The requested correspondence was not found", "Fant ikke meldingen.")
	p.Status = 404
	return p
}
