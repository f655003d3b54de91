package access

import "testing"

// TestBandAA10 is Rule AA-10: counts from 1 to 4 are given as the band 1–4;
// zero and larger counts exactly.
func TestBandAA10(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want Interval
	}{
		{0, Interval{Fra: 0, Til: 0}},
		{1, Interval{Fra: 1, Til: 4}},
		{2, Interval{Fra: 1, Til: 4}},
		{3, Interval{Fra: 1, Til: 4}},
		{4, Interval{Fra: 1, Til: 4}},
		{5, Interval{Fra: 5, Til: 5}},
		{17, Interval{Fra: 17, Til: 17}},
		{-1, Interval{Fra: -1, Til: -1}},
	} {
		if got := Band(tc.n); got != tc.want {
			t.Errorf("AA-10: Band(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
