package access

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"deling/internal/register"
)

// projTableLookup is the code lists of the hand-written tests.
func projTableLookup(list, kode string) (string, bool) {
	d, ok := map[string]map[string]string{
		"L":    {"fast": "Fast ansettelse", "x": "Æ, \"ø\" \\ å\n", "tom": ""},
		"Land": {"NO": "Norge"},
	}[list][kode]
	return d, ok
}

// projKodeverkLookup gives the descriptions of the embedded kodeverk.
func projKodeverkLookup(list, kode string) (string, bool) {
	k, ok := register.Kodeverk.Lookup(list, kode)
	return k.Beskrivelse, ok
}

// projTestCodes is every code path of the arbeidsforhold model.
// projTestCodes are the package's own code paths, so the tests cover what lookups use.
var projTestCodes = codePaths

// projWholeRecord is every top-level key of an arbeidsforhold.
var projWholeRecord = []string{"id", "uuid", "type", "arbeidstaker", "arbeidssted", "opplysningspliktig",
	"ansettelsesperiode", "ansettelsesdetaljer", "permisjoner", "permitteringer", "timerMedTimeloenn",
	"utenlandsopphold", "idHistorikk", "varsler", "rapporteringsordning", "opprettet", "sistBekreftet",
	"sistEndret", "sporingsinformasjon"}

// projPathSets are realistic consumer views of a record.
var projPathSets = map[string][]string{
	"whole": projWholeRecord,
	"grunnopplysninger+stilling": {"uuid", "id", "type", "arbeidstaker", "arbeidssted", "opplysningspliktig",
		"ansettelsesperiode.startdato", "ansettelsesperiode.sluttdato", "ansettelsesperiode.sluttaarsak",
		"ansettelsesperiode.varsling", "rapporteringsordning", "opprettet", "sistBekreftet", "sistEndret",
		"ansettelsesdetaljer.type", "ansettelsesdetaljer.yrke", "ansettelsesdetaljer.ansettelsesform",
		"ansettelsesdetaljer.arbeidstidsordning", "ansettelsesdetaljer.avtaltStillingsprosent",
		"ansettelsesdetaljer.antallTimerPrUke", "ansettelsesdetaljer.rapporteringsmaaneder",
		"ansettelsesdetaljer.fartsomraade", "ansettelsesdetaljer.skipsregister", "ansettelsesdetaljer.fartoeystype"},
	"permisjoner+utland+historikk": {"uuid", "permisjoner.id", "permisjoner.type", "permisjoner.startdato",
		"permisjoner.prosent", "permisjoner.varsling", "permitteringer.type", "permitteringer.prosent",
		"utenlandsopphold.land", "utenlandsopphold.rapporteringsmaaned", "idHistorikk", "varsler",
		"permisjoner.idHistorikk", "timerMedTimeloenn.antall"},
	"sporing": {"uuid", "sporingsinformasjon", "ansettelsesperiode.sporingsinformasjon",
		"ansettelsesdetaljer.sporingsinformasjon", "permisjoner.sporingsinformasjon"},
	"deep": {"arbeidstaker.identer.ident", "ansettelsesdetaljer.rapporteringsmaaneder.fra",
		"ansettelsesdetaljer.yrke.kode", "ansettelsesperiode.sluttaarsak", "permisjoner.varsling"},
}

func TestCompileProjection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		codes map[string]string
	}{
		{"no paths", nil, nil},
		{"empty path", []string{""}, nil},
		{"empty segment", []string{"a..b"}, nil},
		{"leading dot", []string{".a"}, nil},
		{"trailing dot", []string{"a."}, nil},
		{"dash", []string{"uuid", "a-b"}, nil},
		{"space", []string{"a b"}, nil},
		{"non-ASCII", []string{"sluttårsak"}, nil},
		{"bad code path", []string{"a"}, map[string]string{"a.": "L"}},
		{"empty code list", []string{"a"}, map[string]string{"a": ""}},
	} {
		if _, err := CompileProjection(tc.paths, tc.codes, projTableLookup); err == nil {
			t.Errorf("%s: CompileProjection(%q, %v) gave no error", tc.name, tc.paths, tc.codes)
		}
	}

	for _, tc := range []struct {
		paths, want []string
	}{
		{[]string{"b.c", "a", "a.b", "b.c", "b", "c_1.D2"}, []string{"a", "b", "c_1.D2"}},
		{[]string{"x.z", "uuid", "x.y", "x.y.w"}, []string{"uuid", "x.y", "x.z"}},
	} {
		p, err := CompileProjection(tc.paths, map[string]string{"q.r": "L"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Paths(); !slices.Equal(got, tc.want) {
			t.Errorf("Paths() of %q = %q, want %q", tc.paths, got, tc.want)
		}
	}
}

func TestProjectionAppend(t *testing.T) {
	codes := map[string]string{"type": "L", "v.varsling": "L", "d.yrke": "L", "u.land": "Land",
		"ansettelsesdetaljer.yrke": "L", "x.ansettelsesdetaljer.yrke": "L"}
	detaljer := `[{"n":1,"rapporteringsmaaneder":{"fra":"2020-01","til":"2020-05"}},` +
		`{"n":2,"yrke":{"kode":"fast"},"rapporteringsmaaneder":{"fra":"2020-06","til":null}},` +
		`{"n":3,"rapporteringsmaaneder":{"fra":"2021-01"}}]`
	closed := `[{"n":1,"rapporteringsmaaneder":{"fra":"2020-06","til":"2020-07"}},` +
		`{"n":2,"rapporteringsmaaneder":{"fra":"2021-01","til":"2021-05"}},` +
		`{"n":3,"rapporteringsmaaneder":{"fra":"2019-01","til":"2019-02"}},` +
		`{"n":4,"rapporteringsmaaneder":{"fra":"2021-01","til":"2021-03"}}]`
	for _, tc := range []struct {
		name    string
		paths   []string
		current bool
		src     string
		want    string
	}{
		// Rule 1: source key order, compact output, values copied byte for byte.
		{"key order", []string{"a", "b"}, false, `{"b":1,"z":0,"a":2,"c":3}`, `{"b":1,"a":2}`},
		{"compact", []string{"a", "b"}, false, " \n{ \"a\" : { \"x\" : [ 1 , 2 ] , \"s\" : \"a b\\t\" } ,\t\"c\":{ },\r\n\"b\" : 2 } \n",
			`{"a":{"x":[1,2],"s":"a b\t"},"b":2}`},
		{"escapes kept", []string{"a"}, false, `{"a":"\u00e6\n\"\/","b":1}`, `{"a":"\u00e6\n\"\/"}`},
		{"numbers kept", []string{"a", "b"}, false, `{"a":1.50E+02,"b":-0.0e-0}`, `{"a":1.50E+02,"b":-0.0e-0}`},
		{"raw UTF-8 kept", []string{"a"}, false, `{"a":"Bodø, Tromsø"}`, `{"a":"Bodø, Tromsø"}`},
		{"escaped key", []string{"ab"}, false, `{"\u0061b":1,"a\"b":2}`, `{"\u0061b":1}`},
		{"duplicate keys", []string{"a"}, false, `{"a":1,"b":0,"a":{"x":2}}`, `{"a":1,"a":{"x":2}}`},

		// Rule 2: absent, not null.
		{"partial", []string{"p.x"}, false, `{"p":{"x":1,"y":2}}`, `{"p":{"x":1}}`},
		{"partial empty omitted", []string{"u", "p.x"}, false, `{"u":1,"p":{"y":2}}`, `{"u":1}`},
		{"partial of empty object", []string{"u", "p.x"}, false, `{"p":{},"u":1}`, `{"u":1}`},
		{"partial of scalar", []string{"u", "p.x"}, false, `{"u":1,"p":5,"p":"s"}`, `{"u":1}`},
		{"partial of null", []string{"u", "p.x"}, false, `{"p":null,"u":1}`, `{"u":1}`},
		{"nested partial empty", []string{"u", "p.q.x"}, false, `{"u":1,"p":{"q":{"y":1},"z":2}}`, `{"u":1}`},
		{"array elements", []string{"a.x"}, false, `{"a":[{"x":1,"y":2},{"y":3},{"x":4}]}`, `{"a":[{"x":1},{"x":4}]}`},
		{"array omitted", []string{"u", "a.x"}, false, `{"u":1,"a":[{"y":3},{"y":4}]}`, `{"u":1}`},
		{"empty array omitted", []string{"u", "a.x"}, false, `{"u":1,"a":[]}`, `{"u":1}`},
		{"array of scalars", []string{"a.x"}, false, `{"a":[1,{"x":1},null,[{"x":2},[]],"s"]}`, `{"a":[{"x":1},[{"x":2}]]}`},
		{"array of arrays omitted", []string{"u", "a.x"}, false, `{"u":1,"a":[[],[{"y":1}],[1]]}`, `{"u":1}`},
		{"whole keeps empty", []string{"a", "b", "c"}, false, `{"a":{},"b":[],"c":null}`, `{"a":{},"b":[],"c":null}`},
		{"whole wins", []string{"a.x", "a"}, false, `{"a":{"x":1,"y":2}}`, `{"a":{"x":1,"y":2}}`},
		{"nothing selected", []string{"a"}, false, `{"z":{"a":1}}`, `{}`},
		{"empty object", []string{"a"}, false, ` {} `, `{}`},

		// Rule 3: code descriptions.
		{"code", []string{"type"}, false, `{"type":{"kode":"fast"}}`, `{"type":{"kode":"fast","beskrivelse":"Fast ansettelse"}}`},
		{"code after kode", []string{"type"}, false, `{"type":{"a":1,"kode":"fast","b":[2]}}`,
			`{"type":{"a":1,"kode":"fast","beskrivelse":"Fast ansettelse","b":[2]}}`},
		{"code escaped", []string{"type"}, false, `{"type":{"kode":"x"}}`, `{"type":{"kode":"x","beskrivelse":"Æ, \"ø\" \\ å\n"}}`},
		{"code empty description", []string{"type"}, false, `{"type":{"kode":"tom"}}`, `{"type":{"kode":"tom","beskrivelse":""}}`},
		{"code kode escaped", []string{"type"}, false, `{"type":{"k\u006fde":"f\u0061st"}}`,
			`{"type":{"k\u006fde":"f\u0061st","beskrivelse":"Fast ansettelse"}}`},
		{"code compacted", []string{"type"}, false, `{"type" : { "kode" : "fast" , "n" : [ 1 ] } }`,
			`{"type":{"kode":"fast","beskrivelse":"Fast ansettelse","n":[1]}}`},
		{"code has beskrivelse", []string{"type"}, false, `{"type":{"kode":"fast","beskrivelse":"Egen"}}`, `{"type":{"kode":"fast","beskrivelse":"Egen"}}`},
		{"code has later beskrivelse", []string{"type"}, false, `{"type":{"kode":"fast","beskrivelse":null}}`, `{"type":{"kode":"fast","beskrivelse":null}}`},
		{"code unknown", []string{"type"}, false, `{"type":{"kode":"nei"}}`, `{"type":{"kode":"nei"}}`},
		{"code not a string", []string{"type"}, false, `{"type":{"kode":5}}`, `{"type":{"kode":5}}`},
		{"code not an object", []string{"type"}, false, `{"type":"fast"}`, `{"type":"fast"}`},
		{"code null", []string{"type"}, false, `{"type":null}`, `{"type":null}`},
		{"code empty object", []string{"type"}, false, `{"type":{}}`, `{"type":{}}`},
		{"code array", []string{"type"}, false, `{"type":[{"kode":"fast"},"fast",[{"kode":"x","beskrivelse":"b"}]]}`,
			`{"type":[{"kode":"fast","beskrivelse":"Fast ansettelse"},"fast",[{"kode":"x","beskrivelse":"b"}]]}`},
		{"code in array", []string{"v.varsling"}, false, `{"v":[{"e":1,"varsling":{"kode":"fast"}},{"varsling":{"kode":"nei"}},{"e":2}]}`,
			`{"v":[{"varsling":{"kode":"fast","beskrivelse":"Fast ansettelse"}},{"varsling":{"kode":"nei"}}]}`},
		{"code under whole parent", []string{"d", "v"}, false, `{"d":[{"yrke":{"kode":"fast"},"n":1},{"n":2}],"v":[{"varsling":{"kode":"x"}}]}`,
			`{"d":[{"yrke":{"kode":"fast","beskrivelse":"Fast ansettelse"},"n":1},{"n":2}],"v":[{"varsling":{"kode":"x","beskrivelse":"Æ, \"ø\" \\ å\n"}}]}`},
		{"code under whole parent in part", []string{"d.yrke", "u.land"}, false, `{"d":{"yrke":{"kode":"fast"},"n":1},"u":[{"land":{"kode":"NO"}}]}`,
			`{"d":{"yrke":{"kode":"fast","beskrivelse":"Fast ansettelse"}},"u":[{"land":{"kode":"NO","beskrivelse":"Norge"}}]}`},
		{"code selected in part", []string{"type.kode"}, false, `{"type":{"kode":"fast","x":1}}`, `{"type":{"kode":"fast"}}`},
		{"code path not selected", []string{"a"}, false, `{"type":{"kode":"fast"},"a":1}`, `{"a":1}`},

		// Rule 4: the current ansettelsesdetaljer.
		{"all versions", []string{"ansettelsesdetaljer.n"}, false, `{"ansettelsesdetaljer":` + detaljer + `}`,
			`{"ansettelsesdetaljer":[{"n":1},{"n":2},{"n":3}]}`},
		{"current open", []string{"ansettelsesdetaljer"}, true, `{"ansettelsesdetaljer":` + detaljer + `}`,
			`{"ansettelsesdetaljer":[{"n":2,"yrke":{"kode":"fast","beskrivelse":"Fast ansettelse"},"rapporteringsmaaneder":{"fra":"2020-06","til":null}}]}`},
		{"current in part", []string{"ansettelsesdetaljer.n"}, true, `{"ansettelsesdetaljer":` + detaljer + `}`,
			`{"ansettelsesdetaljer":[{"n":2}]}`},
		{"current til absent", []string{"ansettelsesdetaljer.n"}, true,
			`{"ansettelsesdetaljer":[{"n":1,"rapporteringsmaaneder":{"fra":"2020-01","til":"2020-05"}},{"n":2,"rapporteringsmaaneder":{"fra":"2019-01"}},{"n":3}]}`,
			`{"ansettelsesdetaljer":[{"n":2}]}`},
		{"current no rapporteringsmaaneder", []string{"ansettelsesdetaljer.n"}, true,
			`{"ansettelsesdetaljer":[{"n":1,"rapporteringsmaaneder":{"fra":"2020-01","til":"2020-05"}},{"n":2,"rapporteringsmaaneder":[]},{"n":3}]}`,
			`{"ansettelsesdetaljer":[{"n":2}]}`},
		{"current greatest fra", []string{"ansettelsesdetaljer.n"}, true, `{"ansettelsesdetaljer":` + closed + `}`,
			`{"ansettelsesdetaljer":[{"n":2}]}`},
		{"current fra not a string", []string{"ansettelsesdetaljer.n"}, true,
			`{"ansettelsesdetaljer":[{"n":1,"rapporteringsmaaneder":{"fra":2099,"til":"x"}},{"n":2,"rapporteringsmaaneder":{"fra":"\u0032000","til":"x"}}]}`,
			`{"ansettelsesdetaljer":[{"n":2}]}`},
		{"current chosen empty", []string{"u", "ansettelsesdetaljer.n"}, true,
			`{"u":1,"ansettelsesdetaljer":[{"n":1,"rapporteringsmaaneder":{"fra":"2020-01","til":"2020-05"}},{"rapporteringsmaaneder":{"fra":"2020-06"}}]}`,
			`{"u":1}`},
		{"current empty array", []string{"ansettelsesdetaljer"}, true, `{"ansettelsesdetaljer":[]}`, `{"ansettelsesdetaljer":[]}`},
		{"current not an array", []string{"ansettelsesdetaljer"}, true, `{"ansettelsesdetaljer":null}`, `{"ansettelsesdetaljer":null}`},
		{"current top level only", []string{"x"}, true, `{"x":{"ansettelsesdetaljer":` + detaljer + `}}`, `{"x":{"ansettelsesdetaljer":` +
			strings.Replace(detaljer, `{"kode":"fast"}`, `{"kode":"fast","beskrivelse":"Fast ansettelse"}`, 1) + `}}`},
	} {
		p, err := CompileProjection(tc.paths, codes, projTableLookup)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := p.Append([]byte("pre:"), []byte(tc.src), Options{CurrentDetaljer: tc.current})
		if err != nil {
			t.Errorf("%s: Append: %v", tc.name, err)
			continue
		}
		if want := "pre:" + tc.want; string(got) != want {
			t.Errorf("%s: Append(%s)\n got %s\nwant %s", tc.name, tc.src, got, want)
		}
		if !json.Valid(got[4:]) {
			t.Errorf("%s: output %s is not valid JSON", tc.name, got[4:])
		}
	}
}

func TestProjectionWithoutLookup(t *testing.T) {
	p, err := CompileProjection([]string{"type"}, map[string]string{"type": "L"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Append(nil, []byte(`{"type":{"kode":"fast"}}`), Options{})
	if want := `{"type":{"kode":"fast"}}`; err != nil || string(got) != want {
		t.Errorf("got %s, %v, want %s", got, err, want)
	}
}

func TestProjectionInvalid(t *testing.T) {
	deep := func(n int) string { return `{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	for _, src := range []string{
		``, ` `, `[]`, `"a"`, `1`, `null`, `{`, `}`, `{"a":1`, `{"a":1,}`, `{"a"}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`,
		`{} x`, `{}{}`, `{},`, "{}\x00", `{"a":"b`, `{"a":"b\"}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, `{"a":"\u12"}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\n\"}", `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1e+}`,
		`{"a":+1}`, `{"a":0x1}`, `{"a":tru}`, `{"a":nul}`, `{"a":False}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":[}`,
		`{"z":[1,2,}`, `{"z":{"k":}}`, `{"type":{"kode":"fast",}}`, `{"type":{"kode":"fast"]}`, `{"type":[{"kode":"fast"},]}`,
		`{"ansettelsesdetaljer":[{"rapporteringsmaaneder":{"fra":"2020","til":nul}}]}`,
		`{"ansettelsesdetaljer":[{"rapporteringsmaaneder":{"fra":"2020","til":"x"}},{"rapporteringsmaaneder":{"fra":"20` + "\x02" + `"}}]}`,
		`{"ansettelsesdetaljer":[{"rapporteringsmaaneder":{"til":null}},}]}`,
		`{"ansettelsesdetaljer":[`, `{"ansettelsesdetaljer":[{"rapporteringsmaaneder":{"fra":`,
		"\xef\xbb\xbf{}", deep(65), `{"z":` + strings.Repeat(`{"a":`, 64) + `1` + strings.Repeat(`}`, 64) + `}`,
	} {
		for _, paths := range [][]string{{"a"}, {"z"}, {"a.b", "type", "ansettelsesdetaljer.n"}, {"ansettelsesdetaljer"}} {
			p, err := CompileProjection(paths, map[string]string{"type": "L"}, projTableLookup)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, 3, 64)
			copy(dst, "pre")
			for _, current := range []bool{false, true} {
				got, err := p.Append(dst, []byte(src), Options{CurrentDetaljer: current})
				if err == nil {
					t.Errorf("Append(%q) with %q = %s, want an error", src, paths, got)
				}
				if string(got) != "pre" || len(got) != 3 {
					t.Errorf("Append(%q) with %q: dst = %q, want it unchanged", src, paths, got)
				}
			}
		}
	}
	for _, src := range []string{deep(64), `{"z":` + strings.Repeat(`{"a":`, 63) + `1` + strings.Repeat(`}`, 63) + `}`} {
		p, _ := CompileProjection([]string{"a", "z"}, nil, nil)
		if got, err := p.Append(nil, []byte(src), Options{}); err != nil || string(got) != src {
			t.Errorf("Append(%.20q…) = %.20q…, %v, want it unchanged", src, got, err)
		}
	}
}

// projDocs is the synthetic population as stored: descriptions stripped,
// with the records before stripping.
func projDocs(t testing.TB) (docs [][]byte, originals []register.Arbeidsforhold) {
	t.Helper()
	pop, err := register.NewPopulation(register.PopulationConfig{Persons: 200, Seed: 1, AsOf: "2026-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pop.Persons() {
		_, orig := pop.Person(i)
		_, stripped := pop.Person(i)
		for j := range stripped {
			stripped[j].StripBeskrivelser()
			b, err := json.Marshal(stripped[j])
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, b)
			originals = append(originals, orig[j])
		}
	}
	return docs, originals
}

func TestProjectionPopulation(t *testing.T) {
	docs, originals := projDocs(t)
	var out []byte
	for name, paths := range projPathSets {
		p, err := CompileProjection(paths, projTestCodes, projKodeverkLookup)
		if err != nil {
			t.Fatal(err)
		}
		ref := projRefTree(paths, projTestCodes)
		for _, current := range []bool{false, true} {
			for i, doc := range docs {
				out, err = p.Append(out[:0], doc, Options{CurrentDetaljer: current})
				if err != nil {
					t.Fatalf("%s: doc %d: %v", name, i, err)
				}
				want := projRef(t, doc, ref, projKodeverkLookup, current)
				if got := projDecode(t, out); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s (current %v): doc %d\n got %s\nwant %s\n doc %s", name, current, i, out, projEncode(want), doc)
				}
				if name != "whole" {
					continue
				}
				// The whole record comes back with every description the store left out.
				a := originals[i]
				if current && len(a.Ansettelsesdetaljer) > 0 {
					a.Ansettelsesdetaljer = []register.Ansettelsesdetaljer{*a.GjeldendeDetaljer()}
				}
				var back register.Arbeidsforhold
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(back, a) {
					t.Fatalf("current %v: doc %d: projected record differs from the original\n got %s\n doc %s", current, i, out, doc)
				}
				if marshalled, _ := json.Marshal(a); !bytes.Equal(out, marshalled) {
					t.Fatalf("current %v: doc %d:\n got %s\nwant %s", current, i, out, marshalled)
				}
			}
		}
	}
}

func TestProjectionConcurrent(t *testing.T) {
	docs, _ := projDocs(t)
	p, err := CompileProjection(projPathSets["grunnopplysninger+stilling"], projTestCodes, projKodeverkLookup)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, len(docs))
	for i, doc := range docs {
		if want[i], err = p.Append(nil, doc, Options{CurrentDetaljer: true}); err != nil {
			t.Fatal(err)
		}
	}
	for g := range 4 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			var out []byte
			for i := g; i < len(docs); i += 2 {
				out, _ = p.Append(out[:0], docs[i], Options{CurrentDetaljer: true})
				if !bytes.Equal(out, want[i]) {
					t.Errorf("doc %d: got %s, want %s", i, out, want[i])
				}
			}
		})
	}
}

func TestProjectionAllocs(t *testing.T) {
	docs, _ := projDocs(t)
	p, err := CompileProjection(projPathSets["grunnopplysninger+stilling"], projTestCodes, projKodeverkLookup)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, 8192)
	for _, current := range []bool{false, true} {
		allocs := testing.AllocsPerRun(3, func() {
			for _, doc := range docs {
				if _, err := p.Append(dst, doc, Options{CurrentDetaljer: current}); err != nil {
					t.Fatal(err)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("current %v: %v allocations per pass over the documents, want 0", current, allocs)
		}
	}
}

// The reference projection, on decoded documents.

type projRefNode struct {
	whole bool
	list  string
	kids  map[string]*projRefNode
}

func projRefTree(paths []string, codes map[string]string) *projRefNode {
	root := &projRefNode{}
	walk := func(path string) *projRefNode {
		n := root
		for _, seg := range strings.Split(path, ".") {
			if n.kids == nil {
				n.kids = map[string]*projRefNode{}
			}
			if n.kids[seg] == nil {
				n.kids[seg] = &projRefNode{}
			}
			n = n.kids[seg]
		}
		return n
	}
	for _, p := range paths {
		walk(p).whole = true
	}
	for p, list := range codes {
		walk(p).list = list
	}
	return root
}

func projDecode(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("decode %q: data after the value", b)
	}
	return v
}

func projEncode(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func projRef(t testing.TB, src []byte, root *projRefNode, lookup func(list, kode string) (string, bool), current bool) any {
	doc := projDecode(t, src).(map[string]any)
	if arr, ok := doc["ansettelsesdetaljer"].([]any); ok && current && len(arr) > 0 {
		doc = maps.Clone(doc)
		doc["ansettelsesdetaljer"] = []any{arr[projRefCurrent(arr)]}
	}
	out, ok := projRefSelect(doc, root, lookup)
	if !ok {
		return map[string]any{}
	}
	return out
}

func projRefCurrent(arr []any) int {
	best, bestFra := -1, ""
	for k, e := range arr {
		m, _ := e.(map[string]any)
		rm, _ := m["rapporteringsmaaneder"].(map[string]any)
		if til, ok := rm["til"]; !ok || til == nil {
			return k
		}
		fra, _ := rm["fra"].(string)
		if best < 0 || fra > bestFra {
			best, bestFra = k, fra
		}
	}
	return best
}

func projRefSelect(v any, n *projRefNode, lookup func(list, kode string) (string, bool)) (any, bool) {
	if n.whole {
		return projRefFill(v, n, lookup), true
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if c := n.kids[k]; c != nil {
				if r, ok := projRefSelect(e, c, lookup); ok {
					out[k] = r
				}
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, e := range x {
			if r, ok := projRefSelect(e, n, lookup); ok {
				out = append(out, r)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

func projRefFill(v any, n *projRefNode, lookup func(list, kode string) (string, bool)) any {
	if n == nil {
		return v
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = projRefFill(e, n, lookup)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = projRefFill(e, n.kids[k], lookup)
		}
		if kode, ok := x["kode"].(string); ok && n.list != "" && lookup != nil {
			if _, has := x["beskrivelse"]; !has {
				if d, ok := lookup(n.list, kode); ok {
					out["beskrivelse"] = d
				}
			}
		}
		return out
	}
	return v
}

// Fuzzing.

// projFuzzLookup knows every code not starting with 'z'; its descriptions need escaping.
func projFuzzLookup(list, kode string) (string, bool) {
	if kode == "" || kode[0] == 'z' {
		return "", false
	}
	return list + "/" + kode + " «æøå», \"q\" \\ \n\t\x01\u2028", true
}

var projFuzzSets = []struct {
	paths []string
	codes map[string]string
}{
	{projWholeRecord, projTestCodes},
	{projPathSets["grunnopplysninger+stilling"], projTestCodes},
	{[]string{"a.b", "a.c.d", "ansettelsesdetaljer.rapporteringsmaaneder.fra", "ansettelsesdetaljer.yrke", "type", "x", "v.varsling"},
		map[string]string{"type": "L", "a.b": "L", "a.c": "L", "ansettelsesdetaljer.yrke": "Y", "v.varsling": "V", "x.y": "X", "d.e": "D"}},
	{[]string{"a", "b.c", "c.kode", "ansettelsesdetaljer"},
		map[string]string{"a.k": "L", "b": "L", "b.c": "L", "c": "L", "a": "A", "ansettelsesdetaljer.yrke": "Y", "ansettelsesdetaljer": "D"}},
}

func FuzzProjection(f *testing.F) {
	docs, _ := projDocs(f)
	for i := 0; i < len(docs); i += 37 {
		f.Add(docs[i], uint8(i))
	}
	for _, s := range []string{
		`{}`, ` {"a":{"b":1,"c":{"d":[{"kode":"k"}]}}} `, `{"type":{"kode":"\ud83d\ude00"}}`, `{"type":{"kode":"\ud800x"}}`,
		`{"a":[{"b":{"kode":"x"}},{"b":{"kode":"z"}},{"c":[{"d":1}]}]}`, "{\"type\":{\"kode\":\"\xff\"}}",
		`{"ansettelsesdetaljer":[{"yrke":{"kode":"y"},"rapporteringsmaaneder":{"fra":"2020-01","til":"2020-02"}},{"rapporteringsmaaneder":{"fra":"2020-03","til":"x"}}]}`,
		`{"ansettelsesdetaljer":[{"rapporteringsmaaneder":{"fra":"\u00e6","til":1}},{"rapporteringsmaaneder":{"fra":"\u00e5","til":1}}]}`,
		`{"x":{"y":{"kode":"k"}},"a":{"k":{"kode":"k","beskrivelse":"b"}}}`, `{"a":1,"a":2}`, `{"a":1e999}`, `{"a":"`, `[]`, `{}x`,
		`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(7))
	}
	type compiled struct {
		p   *Projection
		ref *projRefNode
	}
	var sets []compiled
	for _, s := range projFuzzSets {
		p, err := CompileProjection(s.paths, s.codes, projFuzzLookup)
		if err != nil {
			f.Fatal(err)
		}
		sets = append(sets, compiled{p, projRefTree(s.paths, s.codes)})
	}
	f.Fuzz(func(t *testing.T, src []byte, sel uint8) {
		set := sets[int(sel>>1)%len(sets)]
		current := sel&1 == 1
		got, err := set.p.Append([]byte("pre"), src, Options{CurrentDetaljer: current})
		if err != nil {
			if string(got) != "pre" {
				t.Fatalf("error %v, but dst = %q", err, got)
			}
		}
		trimmed := bytes.TrimLeft(src, " \t\r\n")
		if !json.Valid(src) || len(trimmed) == 0 || trimmed[0] != '{' {
			if err == nil {
				t.Fatalf("Append(%q) = %s, want an error", src, got)
			}
			return
		}
		if projDepth(src) > projMaxDepth {
			if err == nil {
				t.Fatalf("Append(%q) nested %d deep = %s, want an error", src, projDepth(src), got)
			}
			return
		}
		if err != nil {
			t.Fatalf("Append(%q): %v", src, err)
		}
		out := got[3:]
		if !json.Valid(out) {
			t.Fatalf("Append(%q) = %q, not valid JSON", src, out)
		}
		if projHasDuplicateKeys(src) {
			return
		}
		want := projRef(t, src, set.ref, projFuzzLookup, current)
		if g := projDecode(t, out); !reflect.DeepEqual(g, want) {
			t.Fatalf("Append(%q)\n got %s\nwant %s", src, out, projEncode(want))
		}
	})
}

// projDepth is the deepest nesting of objects and arrays in valid JSON.
func projDepth(b []byte) int {
	depth, most, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// projHasDuplicateKeys reports whether an object of valid JSON repeats a key.
func projHasDuplicateKeys(b []byte) bool {
	type frame struct {
		keys    map[string]bool
		wantKey bool
	}
	var stack []*frame // nil entries are arrays
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.wantKey {
			if top.keys[s] {
				return true
			}
			top.keys[s] = true
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil {
			top.wantKey = true // a value ends (or starts) here
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, nil)
		}
	}
}

func BenchmarkProjection(b *testing.B) {
	docs, _ := projDocs(b)
	var doc []byte
	for _, d := range docs {
		if len(d) >= 1400 && len(d) <= 1700 && bytes.Count(d, []byte(`"kode"`)) >= 8 {
			doc = d
			break
		}
	}
	if doc == nil {
		b.Fatal("no document of 1.4–1.7 KB")
	}
	paths := []string{"uuid", "type", "arbeidstaker", "arbeidssted", "ansettelsesperiode.startdato",
		"ansettelsesperiode.sluttdato", "ansettelsesperiode.sluttaarsak", "ansettelsesdetaljer.yrke",
		"ansettelsesdetaljer.ansettelsesform", "ansettelsesdetaljer.avtaltStillingsprosent",
		"ansettelsesdetaljer.rapporteringsmaaneder", "rapporteringsordning"}
	for _, bc := range []struct {
		name    string
		paths   []string
		current bool
	}{
		{"paths", paths, false},
		{"paths-current", paths, true},
		{"whole", projWholeRecord, false},
	} {
		p, err := CompileProjection(bc.paths, projTestCodes, projKodeverkLookup)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Append(dst, doc, Options{CurrentDetaljer: bc.current}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
