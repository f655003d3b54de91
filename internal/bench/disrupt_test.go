package bench

import (
	"strings"
	"testing"
	"time"
)

// tally is an observer whose rate check saw ok 2xx answers in each second
// (by when sent), and refused and other failures.
func tally(ok []int, refused, other int) *observer {
	return &observer{rate: &rateTally{secs: ok, refused: refused, other: other}}
}

// Rule AA-15 across a cluster, the check of it: every whole second of the
// measured run counts, also those after the last 2xx; too short a run is not
// measured; other failures beyond a small share fail the check.
func TestRateCheck(t *testing.T) {
	const limit = 100
	tests := []struct {
		name    string
		obs     *observer
		d       time.Duration
		within  bool
		seconds int
		verdict string
	}{
		// Before: fewer than 3 seconds with a 2xx gave "within 10 %" with nothing admitted.
		{"nothing admitted", tally(nil, 500, 0), 6 * time.Second, false, 5, "NOT within 10 %"},
		{"too short", tally([]int{100, 100}, 100, 0), 3 * time.Second, false, 0, "not measured"},
		// Before: the seconds after the last 2xx were left out, and this was within.
		{"answers stop", tally([]int{100, 100, 100, 100}, 900, 0), 10 * time.Second, false, 9, "NOT within 10 %"},
		{"within", tally([]int{100, 98, 104, 99, 101, 3}, 600, 5), 5500 * time.Millisecond, true, 4, "within 10 %"},
		{"other failures", tally([]int{100, 98, 104, 99, 101}, 400, 20), 5 * time.Second, false, 4, "failed otherwise than 429"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := tc.obs.rateCheck(limit, tc.d)
			if rc.Within != tc.within || rc.Seconds != tc.seconds || !strings.Contains(rc.Verdict, tc.verdict) {
				t.Fatalf("got %+v, want within %v over %d s, verdict %q", rc, tc.within, tc.seconds, tc.verdict)
			}
			fails := (&Report{RateCheck: rc}).FailedChecks()
			if (len(fails) == 0) != tc.within {
				t.Fatalf("failed checks %q for %+v", fails, rc)
			}
		})
	}
}

// A cluster run's failed checks are named, so that `deling bench` exits
// non-zero: a missing record (Rule AA-16), a 2xx without its correlation id,
// the log's verification, a disruption not done, the rate check.
func TestFailedChecks(t *testing.T) {
	ok := &Report{Result: &AttackResult{Total: &KindStats{Successful: 10}}, Records: &RecordCheck{Answered: 10},
		AuditVerify: "ok: 12 records; the lookup log is intact", Disruptions: []*DisruptionReport{{Name: "kill -9"}},
		RateCheck: &RateCheckReport{Within: true}}
	if f := ok.FailedChecks(); len(f) != 0 {
		t.Fatalf("a run that passed: %q", f)
	}
	bad := &Report{Result: &AttackResult{Total: &KindStats{Successful: 10}}, Records: &RecordCheck{Answered: 9, Missing: 1},
		AuditVerify: "FAILED: record 3: hash mismatch",
		Disruptions: []*DisruptionReport{{Name: "kill -9", DisruptionOutcome: DisruptionOutcome{Err: "not exactly one node leads ([]): nothing killed"}}},
		RateCheck:   &RateCheckReport{Verdict: "NOT within 10 %"}}
	got := strings.Join(bad.FailedChecks(), "\n")
	for _, want := range []string{"1 answers without their record", "10 answers 2xx, 9 of them with the correlation id", "audit verify FAILED",
		"kill -9: not exactly one node leads", "rate limit NOT within 10 %"} {
		if !strings.Contains(got, want) {
			t.Errorf("failed checks lack %q:\n%s", want, got)
		}
	}
}
