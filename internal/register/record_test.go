package register

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"deling/internal/ident"
)

func TestDecodeRecord(t *testing.T) {
	pop := testPopulation(t, 20)
	per, afs := pop.Person(1)
	for len(afs) == 0 {
		t.Fatal("person 1 has no arbeidsforhold; pick another")
	}
	pj, _ := json.Marshal(per)
	aj, _ := json.Marshal(afs[0])
	oj, _ := json.Marshal(pop.Organisations()[0])
	for _, tc := range []struct {
		line, kind, err string
	}{
		{string(pj), "person", ""},
		{string(aj), "arbeidsforhold", ""},
		{string(oj), "organisation", ""},
		{`{"fornavn":"Kari","etternavn":"Nordmann","ident":"x","skostørrelse":41}`, "", `unknown field "skostørrelse"`},
		{`{"fornavn":"Kari"} {"fornavn":"Ola"}`, "", "invalid JSON at byte 20"},
		{`{"fornavn":`, "", "invalid JSON"},
		{`{"fornavn":42}`, "", "fornavn: want string, got JSON number"},
		{`{"navn":"x"}`, "", "not a known record"},
		{`[]`, "", "want a JSON object, got JSON array"},
		{``, "", "invalid JSON"},
	} {
		r, err := DecodeRecord([]byte(tc.line))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%.40s: got error %v", tc.line, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%.40s: got error %v, want %q", tc.line, err, tc.err)
		case tc.err == "" && r.Kind() != tc.kind:
			t.Errorf("%.40s: got kind %s, want %s", tc.line, r.Kind(), tc.kind)
		case tc.err == "" && r.Validate(EnvTest) != nil:
			t.Errorf("%.40s: a generated record does not validate: %v", tc.line, r.Validate(EnvTest))
		}
	}
}

// Rule AA-14: a test environment refuses real identities on the way in.
func TestValidateRefusesRealIdentitiesInTest(t *testing.T) {
	p := Person{Ident: "20036914700", Fornavn: "Kari", Etternavn: "Nordmann"} // a valid, non-synthetic number
	err := p.Validate(EnvTest)
	if err == nil || !strings.Contains(err.Error(), "AA-14") {
		t.Fatalf("test env: got %v, want an AA-14 refusal", err)
	}
	if err := p.Validate(EnvProd); err != nil {
		t.Fatalf("prod env: got %v", err)
	}
	o := Organisation{Organisasjonsnummer: "889640782", Navn: "NAV", Enhetstype: EnhetHovedenhet}
	if err := o.Validate(EnvTest); err == nil {
		t.Fatal("test env accepted a real organisation number")
	}
	if strings.Contains(p.Validate(EnvTest).Error(), p.Ident) {
		t.Fatal("the validation error repeats the identifier")
	}
}

// Rule AA-14, the other way (issue 11, item 14): production refuses synthetic
// identities of both styles and synthetic organisation numbers on the way in.
func TestValidateRefusesSyntheticIdentitiesInProd(t *testing.T) {
	born := time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC)
	for _, style := range []ident.Synthetic{ident.SyntheticTenor, ident.SyntheticNAV} {
		id, err := ident.SyntheticPerson(born, 7, style, false)
		if err != nil {
			t.Fatal(err)
		}
		p := Person{Ident: id.String(), Fornavn: "Kari", Etternavn: "Nordmann"}
		if err := p.Validate(EnvProd); err == nil || !strings.Contains(err.Error(), "AA-14") {
			t.Errorf("prod, %s number: got %v, want an AA-14 refusal", style, err)
		}
		if err := p.Validate(EnvTest); err != nil {
			t.Errorf("test, %s number: %v", style, err)
		}
	}
	o := Organisation{Organisasjonsnummer: string(ident.SyntheticOrgnr(5_000_000)), Navn: "Syntetisk AS", Enhetstype: EnhetHovedenhet}
	if err := o.Validate(EnvProd); err == nil {
		t.Error("prod accepted a synthetic organisation number")
	}
}

func TestValidateArbeidsforholdProblems(t *testing.T) {
	pop := testPopulation(t, 50)
	var a Arbeidsforhold
	for i := 0; ; i++ {
		_, afs := pop.Person(i)
		if len(afs) > 0 && afs[0].Type.Kode == TypeOrdinaer {
			a = afs[0]
			break
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(a *Arbeidsforhold)
		field string
	}{
		{"bad uuid", func(a *Arbeidsforhold) { a.UUID = "nope" }, "uuid"},
		{"unknown type", func(a *Arbeidsforhold) { a.Type.Kode = "svart" }, "type"},
		{"bad person check digit", func(a *Arbeidsforhold) {
			id := []byte(a.Arbeidstaker.Identer[0].Ident)
			id[10] = '0' + (id[10]-'0'+1)%10
			a.Arbeidstaker.Identer[0].Ident = string(id)
		}, "arbeidstaker.identer[0].ident"},
		{"end before start", func(a *Arbeidsforhold) { d := Date("1990-01-01"); a.Ansettelsesperiode.Sluttdato = &d }, "ansettelsesperiode"},
		{"bad date", func(a *Arbeidsforhold) { a.Ansettelsesperiode.Startdato = "2020-02-30" }, "ansettelsesperiode.startdato"},
		{"percent", func(a *Arbeidsforhold) { p := 140.0; a.Ansettelsesdetaljer[0].AvtaltStillingsprosent = &p }, "ansettelsesdetaljer[0].avtaltStillingsprosent"},
		{"no details", func(a *Arbeidsforhold) { a.Ansettelsesdetaljer = nil }, "ansettelsesdetaljer"},
		{"maritime fields on ordinary", func(a *Arbeidsforhold) { a.Ansettelsesdetaljer[0].Fartsomraade = &Kode{Kode: "innenriks"} }, "ansettelsesdetaljer[0]"},
		{"arbeidssted type", func(a *Arbeidsforhold) { a.Arbeidssted.Type = "Hovedenhet" }, "arbeidssted.type"},
		{"opprettet missing", func(a *Arbeidsforhold) { a.Opprettet = "" }, "opprettet"},
	} {
		b, _ := json.Marshal(a)
		var c Arbeidsforhold
		json.Unmarshal(b, &c)
		tc.edit(&c)
		err := c.Validate(EnvTest)
		ve, ok := err.(*ValidationError)
		if !ok {
			t.Errorf("%s: got %v, want a ValidationError", tc.name, err)
			continue
		}
		found := false
		for _, p := range ve.Problems {
			found = found || p.Field == tc.field
		}
		if !found {
			t.Errorf("%s: problems %v do not name %s", tc.name, ve.Problems, tc.field)
		}
	}
}

// FuzzDecodeRecord: import's parser of outside input never panics, and what it
// accepts can be validated without panicking and encoded again.
func FuzzDecodeRecord(f *testing.F) {
	pop, _ := NewPopulation(PopulationConfig{Persons: 10, Seed: 1, AsOf: "2026-11-01"})
	for i := 0; i < 10; i++ {
		p, afs := pop.Person(i)
		b, _ := json.Marshal(p)
		f.Add(b)
		for k := range afs {
			b, _ := json.Marshal(afs[k])
			f.Add(b)
		}
	}
	b, _ := json.Marshal(pop.Organisations()[1])
	f.Add(b)
	f.Add([]byte(`{"arbeidstaker":null}`))
	f.Add([]byte(`{"arbeidstaker":{"identer":[{"type":"FOLKEREGISTERIDENT","ident":"1"}]},"ansettelsesdetaljer":[{}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := DecodeRecord(line)
		if err != nil {
			if r.Kind() != "nothing" {
				t.Fatal("error with a record")
			}
			return
		}
		for _, env := range []Env{EnvTest, EnvProd} {
			_ = r.Validate(env)
		}
		var v any
		switch {
		case r.Person != nil:
			v = r.Person
		case r.Organisation != nil:
			v = r.Organisation
		case r.Arbeidsforhold != nil:
			v = r.Arbeidsforhold
			_ = r.Arbeidsforhold.GjeldendeDetaljer()
		default:
			t.Fatal("no error and no record")
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
	})
}

func TestStripAndFillBeskrivelser(t *testing.T) {
	pop := testPopulation(t, 200)
	for i := 0; i < 200; i++ {
		_, afs := pop.Person(i)
		for k := range afs {
			want, _ := json.Marshal(afs[k])
			afs[k].StripBeskrivelser()
			stripped, _ := json.Marshal(afs[k])
			if strings.Contains(string(stripped), "beskrivelse") {
				t.Fatalf("a kodeverk description survived stripping: %s", stripped)
			}
			afs[k].FillBeskrivelser()
			if got, _ := json.Marshal(afs[k]); string(got) != string(want) {
				t.Fatalf("strip then fill changed the record:\n got %s\nwant %s", got, want)
			}
		}
	}
	// A description the kodeverk does not have is kept.
	a := Arbeidsforhold{Type: Kode{Kode: TypeOrdinaer, Beskrivelse: "Fant ingen beskrivelse som var gyldig 01.09.2017"}}
	a.StripBeskrivelser()
	if a.Type.Beskrivelse == "" {
		t.Fatal("an unknown description was dropped")
	}
}
