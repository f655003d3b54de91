package ident

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// withChecks completes 9 digits with classic check digits, or returns "" when
// no classic number has that prefix. Written from the textbook rule
// (k = 11 − Σ mod 11; 11 → 0; 10 → none) to cross-check ParsePerson.
func withChecks(first9 string) string {
	ws1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	ws2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	k := func(digits string, ws []int) int {
		sum := 0
		for i, w := range ws {
			sum += w * int(digits[i]-'0')
		}
		k := 11 - sum%11
		if k == 11 {
			k = 0
		}
		return k
	}
	k1 := k(first9, ws1)
	if k1 == 10 {
		return ""
	}
	first10 := first9 + string(rune('0'+k1))
	k2 := k(first10, ws2)
	if k2 == 10 {
		return ""
	}
	return first10 + string(rune('0'+k2))
}

// validFrom finds a classic number whose first 6 digits are date, trying
// individual numbers from iii upward.
func validFrom(t *testing.T, date string, iii int) string {
	t.Helper()
	for ; iii <= 999; iii++ {
		if s := withChecks(date + string([]byte{byte('0' + iii/100), byte('0' + iii/10%10), byte('0' + iii%10)})); s != "" {
			return s
		}
	}
	t.Fatalf("no classic number for %s", date)
	return ""
}

func TestParsePersonExamples(t *testing.T) {
	tests := []struct {
		in       string
		kind     Kind
		syn      Synthetic
		rule2032 bool
		maybeH   bool
		birth    string // "" when the century cannot be known
		day, mon int
	}{
		// Skatteetaten's 2032 examples.
		{"30108299939", KindFodselsnummer, SyntheticNone, true, false, "", 30, 10},
		{"30108299920", KindFodselsnummer, SyntheticNone, false, false, "1982-10-30", 30, 10},
		{"02013299997", KindFodselsnummer, SyntheticNone, false, false, "2032-01-02", 2, 1},
		// Tenor persons (month + 80).
		{"08858096031", KindFodselsnummer, SyntheticTenor, false, false, "1980-05-08", 8, 5},
		{"24900597807", KindFodselsnummer, SyntheticTenor, false, false, "2005-10-24", 24, 10},
		{"01906996320", KindFodselsnummer, SyntheticTenor, false, false, "1969-10-01", 1, 10},
		// An ordinary 1969 number.
		{"20036914700", KindFodselsnummer, SyntheticNone, false, false, "1969-03-20", 20, 3},
		// NAV pair (month + 40), fødselsnummer and D-nummer.
		{"15507600333", KindFodselsnummer, SyntheticNAV, false, true, "1976-10-15", 15, 10},
		{"55507608360", KindDNummer, SyntheticNAV, false, true, "", 15, 10},
		// NAV's test person with protected address: an ordinary-looking
		// fødselsnummer (1901 by its series); the protection is register data, not in the number.
		{"27010100017", KindFodselsnummer, SyntheticNone, false, false, "1901-01-27", 27, 1},
	}
	for _, tt := range tests {
		p, err := ParsePerson(tt.in)
		if err != nil {
			t.Errorf("ParsePerson(%s): %v", tt.in, err)
			continue
		}
		if got := p.String(); got != tt.in {
			t.Errorf("String() = %s, want %s", got, tt.in)
		}
		if got := p.Kind(); got != tt.kind {
			t.Errorf("%s: Kind() = %v, want %v", tt.in, got, tt.kind)
		}
		if got := p.Synthetic(); got != tt.syn {
			t.Errorf("%s: Synthetic() = %v, want %v", tt.in, got, tt.syn)
		}
		if got, want := p.IsSynthetic(), tt.syn != SyntheticNone; got != want {
			t.Errorf("%s: IsSynthetic() = %v, want %v", tt.in, got, want)
		}
		if got := p.Rule2032(); got != tt.rule2032 {
			t.Errorf("%s: Rule2032() = %v, want %v", tt.in, got, tt.rule2032)
		}
		if got := p.MaybeHNummer(); got != tt.maybeH {
			t.Errorf("%s: MaybeHNummer() = %v, want %v", tt.in, got, tt.maybeH)
		}
		bd, ok := p.BirthDate()
		got := ""
		if ok {
			got = bd.Format(time.DateOnly)
		}
		if got != tt.birth {
			t.Errorf("%s: BirthDate() = %q, want %q", tt.in, got, tt.birth)
		}
		if day, mon, _, ok := p.DateParts(); !ok || day != tt.day || mon != tt.mon {
			t.Errorf("%s: DateParts() = %d, %d, %v, want %d, %d, true", tt.in, day, mon, ok, tt.day, tt.mon)
		}
	}
}

func TestParsePersonErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
		msg  string
	}{
		{"", ErrLength, `ident: empty, want 11 digits`},
		{"12345", ErrLength, `ident: 5 characters, want 11 digits`},
		{"301082999200", ErrLength, `ident: 12 characters, want 11 digits`},
		{"30108299920 ", ErrLength, `ident: 12 characters, want 11 digits`},
		{"3010829992", ErrLength, `ident: 10 characters, want 11 digits`},
		{"301a8299920", ErrFormat, `ident: non-digit at position 4`},
		{" 0108299920", ErrFormat, `ident: non-digit at position 1`},
		{"3010829992-", ErrFormat, `ident: non-digit at position 11`},
		{"301082-9992", ErrFormat, `ident: non-digit at position 7`},
		{"٣٠١٠٨٢٩٩٩٢٠", ErrFormat, `ident: non-digit at position 1`}, // Arabic-Indic digits
		{"３０１０８２９９９２０", ErrFormat, `ident: non-digit at position 1`}, // fullwidth digits
		{"3010829992\xff", ErrFormat, `ident: non-digit at position 11`},
		{"30108299960", ErrCheckDigit, `ident: check digit 1 does not match`},
		{"30108299921", ErrCheckDigit, `ident: check digit 2 does not match`},
		{"20036914701", ErrCheckDigit, `ident: check digit 2 does not match`},
		{"08858096032", ErrCheckDigit, `ident: check digit 2 does not match`},
		{"30138299920", ErrDate, `ident: month 13 out of range`},
		{"30008299920", ErrDate, `ident: month 0 out of range`},
		{"30938299920", ErrDate, `ident: month 13 out of range`}, // Tenor 93 − 80
		{"30658299920", ErrDate, `ident: month 65 out of range`}, // no style adds 60
		{"30258299920", ErrDate, `ident: month 25 out of range`},
		{"32108299920", ErrDate, `ident: day 32 out of range`},
		{"00108299920", ErrDate, `ident: day 0 out of range`},
		{"72108299920", ErrDate, `ident: day 32 out of range`}, // D-nummer 72 − 40
		{"31048299920", ErrDate, `ident: day 31 out of range`},
		{"30028299920", ErrDate, `ident: day 30 out of range`},
	}
	for _, tt := range tests {
		_, err := ParsePerson(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParsePerson(%q) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got := err.Error(); got != tt.msg {
			t.Errorf("ParsePerson(%q) error = %q, want %q", tt.in, got, tt.msg)
		}
		if len(tt.in) >= 5 && strings.Contains(err.Error(), tt.in) {
			t.Errorf("error %q echoes the input", err)
		}
	}
}

// 29 February is a date only in a leap year of the century the individual
// number gives; where no century can be known (D-numbers, synthetic numbers,
// individual numbers outside every series, the 2032 rule), only in a
// two-digit year that is a leap year in some century.
func TestParsePersonLeapDay(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		// Series 000–499: 1900–1999.
		{"1980 leap year", validFrom(t, "290280", 0), true},
		{"1981 not leap", validFrom(t, "290281", 0), false},
		{"1900 not leap (iii 000–499)", validFrom(t, "290200", 0), false},
		// Series 500–749: 1854–1899 (yy 54–99), 2000–2039 (yy 00–39).
		{"1856 leap (iii 500–749)", validFrom(t, "290256", 500), true},
		{"1899 not leap (iii 500–749)", validFrom(t, "290299", 500), false},
		{"2000 leap (iii 500–999)", validFrom(t, "290200", 500), true},
		{"2001 not leap", validFrom(t, "290201", 500), false},
		{"2004 leap (iii 750–899)", validFrom(t, "290204", 750), true},
		// Series 750–899 with yy 40–99 belongs to no century: leap only if yy is.
		{"series 750–899 in 1999, no century: not leap", validFrom(t, "290299", 800), false},
		{"series 750–899 in 1981, no century: not leap", validFrom(t, "290281", 750), false},
		{"series 750–899 in 1984, no century: leap", validFrom(t, "290284", 750), true},
		// Series 900–999: 1940–1999 (yy 40–99), 2000–2039 (yy 00–39).
		{"1944 leap (iii 900–999)", validFrom(t, "290244", 900), true},
		{"1999 not leap (iii 900–999)", validFrom(t, "290299", 900), false},
		{"2036 leap (iii 900–999)", validFrom(t, "290236", 900), true},
		// No century is known for D-numbers and synthetic numbers.
		{"D-nummer 1981, not leap in any century", validFrom(t, "690281", 0), false},
		{"D-nummer 1984", validFrom(t, "690284", 0), true},
		{"D-nummer year 00 (2000 is leap)", validFrom(t, "690200", 0), true},
		{"Tenor 1981 not leap", validFrom(t, "298281", 0), false},
		{"NAV 1984 leap", validFrom(t, "294284", 0), true},
		{"30 February, century unknown", validFrom(t, "700284", 0), false},
	}
	for _, tt := range tests {
		_, err := ParsePerson(tt.in)
		if got := err == nil; got != tt.valid {
			t.Errorf("%s: ParsePerson error = %v, want valid %v", tt.name, err, tt.valid)
		}
		if err != nil && !errors.Is(err, ErrDate) {
			t.Errorf("%s: error = %v, want ErrDate", tt.name, err)
		}
	}

	// Under the 2032 rule the century is unknown: 29 February 1984 passes
	// without a birth date, 29 February 1981 never does.
	found := false
	for k1 := '0'; k1 <= '9'; k1++ {
		for k2 := '0'; k2 <= '9'; k2++ {
			if p, err := ParsePerson("290281123" + string(k1) + string(k2)); err == nil {
				t.Errorf("29 February 1981 accepted under the %v rule", map[bool]string{true: "2032", false: "classic"}[p.Rule2032()])
			}
			p, err := ParsePerson("290284123" + string(k1) + string(k2))
			if err == nil && p.Rule2032() {
				found = true
				if _, ok := p.BirthDate(); ok {
					t.Errorf("%s: BirthDate ok under the 2032 rule", p)
				}
			}
		}
	}
	if !found {
		t.Errorf("no 2032-rule number found for 29 February 1984")
	}
}

// TestCheckDigitRule compares ParsePerson with the textbook rules over random
// prefixes: every k1 with (Σ + k1) mod 11 in 0–3 is accepted when k2 exists,
// and the classic one is exactly the one not flagged Rule2032.
func TestCheckDigitRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		date := time.Date(1900+rng.IntN(140), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
		prefix := date.Format("020106") + string([]byte{byte('0' + rng.IntN(10)), byte('0' + rng.IntN(10)), byte('0' + rng.IntN(10))})
		classic := withChecks(prefix)
		sum := 0
		for i, w := range []int{3, 7, 6, 1, 8, 9, 4, 5, 2} {
			sum += w * int(prefix[i]-'0')
		}
		for k1 := range 10 {
			for k2 := range 10 {
				s := prefix + string(rune('0'+k1)) + string(rune('0'+k2))
				p, err := ParsePerson(s)
				r := (sum + k1) % 11
				sum2 := 0
				for i, w := range []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1} {
					sum2 += w * int(s[i]-'0')
				}
				want := r <= 3 && sum2%11 == 0
				if got := err == nil; got != want {
					t.Fatalf("%s: valid = %v (%v), want %v", s, got, err, want)
				}
				if err != nil {
					continue
				}
				if got, want := !p.Rule2032(), s == classic; got != want {
					t.Fatalf("%s: classic = %v, want %v (textbook %q)", s, got, want, classic)
				}
			}
		}
	}
}

func TestFHNummer(t *testing.T) {
	// An FH-nummer: first digit 8 or 9, the rest random; no date to check.
	s := withChecks("899999123")
	if s == "" {
		s = withChecks("899999124")
	}
	p, err := ParsePerson(s)
	if err != nil {
		t.Fatalf("ParsePerson(FH): %v", err)
	}
	if got := p.Kind(); got != KindHNummer {
		t.Errorf("Kind() = %v, want %v", got, KindHNummer)
	}
	if p.IsSynthetic() || !p.MaybeHNummer() {
		t.Errorf("IsSynthetic() = %v, MaybeHNummer() = %v, want false, true", p.IsSynthetic(), p.MaybeHNummer())
	}
	if _, ok := p.BirthDate(); ok {
		t.Errorf("BirthDate ok for an FH-nummer")
	}
	if _, _, _, ok := p.DateParts(); ok {
		t.Errorf("DateParts ok for an FH-nummer")
	}
}

func TestKindAndSyntheticString(t *testing.T) {
	tests := []struct{ got, want string }{
		{KindFodselsnummer.String(), "fødselsnummer"},
		{KindDNummer.String(), "D-nummer"},
		{KindHNummer.String(), "H-nummer"},
		{Kind(9).String(), "Kind(9)"},
		{SyntheticNone.String(), "none"},
		{SyntheticTenor.String(), "Tenor"},
		{SyntheticNAV.String(), "NAV"},
		{Synthetic(7).String(), "Synthetic(7)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestZeroPerson(t *testing.T) {
	var p Person
	if p.String() != "" || p.IsSynthetic() || p.Rule2032() {
		t.Errorf("zero Person = %q, synthetic %v, 2032 %v", p.String(), p.IsSynthetic(), p.Rule2032())
	}
	if _, ok := p.BirthDate(); ok {
		t.Errorf("zero Person has a birth date")
	}
	if _, _, _, ok := p.DateParts(); ok {
		t.Errorf("zero Person has date parts")
	}
}

func TestPersonLogValueRedacts(t *testing.T) {
	p, err := ParsePerson("15507600333")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("lookup", "person", p)
	if got := buf.String(); strings.Contains(got, "15507600333") || !strings.Contains(got, "redacted") {
		t.Errorf("log line = %q, want redacted digits", got)
	}
}

// TestNorwegianMessages: every error a person typing a number can get has a
// Norwegian message naming what is wrong, never the number (issue 16, item 8).
func TestNorwegianMessages(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"30108299921", "det andre kontrollsifferet stemmer ikke"},
		{"30108299960", "det første kontrollsifferet stemmer ikke"},
		{"12345", "nummeret har 5 tegn, det skal ha 11 sifre"},
		{"301a8299920", "tegn nummer 4 er ikke et siffer"},
		{"30138299920", "måneden i fødselsdatoen (13) finnes ikke"},
	} {
		_, err := ParsePerson(tc.in)
		if got := Norwegian(err); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
	_, err := ParseOrgnr("974760674")
	if got := Norwegian(err); got != "kontrollsifferet stemmer ikke" {
		t.Errorf("orgnr: %q", got)
	}
	if got := Norwegian(errors.New("other")); got != "ugyldig nummer" {
		t.Errorf("foreign error: %q", got)
	}
}
