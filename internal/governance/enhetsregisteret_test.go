package governance

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

// sampleEnheter is the bulk download's shape: an array of enheter with many fields deling ignores.
const sampleEnheter = `[
{"organisasjonsnummer":"310000001","navn":"AKTIV AS","organisasjonsform":{"kode":"AS","beskrivelse":"Aksjeselskap","_links":{"self":{"href":"x"}}},
 "registreringsdatoEnhetsregisteret":"2020-01-01","registrertIMvaregisteret":true,"naeringskode1":{"beskrivelse":"Utvikling","kode":"62.010"},
 "antallAnsatte":12,"forretningsadresse":{"land":"Norge","postnummer":"0150","adresse":["Gate 1"]},"konkurs":false,"underAvvikling":false,
 "underTvangsavviklingEllerTvangsopplosning":false,"maalform":"Bokmål","_links":{"self":{"href":"https://data.brreg.no/enhetsregisteret/api/enheter/310000001"}}},
{"organisasjonsnummer":"310000002","navn":"SLETTET AS","slettedato":"2026-01-15","konkurs":false},
{"organisasjonsnummer":"310000003","navn":"KONKURS AS","konkurs":true,"konkursdato":"2025-12-01"},
{"organisasjonsnummer":"310000004","navn":"TVANG AS","underTvangsavviklingEllerTvangsopplosning":true},
{"organisasjonsnummer":"310000005","navn":"AVVIKLES AS","underAvvikling":true,"underAvviklingDato":"2026-02-01"},
{"organisasjonsnummer":"12345","navn":"UGYLDIG"},
null
]`

func parseAll(t *testing.T, in []byte) ([]Enhet, EnhetStats) {
	t.Helper()
	var got []Enhet
	st, err := ParseEnheter(bytes.NewReader(in), func(e Enhet) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

// Rule AA-26: deleted, bankrupt and compulsorily dissolved organisations have ceased; a voluntary winding-up has not.
func TestParseEnheterArray(t *testing.T) {
	got, st := parseAll(t, []byte(sampleEnheter))
	if st.Read != 7 || st.Skipped != 2 || len(got) != 5 {
		t.Fatalf("read %d, skipped %d, delivered %d; want 7, 2, 5", st.Read, st.Skipped, len(got))
	}
	want := []struct {
		orgnr, navn     string
		ceased, winding bool
	}{
		{"310000001", "AKTIV AS", false, false},
		{"310000002", "SLETTET AS", true, false},
		{"310000003", "KONKURS AS", true, false},
		{"310000004", "TVANG AS", true, false},
		{"310000005", "AVVIKLES AS", false, true},
	}
	for i, w := range want {
		e := got[i]
		if e.Organisasjonsnummer != w.orgnr || e.Navn != w.navn || e.Ceased() != w.ceased || e.WindingUp() != w.winding {
			t.Errorf("entry %d: got %+v (ceased %v, winding up %v), want %+v", i, e, e.Ceased(), e.WindingUp(), w)
		}
	}
	if r := got[1].CeaseReason(); r != "slettet 2026-01-15" {
		t.Errorf("cease reason %q", r)
	}
}

func TestParseEnheterPaged(t *testing.T) {
	in := `{"_links":{"self":{"href":"x"}},"_embedded":{"enheter":[{"organisasjonsnummer":"310000002","navn":"SLETTET AS","slettedato":"2026-01-15"},
	{"organisasjonsnummer":"310000001","navn":"AKTIV AS","links":[]}]},"page":{"size":20,"totalElements":2,"totalPages":1,"number":0}}`
	got, st := parseAll(t, []byte(in))
	if st.Read != 2 || len(got) != 2 || !got[0].Ceased() || got[1].Ceased() {
		t.Fatalf("got %+v", got)
	}
	// An empty search has no _embedded.
	if got, st := parseAll(t, []byte(`{"page":{"size":20,"totalElements":0}}`)); len(got) != 0 || st.Read != 0 {
		t.Fatalf("empty page: %+v", got)
	}
}

func TestParseEnheterGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(sampleEnheter))
	zw.Close()
	got, st := parseAll(t, buf.Bytes())
	if st.Read != 7 || len(got) != 5 || !got[1].Ceased() {
		t.Fatalf("gzip: read %d, got %d", st.Read, len(got))
	}
	// A truncated download is an error, never a shorter list.
	trunc := buf.Bytes()[:buf.Len()-10]
	if _, err := ParseEnheter(bytes.NewReader(trunc), func(Enhet) error { return nil }); err == nil {
		t.Fatal("a truncated gzip file was accepted")
	}
}

func TestParseEnheterMalformed(t *testing.T) {
	for _, in := range []string{
		``,
		`"enheter"`,
		`[`,
		`[{"organisasjonsnummer":"310000001"}`,
		`[{"organisasjonsnummer":"310000001"},]`,
		`[{"organisasjonsnummer":310000001}]`,
		`[{"organisasjonsnummer":"310000001","konkurs":"ja"}]`,
		`[{"organisasjonsnummer":"310000001","slettedato":"15.01.2026"}]`,
		`[1]`,
		`[] []`,
		`{"_embedded":{"enheter":{}}}`,
		`{"_embedded":null}`,
		`{"_embedded":{"enheter":[{"organisasjonsnummer":"310000001"}]}`,
		"\x1f\x8bnot gzip at all",
	} {
		if _, err := ParseEnheter(strings.NewReader(in), func(Enhet) error { return nil }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	// The caller's own error comes back unchanged.
	stop := errors.New("stop")
	if _, err := ParseEnheter(strings.NewReader(sampleEnheter), func(Enhet) error { return stop }); err != stop {
		t.Fatalf("callback error: got %v", err)
	}
}

// FuzzEnhetsregisteret: the parser of outside data never panics, and never reports more entries than it read.
func FuzzEnhetsregisteret(f *testing.F) {
	f.Add([]byte(sampleEnheter))
	f.Add([]byte(`{"_embedded":{"enheter":[{"organisasjonsnummer":"310000002","slettedato":"2026-01-15"}]},"page":{}}`))
	f.Add([]byte(`[{"organisasjonsnummer":"310000001","konkurs":true}]`))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`[{"organisasjonsnummer":"310000001"}]`))
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		var n int64
		st, err := ParseEnheter(bytes.NewReader(in), func(e Enhet) error {
			n++
			if !validOrgnr(e.Organisasjonsnummer) {
				t.Fatalf("delivered an invalid orgnr %q", e.Organisasjonsnummer)
			}
			return nil
		})
		if n+st.Skipped > st.Read {
			t.Fatalf("delivered %d and skipped %d of %d read", n, st.Skipped, st.Read)
		}
		_ = err
	})
}
