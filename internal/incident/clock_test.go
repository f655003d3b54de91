package incident

import (
	"testing"
	"time"
)

// The walk: a processor's staff report a breach at 16:50 on Maundy
// Thursday 2027 (25 March, CET = UTC+1). Easter Sunday is 28 March 2027,
// the same night summer time starts (02:00 CET → 03:00 CEST).
func maundy2027(t testing.TB) time.Time { return at(t, 2027, 3, 25, 16, 50) } // 15:50 UTC

// Rule AV-05: 72 elapsed hours from awareness.
func TestNotifyDeadline_AV05(t *testing.T) {
	for _, tc := range []struct {
		name  string
		aware time.Time
		want  time.Time
	}{
		// 15:50 UTC + 72 h = Sun 28 Mar 15:50 UTC = 17:50 CEST: the wall clock gains an hour.
		{"Maundy Thursday 2027 16:50 CET → Easter Sunday 17:50 CEST", maundy2027(t), at(t, 2027, 3, 28, 17, 50)},
		// Research §6.2, verified: 10:00 CET + 72 h = 11:00 CEST.
		{"Fri 2026-03-27 10:00 CET → Mon 2026-03-30 11:00 CEST", at(t, 2026, 3, 27, 10, 0), at(t, 2026, 3, 30, 11, 0)},
		// 10:00 UTC + 72 h = Sun 31 Oct 10:00 UTC = 11:00 CET: the wall clock loses an hour.
		{"Thu 2027-10-28 12:00 CEST → Sun 2027-10-31 11:00 CET", at(t, 2027, 10, 28, 12, 0), at(t, 2027, 10, 31, 11, 0)},
		// Weekends and holidays count: 72 h over Christmas 2026 (Thu 24 – Sun 27).
		{"Thu 2026-12-24 09:00 → Sun 2026-12-27 09:00 (no DST)", at(t, 2026, 12, 24, 9, 0), at(t, 2026, 12, 27, 9, 0)},
		{"over 17 May 2027 (Whit Monday too): Sat 15 May 08:00 → Tue 18 May 08:00", at(t, 2027, 5, 15, 8, 0), at(t, 2027, 5, 18, 8, 0)},
	} {
		got := NotifyDeadline(tc.aware)
		if !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got.In(oslo(t)), tc.want)
		}
		if d := got.Sub(tc.aware); d != 72*time.Hour {
			t.Errorf("%s: %v elapsed, want 72h", tc.name, d)
		}
	}
}

func TestLateReasonRequired_AV05(t *testing.T) {
	aware := maundy2027(t)
	for _, tc := range []struct {
		name  string
		filed time.Time
		want  bool
	}{
		{"hour 70: Easter Sunday 15:50 CEST", at(t, 2027, 3, 28, 15, 50), false},
		{"exactly 72 h: 17:50 CEST", at(t, 2027, 3, 28, 17, 50), false},
		// 16:50 on the wall clock looks like "72 hours later" but is only 71 h.
		{"16:50 CEST on Easter Sunday is hour 71", at(t, 2027, 3, 28, 16, 50), false},
		{"one second late", at(t, 2027, 3, 28, 17, 50).Add(time.Second), true},
		{"Easter Monday", at(t, 2027, 3, 29, 9, 0), true},
	} {
		if got := LateReasonRequired(aware, tc.filed); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAwareness_AV03(t *testing.T) {
	procAware := maundy2027(t)
	reported := at(t, 2027, 3, 26, 10, 0)
	registerAware := at(t, 2027, 3, 26, 11, 0)
	for _, tc := range []struct {
		name string
		b    Breach
		want time.Time
	}{
		{"Rule AV-03: a processor's report runs from the processor's awareness",
			Breach{Report: Report{ByProcessor: true, ProcessorAwareAt: procAware, ReportedAt: reported}, AwareAt: registerAware}, procAware},
		{"the register's recorded awareness",
			Breach{Report: Report{ReportedAt: reported}, AwareAt: registerAware}, registerAware},
		{"not yet recorded: from the report's receipt",
			Breach{Report: Report{ReportedAt: reported}}, reported},
	} {
		if got := tc.b.Awareness(); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Rule DPA-07: the processor tells the controller within 24 hours of its awareness.
func TestProcessorDeadline_DPA07(t *testing.T) {
	aware := maundy2027(t)
	for _, tc := range []struct {
		name  string
		hours int
		want  time.Time
	}{
		{"default 24 h: Good Friday 16:50 CET", 0, at(t, 2027, 3, 26, 16, 50)},
		// 15:50 UTC + 48 h = Sat 27 15:50 UTC = 16:50 CET (before the change).
		{"a DPA's 48 h: Saturday 16:50 CET", 48, at(t, 2027, 3, 27, 16, 50)},
		// 15:50 UTC + 60 h = Sun 28 03:50 UTC = 05:50 CEST.
		{"60 h across the change: Easter Sunday 05:50 CEST", 60, at(t, 2027, 3, 28, 5, 50)},
	} {
		if got := ProcessorDeadline(aware, tc.hours); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got.In(oslo(t)), tc.want)
		}
	}
	for _, tc := range []struct {
		name     string
		reported time.Time
		want     bool
	}{
		{"reported Good Friday 16:50 CET: on time", at(t, 2027, 3, 26, 16, 50), true},
		{"reported Good Friday 16:51 CET: late", at(t, 2027, 3, 26, 16, 51), false},
	} {
		b := Breach{Report: Report{ByProcessor: true, ProcessorAwareAt: aware, ReportedAt: tc.reported}}
		if got := b.ProcessorOnTime(); got != tc.want {
			t.Errorf("%s: ProcessorOnTime = %v, want %v", tc.name, got, tc.want)
		}
	}
	if b := (Breach{Report: Report{ReportedAt: at(t, 2030, 1, 1, 0, 0)}}); !b.ProcessorOnTime() {
		t.Errorf("not a processor's report: ProcessorOnTime = false, want true")
	}
}

func TestReminders_AV05(t *testing.T) {
	aware := maundy2027(t)
	got := Reminders(aware, DefaultReminderPoints())
	want := []Reminder{
		{At: at(t, 2027, 3, 26, 16, 50), After: 24 * time.Hour},                // Good Friday, CET
		{At: at(t, 2027, 3, 27, 16, 50), After: 48 * time.Hour},                // Saturday, CET
		{At: at(t, 2027, 3, 28, 11, 50), After: 66 * time.Hour},                // Easter Sunday 09:50 UTC = 11:50 CEST
		{At: at(t, 2027, 3, 28, 17, 50), After: 72 * time.Hour, Overdue: true}, // 15:50 UTC = 17:50 CEST
	}
	if len(got) != len(want) {
		t.Fatalf("got %d reminders, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].After != want[i].After || got[i].Overdue != want[i].Overdue {
			t.Errorf("reminder %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// Configurable: unsorted, repeated, and out-of-range points are tidied.
	got = Reminders(aware, []time.Duration{60 * time.Hour, 12 * time.Hour, 12 * time.Hour, 80 * time.Hour, 0})
	if len(got) != 3 || got[0].After != 12*time.Hour || got[1].After != 60*time.Hour || !got[2].Overdue {
		t.Errorf("custom points: got %+v, want 12h, 60h, overdue", got)
	}
}

func TestRemindersDue_AV05(t *testing.T) {
	aware := maundy2027(t)
	open := Breach{Status: StatusAssessing, Report: Report{ByProcessor: true, ProcessorAwareAt: aware, ReportedAt: aware}}
	for _, tc := range []struct {
		name      string
		b         Breach
		sent, now time.Time
		want      []time.Duration
	}{
		{"nothing before 24 h", open, time.Time{}, at(t, 2027, 3, 26, 16, 49), nil},
		{"24 h on the dot", open, time.Time{}, at(t, 2027, 3, 26, 16, 50), []time.Duration{24 * time.Hour}},
		{"already sent up to 24 h", open, at(t, 2027, 3, 26, 16, 50), at(t, 2027, 3, 27, 12, 0), nil},
		{"job down over 48 h and 66 h: only the latest", open, at(t, 2027, 3, 26, 16, 50), at(t, 2027, 3, 28, 12, 0), []time.Duration{66 * time.Hour}},
		{"overdue at 17:50 CEST", open, at(t, 2027, 3, 28, 12, 0), at(t, 2027, 3, 28, 17, 50), []time.Duration{72 * time.Hour}},
		{"notified: no reminders", Breach{Status: StatusNotified, Report: open.Report}, time.Time{}, at(t, 2027, 3, 29, 0, 0), nil},
		{"decided not to notify: no reminders", Breach{Status: StatusDecidedNoNotify, Report: open.Report}, time.Time{}, at(t, 2027, 3, 29, 0, 0), nil},
	} {
		got := tc.b.RemindersDue(DefaultReminderPoints(), tc.sent, tc.now)
		var after []time.Duration
		for _, r := range got {
			after = append(after, r.After)
		}
		if len(after) != len(tc.want) || (len(after) > 0 && after[0] != tc.want[0]) {
			t.Errorf("%s: got %v, want %v", tc.name, after, tc.want)
		}
	}
}
