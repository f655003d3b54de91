package incident

import (
	"errors"
	"strconv"
	"strings"
)

// Approx is an approximate number of persons or records: art. 33(3)(a)
// asks for approximate numbers, and the lack of a precise figure must not
// delay a notice. It is exact (Min == Max), a range, or unknown.
type Approx struct {
	Min, Max int
	Unknown  bool
}

// Exact is an approximate number that is known exactly.
func Exact(n int) Approx { return Approx{Min: n, Max: n} }

// ErrApprox is ParseApprox's error.
var ErrApprox = errors.New("not a number, a range or \"ukjent\"")

// maxApprox keeps numbers within what any register holds.
const maxApprox = 100_000_000

// ParseApprox reads a number as a person types it in the form: "120",
// "1 200", "100-500" or "100–500", or "ukjent" (unknown).
func ParseApprox(s string) (Approx, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "ukjent" || s == "?" {
		return Approx{Unknown: true}, nil
	}
	lo, hi, isRange := strings.Cut(strings.ReplaceAll(s, "–", "-"), "-")
	a, err := parseCount(lo)
	if err != nil {
		return Approx{}, err
	}
	b := a
	if isRange {
		if b, err = parseCount(hi); err != nil {
			return Approx{}, err
		}
	}
	if b < a {
		return Approx{}, ErrApprox
	}
	return Approx{Min: a, Max: b}, nil
}

func parseCount(s string) (int, error) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ".", "").Replace(s)
	if s == "" || len(s) > 9 {
		return 0, ErrApprox
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxApprox || strings.ContainsAny(s, "+-") {
		return 0, ErrApprox
	}
	return n, nil
}

// Valid reports whether the number is unknown or a range 0 ≤ Min ≤ Max.
func (a Approx) Valid() bool {
	if a.Unknown {
		return a.Min == 0 && a.Max == 0
	}
	return a.Min >= 0 && a.Min <= a.Max && a.Max <= maxApprox
}

// String is the number in Norwegian: "120", "100–500" or "ukjent"; ParseApprox reads it back.
func (a Approx) String() string {
	switch {
	case a.Unknown:
		return "ukjent"
	case a.Min == a.Max:
		return strconv.Itoa(a.Min)
	}
	return strconv.Itoa(a.Min) + "–" + strconv.Itoa(a.Max)
}

// AtLeast is the lowest the number may be: 0 when unknown.
func (a Approx) AtLeast() int { return a.Min }
