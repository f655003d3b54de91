package ident

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// genArgs are the arguments of one SyntheticPerson call, to test injectivity.
type genArgs struct {
	birth string
	n     int
	style Synthetic
	d     bool
}

func TestSyntheticPersonProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(1854, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2039, 12, 31, 0, 0, 0, 0, time.UTC)
	dates := []time.Time{
		start,
		time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(1940, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		// The same day and month a century apart must not collide.
		time.Date(1925, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(1875, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(1975, 6, 15, 0, 0, 0, 0, time.UTC),
		end,
	}
	days := int(end.Sub(start).Hours() / 24)
	for range 700 {
		dates = append(dates, start.AddDate(0, 0, rng.IntN(days+1)))
	}

	seen := make(map[Person]genArgs)
	for _, birth := range dates {
		for _, n := range []int{0, 1, 2, 3 + rng.IntN(200)} {
			for _, style := range []Synthetic{SyntheticTenor, SyntheticNAV} {
				for _, d := range []bool{false, true} {
					args := genArgs{birth.Format(time.DateOnly), n, style, d}
					p, err := SyntheticPerson(birth, n, style, d)
					if err != nil {
						t.Fatalf("SyntheticPerson%+v: %v", args, err)
					}
					checkSynthetic(t, p, birth, style, d)
					if prev, dup := seen[p]; dup && prev != args {
						t.Errorf("SyntheticPerson%+v and SyntheticPerson%+v give the same number", prev, args)
					}
					seen[p] = args
				}
			}
		}
	}
	if len(seen) < 10000 {
		t.Errorf("only %d distinct numbers generated, want at least 10000", len(seen))
	}
}

func checkSynthetic(t *testing.T, p Person, birth time.Time, style Synthetic, d bool) {
	t.Helper()
	where := birth.Format(time.DateOnly) + " " + style.String()
	q, err := ParsePerson(p.String())
	if err != nil {
		t.Fatalf("%s: generated number does not parse: %v", where, err)
	}
	if q != p {
		t.Errorf("%s: ParsePerson(String()) = %+v, want %+v", where, q, p)
	}
	if !p.IsSynthetic() || p.Synthetic() != style || p.Rule2032() {
		t.Errorf("%s: Synthetic() = %v, Rule2032() = %v, want %v, false", where, p.Synthetic(), p.Rule2032(), style)
	}
	if got, want := p.MaybeHNummer(), style == SyntheticNAV; got != want {
		t.Errorf("%s: MaybeHNummer() = %v, want %v", where, got, want)
	}
	wantKind := KindFodselsnummer
	if d {
		wantKind = KindDNummer
	}
	if got := p.Kind(); got != wantKind {
		t.Errorf("%s: Kind() = %v, want %v", where, got, wantKind)
	}
	day, month, yy, ok := p.DateParts()
	if !ok || day != birth.Day() || month != int(birth.Month()) || yy != birth.Year()%100 {
		t.Errorf("%s: DateParts() = %d, %d, %d, %v", where, day, month, yy, ok)
	}
	bd, ok := p.BirthDate()
	switch {
	case d && ok:
		t.Errorf("%s: D-nummer has a known birth date %s", where, bd.Format(time.DateOnly))
	case !d && (!ok || !bd.Equal(birth)):
		t.Errorf("%s: BirthDate() = %s, %v, want %s", where, bd.Format(time.DateOnly), ok, where)
	}
}

// TestSyntheticPersonExhaustive walks every n for a few dates: all distinct,
// all valid, and then a clean ErrRange.
func TestSyntheticPersonExhaustive(t *testing.T) {
	for _, birth := range []time.Time{
		time.Date(1870, 3, 1, 0, 0, 0, 0, time.UTC),  // 500–749
		time.Date(1930, 7, 31, 0, 0, 0, 0, time.UTC), // 000–499
		time.Date(1985, 1, 9, 0, 0, 0, 0, time.UTC),  // 000–499, 900–999
		time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), // 500–999
	} {
		for _, style := range []Synthetic{SyntheticTenor, SyntheticNAV} {
			for _, d := range []bool{false, true} {
				seen := make(map[Person]bool)
				n := 0
				for ; ; n++ {
					p, err := SyntheticPerson(birth, n, style, d)
					if errors.Is(err, ErrRange) {
						break
					}
					if err != nil {
						t.Fatalf("SyntheticPerson(%d): %v", n, err)
					}
					checkSynthetic(t, p, birth, style, d)
					if seen[p] {
						t.Fatalf("n=%d repeats an earlier number", n)
					}
					seen[p] = true
				}
				// About (10/11)² of the individual numbers have both check digits.
				if n < 150 || n > 600 {
					t.Errorf("%s %v d=%v: %d numbers, want 150–600", birth.Format(time.DateOnly), style, d, n)
				}
			}
		}
	}
}

func TestSyntheticPersonTenorExample(t *testing.T) {
	// Skatteetaten: a synthetic person born 01.11.2024 gets 019124.
	p, err := SyntheticPerson(time.Date(2024, 11, 1, 12, 0, 0, 0, time.UTC), 0, SyntheticTenor, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String()[:6]; got != "019124" {
		t.Errorf("date part = %s, want 019124", got)
	}
}

func TestSyntheticPersonErrors(t *testing.T) {
	ok := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		birth time.Time
		n     int
		style Synthetic
	}{
		{"style none", ok, 0, SyntheticNone},
		{"unknown style", ok, 0, Synthetic(9)},
		{"negative n", ok, -1, SyntheticTenor},
		{"n too large", ok, 1000, SyntheticTenor},
		{"before 1854", time.Date(1853, 12, 31, 0, 0, 0, 0, time.UTC), 0, SyntheticTenor},
		{"after 2039", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), 0, SyntheticNAV},
	}
	for _, tt := range tests {
		if _, err := SyntheticPerson(tt.birth, tt.n, tt.style, false); !errors.Is(err, ErrRange) {
			t.Errorf("%s: error = %v, want ErrRange", tt.name, err)
		}
	}
}

// checkSyntheticOrgnr asserts that n's number is valid, synthetic, spells out
// n, and starts with 2 only when 3 had no check digit.
func checkSyntheticOrgnr(t *testing.T, n int) Orgnr {
	o := SyntheticOrgnr(n)
	if _, err := ParseOrgnr(string(o)); err != nil {
		t.Fatalf("SyntheticOrgnr(%d) = %s: %v", n, o, err)
	}
	if !o.IsSynthetic() {
		t.Fatalf("SyntheticOrgnr(%d) = %s is not synthetic", n, o)
	}
	if got, want := string(o[1:8]), itoa7(n); got != want {
		t.Fatalf("SyntheticOrgnr(%d) = %s, want digits %s", n, o, want)
	}
	_, threeOK := orgCheckDigit("3" + itoa7(n))
	if got, want := o[0] == '3', threeOK; got != want {
		t.Fatalf("SyntheticOrgnr(%d) = %s, starts with 3: %v, want %v", n, o, got, want)
	}
	return o
}

func itoa7(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 7 {
		s = "0" + s
	}
	return s
}

func TestSyntheticOrgnrExhaustiveSmall(t *testing.T) {
	seen := make(map[Orgnr]int, 200_001)
	twos := 0
	for n := 0; n <= 200_000; n++ {
		o := checkSyntheticOrgnr(t, n)
		if prev, dup := seen[o]; dup {
			t.Fatalf("SyntheticOrgnr(%d) = SyntheticOrgnr(%d) = %s", n, prev, o)
		}
		seen[o] = n
		if o[0] == '2' {
			twos++
		}
	}
	// About 1 in 11 bases needs the fallback.
	if twos < 10000 || twos > 30000 {
		t.Errorf("%d numbers start with 2, want about 18000", twos)
	}
}

// TestSyntheticOrgnrAll checks the fallback claim over the whole domain
// (every 7th n with -short). Injectivity follows from n being spelt out.
func TestSyntheticOrgnrAll(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 7
	}
	for n := 0; n < 10_000_000; n += step {
		checkSyntheticOrgnr(t, n)
	}
	checkSyntheticOrgnr(t, 9_999_999)
}

func TestSyntheticOrgnrPanics(t *testing.T) {
	for _, n := range []int{-1, 10_000_000} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SyntheticOrgnr(%d) did not panic", n)
				}
			}()
			SyntheticOrgnr(n)
		}()
	}
}
