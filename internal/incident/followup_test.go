package incident

import (
	"errors"
	"testing"
	"time"
)

// Rule AV-08: a closed case reminds at each open item's due date and at the
// review date, again every week while overdue, one reminder per run, and
// never once the case is out of the follow-up.
func TestFollowUpReminderDue(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	due, review := t0.Add(10*24*time.Hour), t0.Add(30*24*time.Hour)
	closed := Breach{Status: StatusClosed, ReviewAt: review, FollowUp: []FollowUpItem{
		{Action: "Rotér nøkler", Due: due}, {Action: "Ferdig", Due: t0.Add(24 * time.Hour), DoneAt: t0}}}
	for _, tc := range []struct {
		name          string
		b             Breach
		sentUpTo, now time.Time
		want          time.Time
	}{
		{"before anything is due", closed, time.Time{}, due.Add(-time.Minute), time.Time{}},
		{"an item falls due", closed, time.Time{}, due, due},
		{"already sent for the item", closed, due, due.Add(6 * 24 * time.Hour), time.Time{}},
		{"a week overdue: again", closed, due, due.Add(7*24*time.Hour + time.Hour), due.Add(7 * 24 * time.Hour)},
		{"the job was down: only the latest", closed, time.Time{}, due.Add(15 * 24 * time.Hour), due.Add(14 * 24 * time.Hour)},
		{"the review date", closed, due.Add(14 * 24 * time.Hour), review, review},
		{"a done item never reminds", Breach{Status: StatusClosed, FollowUp: closed.FollowUp[1:]}, time.Time{}, review, time.Time{}},
		{"followed up: no reminder", Breach{Status: StatusFollowedUp, ReviewAt: review, FollowUp: closed.FollowUp}, time.Time{}, review, time.Time{}},
		{"not closed: no follow-up reminder", Breach{Status: StatusNotified, FollowUp: closed.FollowUp}, time.Time{}, review, time.Time{}},
	} {
		if got := tc.b.FollowUpReminderDue(tc.sentUpTo, tc.now); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Rules AV-06, AV-08: a case decided on telling the persons closes only
// once the notification job has notified the whole list; the follow-up is done only with the lessons, the
// review date and every item done.
func TestReadyNeedsNoticesAndLessons(t *testing.T) {
	staff := Actor{Role: CaseWorker, Org: ControllerOrg}
	b := Breach{Status: StatusDecidedNoNotify, Measures: []Measure{{Kind: MeasureMapEvents}},
		Decision: &Decision{Persons: PersonsNotify}}
	if err := b.Ready(StepClose, staff); !errors.Is(err, ErrNotReady) {
		t.Fatalf("closed with the persons not notified: %v", err)
	}
	b.PersonsNotified = 3 // a few notices are not the whole list: the job must have finished it
	if err := b.Ready(StepClose, staff); !errors.Is(err, ErrNotReady) {
		t.Fatalf("closed with notices but no finished job: %v", err)
	}
	b.Affected = []AffectedCount{{ID: "b1"}}
	b.Notices.Job = &NotifyProgress{Computation: "b1", Total: 3, Done: 3, Finished: true}
	if err := b.Ready(StepClose, staff); err != nil {
		t.Fatalf("closing once notified: %v", err)
	}
	b.Decision.Persons = PersonsNotRequired
	b.PersonsNotified = 0
	if err := b.Ready(StepClose, staff); err != nil {
		t.Fatalf("closing when the persons need no notice: %v", err)
	}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	f := Breach{Status: StatusClosed, FollowUp: []FollowUpItem{{Action: "x", Due: now, DoneAt: now}}}
	if err := f.Ready(StepFollowUpDone, staff); !errors.Is(err, ErrNotReady) {
		t.Fatal("follow-up done without lessons and a review date")
	}
	f.Lessons, f.ReviewAt = "Lært", now
	if err := f.Ready(StepFollowUpDone, staff); err != nil {
		t.Fatalf("follow-up done: %v", err)
	}
	f.FollowUp = append(f.FollowUp, FollowUpItem{Action: "y", Due: now})
	if err := f.Ready(StepFollowUpDone, staff); !errors.Is(err, ErrNotReady) {
		t.Fatal("follow-up done with an item open")
	}
}
