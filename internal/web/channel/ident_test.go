package channel

import (
	"strconv"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/register"
)

// withChecks completes nine digits with the two check digits of the classic
// rule; ok is false when there are none.
func withChecks(nine string) (string, bool) {
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	check := func(s string, w []int) int {
		sum := 0
		for i, c := range s {
			sum += int(c-'0') * w[i]
		}
		return (11 - sum%11) % 11
	}
	k1 := check(nine, w1)
	if k1 == 10 {
		return "", false
	}
	k2 := check(nine+strconv.Itoa(k1), w2)
	if k2 == 10 {
		return "", false
	}
	return nine + strconv.Itoa(k1) + strconv.Itoa(k2), true
}

// Issue 11, item 14: one rule for synthetic numbers. A test environment takes
// synthetic identities and organisation numbers only; production takes real
// ones only — no Tenor (month + 80) or NAV (month + 40, in production an
// H-nummer) number, no FH-nummer, no synthetic organisation number — each
// refused with a Norwegian reason.
func TestIdentifiersByEnvironment(t *testing.T) {
	born := time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC)
	tenor, err := ident.SyntheticPerson(born, 123, ident.SyntheticTenor, false)
	if err != nil {
		t.Fatal(err)
	}
	nav, err := ident.SyntheticPerson(born, 123, ident.SyntheticNAV, false)
	if err != nil {
		t.Fatal(err)
	}
	const real = "20036914700" // a fødselsnummer of the ordinary kind
	fh := ""
	for n := 800_000_000; fh == ""; n++ {
		if c, ok := withChecks(strconv.Itoa(n)); ok {
			if p, err := ident.ParsePerson(c); err == nil && p.Kind() == ident.KindHNummer {
				fh = c
			}
		}
	}
	realOrg, synOrg := "974760673", string(ident.SyntheticOrgnr(5_000_000)) // not of a legacy employer number's form (300…302)

	test := New(Config{Env: register.EnvTest})
	prod := New(Config{Env: register.EnvProd})
	for _, tc := range []struct {
		name string
		s    *Shared
		id   string
		why  string // "" for accepted
	}{
		{"test: Tenor", test, tenor.String(), ""},
		{"test: NAV", test, nav.String(), ""},
		{"test: real", test, real, "testmiljøet har bare syntetiske identiteter"},
		{"prod: real", prod, real, ""},
		{"prod: Tenor", prod, tenor.String(), "produksjonsmiljøet tar bare ekte identiteter, ikke syntetiske (Tenor eller NAV) eller H-numre"},
		{"prod: NAV", prod, nav.String(), "produksjonsmiljøet tar bare ekte identiteter, ikke syntetiske (Tenor eller NAV) eller H-numre"},
		{"prod: FH-nummer", prod, fh, "et H-nummer er ikke en identitet i registeret"},
	} {
		got, why, ok := tc.s.ParsePerson(tc.id)
		if ok != (tc.why == "") || why != tc.why || (ok && got != tc.id) {
			t.Errorf("%s: ParsePerson = %q, %q, %v; want reason %q", tc.name, got, why, ok, tc.why)
		}
		// As an employer (a private person employing someone) the same rule holds.
		if _, why, ok := tc.s.ParseEmployer(tc.id); ok != (tc.why == "") || why != tc.why {
			t.Errorf("%s: ParseEmployer = %q, %v; want reason %q", tc.name, why, ok, tc.why)
		}
	}
	for _, tc := range []struct {
		name string
		s    *Shared
		id   string
		why  string
	}{
		{"test: synthetic orgnr", test, synOrg, ""},
		{"test: real orgnr", test, realOrg, "testmiljøet har bare syntetiske organisasjonsnumre"},
		{"prod: real orgnr", prod, realOrg, ""},
		{"prod: synthetic orgnr", prod, synOrg, "produksjonsmiljøet tar bare ekte organisasjonsnumre, ikke syntetiske"},
	} {
		if _, why, ok := tc.s.ParseOrgnr(tc.id); ok != (tc.why == "") || why != tc.why {
			t.Errorf("%s: ParseOrgnr = %q, %v; want reason %q", tc.name, why, ok, tc.why)
		}
		if _, why, ok := tc.s.ParseEmployer(tc.id); ok != (tc.why == "") || why != tc.why {
			t.Errorf("%s: ParseEmployer = %q, %v; want reason %q", tc.name, why, ok, tc.why)
		}
	}
	// A legacy employer number that happens to pass the organisation number's check digit stays one in production.
	if _, _, ok := prod.ParseEmployer("300000002"); !ok {
		t.Error("prod refuses a legacy employer number")
	}
}
