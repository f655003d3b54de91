package incident

import "testing"

// Rule AA-19: changing the priority does not rewrite a result already
// measured. An incident reported as C on Maundy Thursday 2027 16:50 got its
// first notice the next working day (on time for C, late for A); then it was
// raised to A. The first notice stays met under C; the reaction, still open
// and past A's 2 working hours, is missed under A; the incident counts
// under A. Without the kept priority, the first notice would turn missed.
func TestCompliancePriorityChange_AA19(t *testing.T) {
	c := norway(t)
	now := at(t, 2027, 4, 1, 12, 0)
	// First working day after Easter Monday 2027 is Tue 30 Mar; C's first notice is due a working day later.
	first := at(t, 2027, 3, 30, 9, 0)
	inc := ServiceIncident{ID: "1", Priority: PriorityA, ReportedAt: maundy2027(t), FirstNoticeAt: first, FirstNoticePriority: PriorityC}
	if due := inc.FirstNoticeBy(c); first.After(due) {
		t.Fatalf("the first notice is judged by %v, after it was sent", due)
	}
	got := Compliance([]ServiceIncident{inc}, c, now)
	want := []SLA{
		{Year: 2027, Quarter: 1, Priority: PriorityA, Incidents: 1, ReactionMissed: 1},
		{Year: 2027, Quarter: 1, Priority: PriorityC, FirstNoticeMet: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// Without the priority it was measured under, it is judged under A: missed.
	inc.FirstNoticePriority = ""
	if got := Compliance([]ServiceIncident{inc}, c, now); got[0].FirstNoticeMissed != 1 {
		t.Errorf("judged under A: %+v", got)
	}
}
