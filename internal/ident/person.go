package ident

import (
	"log/slog"
	"strconv"
	"time"
)

// Kind is the kind of person identity, read from the first digit.
type Kind int

const (
	// KindFodselsnummer: first digit 0–3, the day of birth as is.
	KindFodselsnummer Kind = iota
	// KindDNummer: first digit 4–7, day of birth + 40; for persons
	// without a fødselsnummer (temporary stays, foreign workers).
	KindDNummer
	// KindHNummer: first digit 8 or 9, a health-care help number
	// ("felles hjelpenummer", FH-nummer) whose other digits carry no meaning.
	// Month+40 help numbers are not told apart from NAV's synthetic persons;
	// see [Person.MaybeHNummer].
	KindHNummer
)

// String gives the Norwegian name of the kind.
func (k Kind) String() string {
	switch k {
	case KindFodselsnummer:
		return "fødselsnummer"
	case KindDNummer:
		return "D-nummer"
	case KindHNummer:
		return "H-nummer"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Synthetic says which test environment, if any, a person identity belongs to.
// Synthetic numbers are marked in the month digits so that they can never be
// mistaken for a real person's number.
type Synthetic int

const (
	// SyntheticNone: an ordinary number (or an FH-nummer, which has no month).
	SyntheticNone Synthetic = iota
	// SyntheticTenor: month + 80, Skatteetaten's synthetic Folkeregister
	// (Tenor). NAV's Test-Norge persons are Tenor persons and look the same.
	SyntheticTenor
	// SyntheticNAV: month + 40, NAV's own synthetic persons (Dolly, older TPS).
	SyntheticNAV
)

// String names the style.
func (s Synthetic) String() string {
	switch s {
	case SyntheticNone:
		return "none"
	case SyntheticTenor:
		return "Tenor"
	case SyntheticNAV:
		return "NAV"
	}
	return "Synthetic(" + strconv.Itoa(int(s)) + ")"
}

// monthOffset is what each style adds to the month.
func (s Synthetic) monthOffset() int {
	switch s {
	case SyntheticTenor:
		return 80
	case SyntheticNAV:
		return 40
	}
	return 0
}

// Check-digit weights (Skatteetaten). The final 1 in w2 is k2's own weight,
// which turns "k2 = 11 − Σ mod 11" into "Σ mod 11 == 0".
var (
	w1 = [10]int{3, 7, 6, 1, 8, 9, 4, 5, 2, 1}
	w2 = [11]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1}
)

// Person is a checked 11-digit person identity. The zero value is not a valid
// identity; obtain one from [ParsePerson] or [SyntheticPerson].
// Persons compare equal with == exactly when their digits are equal.
type Person struct {
	s       string
	kind    Kind
	syn     Synthetic
	r2032   bool
	century int // 1800, 1900, 2000, or 0 when unknown
}

// ParsePerson checks s as a fødselsnummer, D-nummer or H-nummer, real or
// synthetic. It is strict: exactly 11 ASCII digits, no spaces or separators
// (callers trim user input themselves). Both the classic check-digit rule and
// the rule that applies to numbers assigned from 2032 are accepted.
//
// The date part must be a date once the D-nummer and synthetic offsets are
// removed, in the century the individual number gives; where that cannot be
// known, 29 February only in a two-digit year that is a leap year in some
// century (divisible by 4).
func ParsePerson(s string) (Person, error) {
	if err := checkDigits(s, 11); err != nil {
		return Person{}, err
	}
	var d [11]int
	for i := range d {
		d[i] = int(s[i] - '0')
	}
	s1, s2 := 0, 0
	for i, w := range w1 {
		s1 += w * d[i]
	}
	for i, w := range w2 {
		s2 += w * d[i]
	}
	r1 := s1 % 11

	p := Person{s: s, r2032: r1 != 0}
	switch {
	case d[0] <= 3:
		p.kind = KindFodselsnummer
	case d[0] <= 7:
		p.kind = KindDNummer
	default:
		p.kind = KindHNummer
	}

	// The date is checked before the check digits: a wrong date is the more
	// useful message when both are wrong.
	if p.kind != KindHNummer {
		switch d[2] {
		case 4, 5:
			p.syn = SyntheticNAV
		case 8, 9:
			p.syn = SyntheticTenor
		}
		day, month, yy := p.dateParts(d)
		// Century is known only for fødselsnumre under the classic rule: D-numbers
		// are drawn from other series since 2021, and 2032-rule numbers encode none.
		if p.kind == KindFodselsnummer && !p.r2032 {
			p.century = century(yy, d[6]*100+d[7]*10+d[8])
		}
		if month < 1 || month > 12 {
			return Person{}, errorf(ErrDate, "måneden i fødselsdatoen (%d) finnes ikke", "month %d out of range", month)
		}
		if day < 1 || day > daysIn(month, p.century, yy) {
			return Person{}, errorf(ErrDate, "dagen i fødselsdatoen (%d) finnes ikke", "day %d out of range", day)
		}
	}

	// From 2032 k1 may leave a remainder of 0–3 (four candidates per number);
	// before, only 0. Σ includes k1 through its weight 1.
	if r1 > 3 {
		return Person{}, errorf(ErrCheckDigit, "det første kontrollsifferet stemmer ikke", "check digit 1 does not match")
	}
	if s2%11 != 0 {
		return Person{}, errorf(ErrCheckDigit, "det andre kontrollsifferet stemmer ikke", "check digit 2 does not match")
	}
	return p, nil
}

// dateParts removes the D-nummer and synthetic offsets. A month tens digit that
// belongs to no style (2, 3, 6, 7) is left as is and fails the range check.
func (p Person) dateParts(d [11]int) (day, month, yy int) {
	day = d[0]*10 + d[1]
	if p.kind == KindDNummer {
		day -= 40
	}
	month = d[2]*10 + d[3] - p.syn.monthOffset()
	yy = d[4]*10 + d[5]
	return day, month, yy
}

// century derives the century from the individual number iii, following the
// series allotted before 2032 (1854–1899: 500–749; 1900–1999: 000–499 and,
// from 1940, 900–999; 2000–2039: 500–999). It returns 0 where no series fits.
func century(yy, iii int) int {
	switch {
	case iii <= 499:
		return 1900
	case iii <= 749 && yy >= 54:
		return 1800
	case yy <= 39:
		return 2000
	case iii >= 900 && yy >= 40:
		return 1900
	}
	return 0
}

// daysIn is the number of days in month of the year century+yy. When the
// century is unknown (0) the number may be of any century the series allow,
// so 29 February is a date when yy is a leap year in one of them: yy
// divisible by 4 (00 is 2000). A 29 February in a year that is a leap year in
// no possible century is never a date.
func daysIn(month, century, yy int) int {
	switch month {
	case 2:
		leap := yy%4 == 0
		if century != 0 {
			year := century + yy
			leap = year%4 == 0 && (year%100 != 0 || year%400 == 0)
		}
		if leap {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// String gives the 11 digits. They are personal data: do not log them.
func (p Person) String() string { return p.s }

// LogValue keeps the digits out of log/slog output; only the kind is logged.
func (p Person) LogValue() slog.Value {
	if p.s == "" {
		return slog.StringValue("ident.Person(zero)")
	}
	return slog.StringValue("ident.Person(" + p.kind.String() + ", redacted)")
}

// Kind is fødselsnummer, D-nummer or H-nummer (FH-nummer), read from the first digit.
func (p Person) Kind() Kind { return p.kind }

// Synthetic gives the test style marked in the month digits.
//
// Month + 40 is both NAV's synthetic style and the older H-nummer. In test
// environments, where this code meets such numbers, they are NAV's synthetic
// persons, so they are reported as SyntheticNAV with the kind the day digit
// gives; [Person.MaybeHNummer] says that the number could also be a help number.
func (p Person) Synthetic() Synthetic { return p.syn }

// IsSynthetic reports whether the number is marked as a test person.
func (p Person) IsSynthetic() bool { return p.syn != SyntheticNone }

// MaybeHNummer reports whether the number could be a health-care help number:
// an FH-nummer (first digit 8 or 9), or a month + 40 number. In a production
// register the latter are H-numbers, which are internal to health care and
// never a register identity; in test environments they are NAV's synthetic
// persons. Which one it is depends on where the number came from.
func (p Person) MaybeHNummer() bool {
	return p.kind == KindHNummer || p.syn == SyntheticNAV
}

// Rule2032 reports whether the first check digit is valid only under the rule
// for numbers assigned from 2032 (remainder 1, 2 or 3 instead of 0).
func (p Person) Rule2032() bool { return p.r2032 }

// DateParts gives the date part with the D-nummer and synthetic offsets
// removed: day 1–31, month 1–12 and the two-digit year. ok is false for an
// FH-nummer, which has no date part, and for the zero Person.
func (p Person) DateParts() (day, month, yy int, ok bool) {
	if p.s == "" || p.kind == KindHNummer {
		return 0, 0, 0, false
	}
	var d [11]int
	for i := range d {
		d[i] = int(p.s[i] - '0')
	}
	day, month, yy = p.dateParts(d)
	return day, month, yy, true
}

// BirthDate decodes the birth date, at midnight UTC. ok is false when the
// century cannot be known: for D-numbers, FH-numbers, numbers valid only
// under the 2032 rule, and individual numbers outside the old series. Numbers
// assigned from 2032 can satisfy the classic rule by chance, so treat the
// result as a hint; the register's birth date is authoritative.
func (p Person) BirthDate() (time.Time, bool) {
	if p.century == 0 {
		return time.Time{}, false
	}
	day, month, yy, _ := p.DateParts()
	return time.Date(p.century+yy, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
}
