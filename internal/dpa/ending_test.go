package dpa

import (
	"testing"
	"time"
)

func TestDeletionDue_DPA10(t *testing.T) {
	oslo := oslo()
	ended := time.Date(2025, 3, 3, 23, 30, 0, 0, oslo)
	// 30 days after 3 March: to the end of 2 April, Oslo time, across the summer-time change.
	if got, want := DeletionDue(ended, 30), time.Date(2025, 4, 3, 0, 0, 0, 0, oslo); !got.Equal(want) {
		t.Errorf("DeletionDue = %v, want %v", got, want)
	}
}

// TestRemindersDue_DPA10 runs a reminder job across dates.
func TestRemindersDue_DPA10(t *testing.T) {
	day := 24 * time.Hour
	ended := t0
	due := DeletionDue(ended, 30)
	a := active(complete(t))
	a.Status = StatusEnded
	a.Ending = &Ending{EndedAt: ended, DeletionDue: due, Side: Controller, Choice: ChoiceDelete}
	pts := DefaultDeletionReminders()
	for _, tc := range []struct {
		name         string
		sentUpTo, at time.Time
		want         []Reminder
	}{
		{"nothing yet", ended, due.Add(-15 * day), nil},
		{"14 days before", due.Add(-15 * day), due.Add(-14 * day), []Reminder{{At: due.Add(-14 * day), Before: 14 * day}}},
		{"sent already", due.Add(-14 * day), due.Add(-10 * day), nil},
		{"7 days before", due.Add(-10 * day), due.Add(-7*day + time.Minute), []Reminder{{At: due.Add(-7 * day), Before: 7 * day}}},
		{"job was down: only the latest", due.Add(-10 * day), due.Add(-12 * time.Hour), []Reminder{{At: due.Add(-day), Before: day}}},
		{"overdue", due.Add(-time.Hour), due, []Reminder{{At: due, Overdue: true}}},
		{"overdue once", due, due.Add(5 * day), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := a.RemindersDue(pts, tc.sentUpTo, tc.at)
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if !got[i].At.Equal(tc.want[i].At) || got[i].Before != tc.want[i].Before || got[i].Overdue != tc.want[i].Overdue {
					t.Errorf("got %+v, want %+v", got[i], tc.want[i])
				}
			}
		})
	}
	if a.Overdue(due.Add(-time.Second)) || !a.Overdue(due) {
		t.Error("Overdue: not before the due instant, at and after it")
	}
	// A short deadline: reminders before the end itself are never due.
	b := a
	b.Ending = &Ending{EndedAt: ended, DeletionDue: DeletionDue(ended, 3)}
	if got := b.RemindersDue(pts, time.Time{}, ended.Add(time.Hour)); len(got) != 0 {
		t.Errorf("reminders from before the end: %+v", got)
	}
	// With the certificate filed, nothing is due and nothing overdue.
	a.Deletion = &DeletionCertificate{}
	if a.RemindersDue(pts, time.Time{}, due.Add(day)) != nil || a.Overdue(due.Add(day)) {
		t.Error("certificate filed, still reminding")
	}
	a.Deletion, a.Status = nil, StatusActive
	if a.RemindersDue(pts, time.Time{}, due.Add(day)) != nil || a.Overdue(due.Add(day)) {
		t.Error("active agreement reminded")
	}
}

func TestDeletionCertificate_DPA10(t *testing.T) {
	ended, now := t0, t0.Add(10*24*time.Hour)
	ok := DeletionCertificate{What: "Alle kopier i fagsystemet", How: "Sletting og overskriving", DoneAt: now.Add(-time.Hour),
		DoneBy: "Per Prosess", BackupsIncluded: true}
	for _, tc := range []struct {
		name  string
		edit  func(c *DeletionCertificate)
		field string
	}{
		{"complete", func(*DeletionCertificate) {}, ""},
		{"what", func(c *DeletionCertificate) { c.What = " " }, FieldCertWhat},
		{"how", func(c *DeletionCertificate) { c.How = "" }, FieldCertHow},
		{"when missing", func(c *DeletionCertificate) { c.DoneAt = time.Time{} }, FieldCertWhen},
		{"when in the future", func(c *DeletionCertificate) { c.DoneAt = now.Add(time.Minute) }, FieldCertWhen},
		{"before the end", func(c *DeletionCertificate) { c.DoneAt = ended.Add(-time.Minute) }, FieldCertWhen},
		{"by whom", func(c *DeletionCertificate) { c.DoneBy = "" }, FieldCertBy},
		{"backups not included", func(c *DeletionCertificate) { c.BackupsIncluded = false }, FieldCertBackups},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			bad := c.Validate(ended, now)
			if (tc.field == "" && len(bad) > 0) || (tc.field != "" && (bad[tc.field] == "" || len(bad) != 1)) {
				t.Errorf("got %v, want only %q", bad, tc.field)
			}
		})
	}
}

func TestStopEndValidation_DPA10_DPA11(t *testing.T) {
	if ValidateStop("")[FieldStopReason] == "" || len(ValidateStop("Brudd på avtalen")) != 0 {
		t.Error("stop order: reason required")
	}
	if ValidateResume(" ")[FieldResumeReason] == "" || len(ValidateResume("Avviket er lukket")) != 0 {
		t.Error("resume: the controller's written decision required")
	}
	if bad := ValidateEnd(&Ending{Side: Controller, Reason: "Hovedavtalen er sagt opp"}); bad[FieldEndChoice] == "" {
		t.Errorf("controller's end without the choice: %v", bad)
	}
	if bad := ValidateEnd(&Ending{Side: Processor, Reason: "Oppdraget er avsluttet"}); len(bad) != 0 {
		t.Errorf("processor's end: %v", bad)
	}
	if bad := ValidateEnd(&Ending{Side: Controller, Reason: "x", Choice: "brenne"}); bad[FieldEndChoice] == "" {
		t.Error("unknown choice accepted")
	}
}
