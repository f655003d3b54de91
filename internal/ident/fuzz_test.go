package ident

import (
	"strings"
	"testing"
	"time"
)

var personSeeds = []string{
	"30108299939", "30108299920", "02013299997", "08858096031", "24900597807",
	"01906996320", "20036914700", "15507600333", "55507608360", "27010100017",
	"", "12345", "30108299921", "30138299920", "72108299920", "٣٠١٠٨٢٩٩٩٢٠",
	"3010829992\xff", "30108299920 ",
	"29029980088", "69028100094", // 29 February in a year leap in no century (issue 11, item 13)
}

var orgSeeds = []string{
	"889640782", "974760673", "974761076", "987414502", "310149942", "313876144",
	"", "123456785", "889640783", "٨٨٩٦٤٠٧٨٢", "300123456",
}

// checkParsed holds for every parser: a result is the input, all ASCII
// digits; an error never contains a digit string long enough to identify.
func checkParsed(t *testing.T, in, out string, err error) {
	t.Helper()
	if err != nil {
		if out != "" {
			t.Errorf("error %v with non-empty result", err)
		}
		if len(in) >= 6 && allDigits(in) && strings.Contains(err.Error(), in) {
			t.Errorf("error %q echoes the input", err)
		}
		return
	}
	if out != in {
		t.Errorf("parsed %q, String() = %q", in, out)
	}
	if !allDigits(out) {
		t.Errorf("parsed %q has a non-ASCII-digit", in)
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func FuzzParsePerson(f *testing.F) {
	for _, s := range personSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePerson(s)
		checkParsed(t, s, p.String(), err)
		if err != nil {
			return
		}
		if len(s) != 11 {
			t.Errorf("parsed %d bytes", len(s))
		}
		if day, month, _, ok := p.DateParts(); ok && (day < 1 || day > 31 || month < 1 || month > 12) {
			t.Errorf("DateParts = %d, %d", day, month)
		}
		if bd, ok := p.BirthDate(); ok && bd.Format("020106") != s[:6] && p.Synthetic() == SyntheticNone && p.Kind() == KindFodselsnummer {
			t.Errorf("BirthDate %s does not match the digits", bd)
		}
		// No accepted number has an impossible date: some year with its two
		// digits, in a century the number allows, has that day (Rule AA-14).
		if day, month, yy, ok := p.DateParts(); ok && !possibleDate(p, day, month, yy) {
			t.Errorf("accepted an impossible date %02d.%02d.%02d", day, month, yy)
		}
	})
}

func FuzzParseOrgnr(f *testing.F) {
	for _, s := range orgSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrgnr(s)
		checkParsed(t, s, string(o), err)
		if err == nil && len(s) != 9 {
			t.Errorf("parsed %d bytes", len(s))
		}
	})
}

func FuzzParseLegacyEmployer(f *testing.F) {
	for _, s := range append(orgSeeds, personSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseLegacyEmployer(s)
		checkParsed(t, s, out, err)
		if err == nil && len(s) != 9 && len(s) != 11 {
			t.Errorf("parsed %d bytes", len(s))
		}
	})
}

func BenchmarkParsePerson(b *testing.B) {
	for b.Loop() {
		if _, err := ParsePerson("08858096031"); err != nil {
			b.Fatal(err)
		}
	}
}

// possibleDate reports whether day.month.yy is a calendar date in some year
// ending in yy: in the birth date's century when the number gives one, else
// in any century from 1800 to 2000.
func possibleDate(p Person, day, month, yy int) bool {
	centuries := []int{1800, 1900, 2000}
	if bd, ok := p.BirthDate(); ok {
		centuries = []int{bd.Year() - yy}
	}
	for _, c := range centuries {
		d := time.Date(c+yy, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if d.Day() == day && int(d.Month()) == month {
			return true
		}
	}
	return false
}
