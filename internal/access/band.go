package access

// Interval is a count given as a range: exact when Fra == Til.
type Interval struct {
	Fra int `json:"fra"`
	Til int `json:"til"`
}

// Band is Rule AA-10: a count from 1 to 4 is never given exactly, only as the band
// 1–4, so that no one can learn that a workplace has one, two or three employees.
// Zero and counts from 5 are given exactly.
func Band(n int) Interval {
	if n >= 1 && n <= 4 {
		return Interval{Fra: 1, Til: 4}
	}
	return Interval{Fra: n, Til: n}
}
