package register

import (
	"encoding/json"
	"reflect"
	"testing"
)

func testPopulation(t testing.TB, persons int) *Population {
	t.Helper()
	p, err := NewPopulation(PopulationConfig{Persons: persons, Seed: 7, AsOf: "2026-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Rule AA-14: every generated record is valid in a test environment, which accepts synthetic identities only.
func TestPopulationIsValidAndSynthetic(t *testing.T) {
	p := testPopulation(t, 5000)
	for _, o := range p.Organisations() {
		o := o
		if err := o.Validate(EnvTest); err != nil {
			t.Fatalf("organisation %s: %v", o.Organisasjonsnummer, err)
		}
	}
	types := map[string]int{}
	var protected, afs, withHistory, hourly, leave, maritime, ended, future, concurrent int
	seen := map[string]bool{}
	for i := 0; i < p.Persons(); i++ {
		per, list := p.Person(i)
		if err := per.Validate(EnvTest); err != nil {
			t.Fatalf("person %d: %v", i, err)
		}
		if seen[per.Ident] {
			t.Fatalf("person %d: identity repeats", i)
		}
		seen[per.Ident] = true
		if per.Protected() {
			protected++
		}
		active := 0
		for k := range list {
			a := &list[k]
			if err := a.Validate(EnvTest); err != nil {
				b, _ := json.Marshal(a)
				t.Fatalf("person %d arbeidsforhold %d: %v\n%s", i, k, err, b)
			}
			if a.ArbeidstakerIdent() != per.Ident {
				t.Fatalf("person %d: arbeidstaker is not the person", i)
			}
			afs++
			types[a.Type.Kode]++
			if len(a.Ansettelsesdetaljer) > 1 {
				withHistory++
			}
			if len(a.TimerMedTimeloenn) > 0 {
				hourly++
			}
			if len(a.Permisjoner) > 0 {
				leave++
			}
			switch a.Ansettelsesperiode.StatusAt("2026-11-01") {
			case StatusAvsluttet:
				ended++
			case StatusFremtidig:
				future++
			case StatusAktiv:
				active++
			}
			if a.Type.Kode == TypeMaritim {
				maritime++
			}
		}
		if active > 1 {
			concurrent++
		}
	}
	// The population has every kind of record the issue asks for.
	for _, typ := range []string{TypeOrdinaer, TypeMaritim, TypeFrilanser, TypeForenklet} {
		if types[typ] == 0 {
			t.Errorf("no %s arbeidsforhold", typ)
		}
	}
	for name, n := range map[string]int{"history": withHistory, "hourly": hourly, "leave": leave, "ended": ended, "future": future, "concurrent": concurrent, "maritime": maritime} {
		if n == 0 {
			t.Errorf("no arbeidsforhold with %s", name)
		}
	}
	// Rule AA-11 needs protected persons to test against: about 0.5 %.
	if protected < 10 || protected > 45 {
		t.Errorf("protected persons: got %d of 5000, want about 25", protected)
	}
	if afs < 5000 || afs > 9000 {
		t.Errorf("arbeidsforhold: got %d for 5000 persons, want about 7000", afs)
	}
}

func TestPopulationIsDeterministic(t *testing.T) {
	a, b := testPopulation(t, 300), testPopulation(t, 300)
	if !reflect.DeepEqual(a.Organisations(), b.Organisations()) {
		t.Fatal("organisations differ between two runs with the same seed")
	}
	for _, i := range []int{0, 17, 299} {
		pa, la := a.Person(i)
		pb, lb := b.Person(i)
		if !reflect.DeepEqual(pa, pb) || !reflect.DeepEqual(la, lb) {
			t.Fatalf("person %d differs between two runs with the same seed", i)
		}
	}
	c, err := NewPopulation(PopulationConfig{Persons: 300, Seed: 8, AsOf: "2026-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Person(5)
	pc, _ := c.Person(5)
	if reflect.DeepEqual(pa, pc) {
		t.Fatal("another seed gave the same person")
	}
}

// Rule AA-10 is about employers with 1-4 employees; a large population has many of
// them, and a few employers with 10,000 or more.
func TestPopulationEmployerSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 120,000 persons")
	}
	p := testPopulation(t, 120_000)
	count := map[string]int{}
	for i := 0; i < p.Persons(); i++ {
		_, list := p.Person(i)
		for k := range list {
			count[list[k].ArbeidsstedIdent()]++
		}
	}
	small, huge := 0, 0
	for _, n := range count {
		switch {
		case n >= 1 && n <= 4:
			small++
		case n >= 10_000:
			huge++
		}
	}
	if small < 500 {
		t.Errorf("employers with 1-4 arbeidsforhold: got %d, want many", small)
	}
	if huge < 1 {
		t.Errorf("employers with 10,000+: got %d, want at least 1", huge)
	}
}

func BenchmarkPopulationPerson(b *testing.B) {
	p := testPopulation(b, 1_000_000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p.Person(i % 1_000_000)
	}
}
