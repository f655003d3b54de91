package ident

import (
	"fmt"
	"strconv"
	"time"
)

// series is a range of individual numbers, inclusive.
type series struct{ lo, hi int }

// seriesFor gives the individual-number series that encode the century of
// year, so that generated numbers decode to the right birth date.
func seriesFor(year int) []series {
	switch {
	case year >= 1854 && year <= 1899:
		return []series{{500, 749}}
	case year >= 1900 && year <= 1939:
		return []series{{0, 499}}
	case year >= 1940 && year <= 1999:
		return []series{{0, 499}, {900, 999}}
	case year >= 2000 && year <= 2039:
		return []series{{500, 999}}
	}
	return nil
}

// SyntheticPerson gives the n-th (n >= 0) valid synthetic person identity born
// on the date of birth (in birth's location), marked in the given style:
// month + 80 for SyntheticTenor, month + 40 for SyntheticNAV. With d it is a
// D-nummer (day + 40). The result is the same for the same arguments and
// differs for different ones.
//
// Only the classic check-digit rule is used, and individual numbers come from
// the series of the birth century, so [Person.BirthDate] gives birth back for
// fødselsnumre. About 400 numbers exist per date and style (about 200 before
// 1900); beyond them, and for years outside 1854–2039 (no series), the error
// wraps [ErrRange].
func SyntheticPerson(birth time.Time, n int, style Synthetic, d bool) (Person, error) {
	if style != SyntheticTenor && style != SyntheticNAV {
		return Person{}, errorf(ErrRange, "", "synthetic style %v, want Tenor or NAV", style)
	}
	if n < 0 {
		return Person{}, errorf(ErrRange, "", "synthetic number %d, want n >= 0", n)
	}
	year, month, day := birth.Date()
	ss := seriesFor(year)
	if ss == nil {
		return Person{}, errorf(ErrRange, "", "no individual-number series for year %d, want 1854–2039", year)
	}
	if d {
		day += 40
	}
	var b [11]byte
	put2(b[0:], day)
	put2(b[2:], int(month)+style.monthOffset())
	put2(b[4:], year%100)

	// Weighted sums of the date digits; the individual digits are added per candidate.
	s1, s2 := 0, 0
	for i := range 6 {
		s1 += w1[i] * int(b[i]-'0')
		s2 += w2[i] * int(b[i]-'0')
	}
	left := n
	for _, sr := range ss {
		for iii := sr.lo; iii <= sr.hi; iii++ {
			i1, i2, i3 := iii/100, iii/10%10, iii%10
			k1 := (11 - (s1+w1[6]*i1+w1[7]*i2+w1[8]*i3)%11) % 11
			if k1 == 10 {
				continue
			}
			k2 := (11 - (s2+w2[6]*i1+w2[7]*i2+w2[8]*i3+w2[9]*k1)%11) % 11
			if k2 == 10 {
				continue
			}
			if left > 0 {
				left--
				continue
			}
			b[6], b[7], b[8] = byte('0'+i1), byte('0'+i2), byte('0'+i3)
			b[9], b[10] = byte('0'+k1), byte('0'+k2)
			p, err := ParsePerson(string(b[:]))
			if err != nil {
				// Unreachable: the digits above are valid by construction.
				return Person{}, fmt.Errorf("ident: generated an invalid number: %w", err)
			}
			return p, nil
		}
	}
	return Person{}, errorf(ErrRange, "", "synthetic number %d beyond the %d valid for that date", n, n-left)
}

// put2 writes v (0–99) as two ASCII digits.
func put2(b []byte, v int) {
	b[0], b[1] = byte('0'+v/10), byte('0'+v%10)
}

// SyntheticOrgnr gives a valid synthetic organisation number for
// 0 <= n < 10,000,000, in O(1): '3', the 7 digits of n and the check digit, or,
// when that base has no check digit (remainder 1), '2' and the same digits.
// Lowering the first digit by 1 lowers the weighted sum by its weight 3, so
// the remainder becomes 9 and the check digit 2. Different n give different
// numbers, since n is spelt out in them. It panics for n out of range: that
// is a bug in the caller.
func SyntheticOrgnr(n int) Orgnr {
	if n < 0 || n >= 10_000_000 {
		panic("ident: SyntheticOrgnr n out of range: " + strconv.Itoa(n))
	}
	var b [9]byte
	b[0] = '3'
	for i, v := 7, n; i >= 1; i, v = i-1, v/10 {
		b[i] = byte('0' + v%10)
	}
	c, ok := orgCheckDigit(string(b[:8]))
	if !ok {
		b[0] = '2'
		c, _ = orgCheckDigit(string(b[:8]))
	}
	b[8] = byte('0' + c)
	return Orgnr(b[:])
}
