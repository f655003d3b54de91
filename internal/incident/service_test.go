package incident

import (
	"testing"
	"time"
)

// Rule AA-19: first notice and reaction per priority, in the Norwegian working calendar.
func TestServiceClocks_AA19(t *testing.T) {
	c := norway(t)
	for _, tc := range []struct {
		name            string
		p               Priority
		reported        time.Time
		first, reaction time.Time
	}{
		// Maundy Thursday 2027 16:50 CET. Fri 26, Sat, Sun 28 (summer time starts), Mon 29 Easter Monday:
		// the next working hour starts Tue 30 March 08:00 CEST.
		{"A at 16:50 Maundy Thursday 2027: 17:05 CET; Tue 30 Mar 10:00 CEST", PriorityA, maundy2027(t),
			at(t, 2027, 3, 25, 17, 5), at(t, 2027, 3, 30, 10, 0)},
		{"B at 16:50 Maundy Thursday 2027: 17:50 CET; Tue 30 Mar 16:00 CEST", PriorityB, maundy2027(t),
			at(t, 2027, 3, 25, 17, 50), at(t, 2027, 3, 30, 16, 0)},
		// 5 wd = 40 wh: Tue 30, Wed 31, Thu 1, Fri 2 April, Mon 5 April 16:00.
		{"C at 16:50 Maundy Thursday 2027: Tue 30 Mar 16:00; Mon 5 Apr 16:00", PriorityC, maundy2027(t),
			at(t, 2027, 3, 30, 16, 0), at(t, 2027, 4, 5, 16, 0)},
		// Research §6.3: Wed 2026-04-01 14:00 + 8 wh skips Easter → Tue 2026-04-07 14:00.
		{"B Wed 2026-04-01 14:00: Tue 7 Apr 14:00 after Easter", PriorityB, at(t, 2026, 4, 1, 14, 0),
			at(t, 2026, 4, 1, 15, 0), at(t, 2026, 4, 7, 14, 0)},
		// Ascension Day Thu 6 May 2027: Wed 14–16 (2 h), Fri 7 May 08:00 + 6 h.
		{"B Wed 2027-05-05 14:00 over Ascension: Fri 7 May 14:00", PriorityB, at(t, 2027, 5, 5, 14, 0),
			at(t, 2027, 5, 5, 15, 0), at(t, 2027, 5, 7, 14, 0)},
		// 17 May 2027 is also Whit Monday: Fri 10–16 (6 h), Tue 18 May 08:00 + 2 h;
		// 40 wh: 6 + Tue 18..Fri 21 (32) = 38, Mon 24 May 08:00 + 2 h.
		{"C Fri 2027-05-14 10:00 over 17 May/Whit Monday: Tue 18 May 10:00; Mon 24 May 10:00", PriorityC, at(t, 2027, 5, 14, 10, 0),
			at(t, 2027, 5, 18, 10, 0), at(t, 2027, 5, 24, 10, 0)},
		// Whit Monday 25 May 2026: Fri 22 15–16 (1 h), Tue 26 May 08:00 + 1 h.
		{"A Fri 2026-05-22 15:00 over Whit Monday: 15:15; Tue 26 May 09:00", PriorityA, at(t, 2026, 5, 22, 15, 0),
			at(t, 2026, 5, 22, 15, 15), at(t, 2026, 5, 26, 9, 0)},
		// 1 May 2026 is a Friday: Thu 15–16 (1 h), Mon 4 May 08:00 + 1 h.
		{"A Thu 2026-04-30 15:00 over 1 May: 15:15; Mon 4 May 09:00", PriorityA, at(t, 2026, 4, 30, 15, 0),
			at(t, 2026, 4, 30, 15, 15), at(t, 2026, 5, 4, 9, 0)},
		// Christmas 2026: Thu 24 12–16 (4 h), Fri 25 holiday, Sat 26, Sun, Mon 28 08:00 + 4 h.
		{"B Thu 2026-12-24 12:00 over Christmas: 13:00; Mon 28 Dec 12:00", PriorityB, at(t, 2026, 12, 24, 12, 0),
			at(t, 2026, 12, 24, 13, 0), at(t, 2026, 12, 28, 12, 0)},
		// A weekend: Fri 15:30–16:00 (0.5 h), Mon 08:00 + 1.5 h.
		{"A Fri 2026-01-09 15:30 over a weekend: 15:45; Mon 12 Jan 09:30", PriorityA, at(t, 2026, 1, 9, 15, 30),
			at(t, 2026, 1, 9, 15, 45), at(t, 2026, 1, 12, 9, 30)},
		{"C Sat 2026-01-10 11:00: Mon 12 Jan 16:00; Fri 16 Jan 16:00", PriorityC, at(t, 2026, 1, 10, 11, 0),
			at(t, 2026, 1, 12, 16, 0), at(t, 2026, 1, 16, 16, 0)},
		{"C Mon 2026-01-12 06:00 before hours: 16:00 the same day", PriorityC, at(t, 2026, 1, 12, 6, 0),
			at(t, 2026, 1, 12, 16, 0), at(t, 2026, 1, 16, 16, 0)},
		// Summer time starts Sun 29 Mar 2026: Fri 12–16 (4 h), Mon 30 Mar 08:00 CEST + 4 h = 12:00 CEST (10:00 UTC).
		{"B Fri 2026-03-27 12:00 CET over the change to summer time: Mon 30 Mar 12:00 CEST", PriorityB, at(t, 2026, 3, 27, 12, 0),
			at(t, 2026, 3, 27, 13, 0), at(t, 2026, 3, 30, 12, 0)},
		// Summer time ends Sun 25 Oct 2026: Fri 14–16 (2 h), Mon 26 Oct 08:00 CET + 6 h = 14:00 CET (13:00 UTC).
		{"B Fri 2026-10-23 14:00 CEST over the change from summer time: Mon 26 Oct 14:00 CET", PriorityB, at(t, 2026, 10, 23, 14, 0),
			at(t, 2026, 10, 23, 15, 0), at(t, 2026, 10, 26, 14, 0)},
		// Elapsed first notice across the missing hour: 01:50 CET + 15 min = 01:05 UTC = 03:05 CEST.
		{"A Sun 2026-03-29 01:50 CET: first notice 03:05 CEST; Mon 30 Mar 10:00 CEST", PriorityA, at(t, 2026, 3, 29, 1, 50),
			time.Date(2026, 3, 29, 1, 5, 0, 0, time.UTC), at(t, 2026, 3, 30, 10, 0)},
		// The repeated hour: 02:50 CEST (00:50 UTC) + 1 h = 01:50 UTC = 02:50 CET.
		{"B Sun 2026-10-25 02:50 CEST: first notice 02:50 CET", PriorityB, time.Date(2026, 10, 25, 0, 50, 0, 0, time.UTC),
			time.Date(2026, 10, 25, 1, 50, 0, 0, time.UTC), at(t, 2026, 10, 26, 16, 0)},
	} {
		s := ServiceIncident{Priority: tc.p, ReportedAt: tc.reported}
		if got := s.FirstNoticeBy(c); !got.Equal(tc.first) {
			t.Errorf("%s: first notice %v, want %v", tc.name, got, tc.first.In(c.Location()))
		}
		if got := s.ReactionBy(c); !got.Equal(tc.reaction) {
			t.Errorf("%s: reaction %v, want %v", tc.name, got, tc.reaction.In(c.Location()))
		}
	}
}

// Rule AA-19: the A/B/C targets.
func TestPriorityTargets_AA19(t *testing.T) {
	for _, tc := range []struct {
		p               Priority
		first, reaction string
	}{
		{PriorityA, "15 minutter", "2 arbeidstimer"},
		{PriorityB, "1 time", "8 arbeidstimer"},
		{PriorityC, "1 arbeidsdag", "5 arbeidsdager"},
	} {
		f, r := tc.p.Targets()
		if f.String() != tc.first || r.String() != tc.reaction {
			t.Errorf("%s: got %s / %s, want %s / %s", tc.p, f, r, tc.first, tc.reaction)
		}
	}
	if p, err := ParsePriority(" b "); err != nil || p != PriorityB {
		t.Errorf("ParsePriority(b) = %q, %v", p, err)
	}
	if _, err := ParsePriority("D"); err == nil {
		t.Error("ParsePriority(D) succeeded")
	}
	if got := (&ServiceIncident{ReportedAt: maundy2027(t)}).FirstNoticeBy(norway(t)); !got.IsZero() {
		t.Errorf("no priority yet: got %v, want zero", got)
	}
}

// Rule AA-18: consumers and staff report faults.
func TestServiceIncidentValidate_AA18(t *testing.T) {
	s := ServiceIncident{Title: "  ", Priority: "X"}
	bad := s.Validate()
	for _, f := range []string{FieldTitle, FieldDescription, FieldPriority} {
		if bad[f] == "" {
			t.Errorf("field %s: no message in %v", f, bad)
		}
	}
	ok := ServiceIncident{Title: "API svarer 503", Description: "Alle kall feiler siden 10:02."}
	if bad := ok.Validate(); len(bad) != 0 {
		t.Errorf("a reporter's incident without priority: got %v, want none", bad)
	}
}

// Rule AA-19: SLA compliance per quarter.
func TestCompliancePerQuarter_AA19(t *testing.T) {
	c := norway(t)
	now := at(t, 2027, 7, 1, 12, 0)
	incs := []ServiceIncident{
		// Q1 2027, A: first notice on time (17:05), reaction Tue 30 Mar 09:00 on time.
		{ID: "1", Priority: PriorityA, ReportedAt: maundy2027(t), FirstNoticeAt: at(t, 2027, 3, 25, 17, 0), ReactedAt: at(t, 2027, 3, 30, 9, 0)},
		// Q1 2027, A: first notice at 17:06 (late), reaction Tue 30 Mar 10:01 (late).
		{ID: "2", Priority: PriorityA, ReportedAt: maundy2027(t), FirstNoticeAt: at(t, 2027, 3, 25, 17, 6), ReactedAt: at(t, 2027, 3, 30, 10, 1)},
		// Reported 31 Mar 2027 23:30 CEST = 21:30 UTC: still Q1 in Oslo. Never answered: missed by now.
		{ID: "3", Priority: PriorityC, ReportedAt: at(t, 2027, 3, 31, 23, 30)},
		// Q3 2027, B: open, first notice due 12:30, not yet due at now (12:00).
		{ID: "4", Priority: PriorityB, ReportedAt: at(t, 2027, 7, 1, 11, 30)},
		// No priority yet: not counted.
		{ID: "5", ReportedAt: at(t, 2027, 2, 1, 9, 0)},
	}
	got := Compliance(incs, c, now)
	want := []SLA{
		{Year: 2027, Quarter: 1, Priority: PriorityA, Incidents: 2, FirstNoticeMet: 1, FirstNoticeMissed: 1, ReactionMet: 1, ReactionMissed: 1},
		{Year: 2027, Quarter: 1, Priority: PriorityC, Incidents: 1, FirstNoticeMissed: 1, ReactionMissed: 1},
		{Year: 2027, Quarter: 3, Priority: PriorityB, Incidents: 1, Pending: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if r := got[0].FirstNoticeRate(); r != 0.5 {
		t.Errorf("rate: got %v, want 0.5", r)
	}
	if r := got[2].ReactionRate(); r != 1 {
		t.Errorf("nothing decided: got %v, want 1", r)
	}
	if y, q := QuarterOf(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), c.Location()); y != 2027 || q != 1 {
		t.Errorf("31 Dec 23:30 UTC is 1 Jan in Oslo: got %d Q%d, want 2027 Q1", y, q)
	}
}
