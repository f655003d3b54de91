package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestPackDictionaryPinned: the dictionary of marker 0x01 never changes, or
// the records packed with it could no longer be read (Rule AA-16: every
// record stays verifiable). A new dictionary gets a new marker.
func TestPackDictionaryPinned(t *testing.T) {
	const want = "e41cccb08fb13220c5e904773ef2a1a02016abce593d766ff2e6948ca1591b20"
	if got := fmt.Sprintf("%x", sha256.Sum256(records1)); got != want {
		t.Fatalf("dict/records-1.json changed: SHA-256 %s, pinned %s", got, want)
	}
}

// TestPackRoundTrip: the unpacked form is the canonical bytes exactly, for
// every kind of record; plain records read as they are (Rule AA-16).
func TestPackRoundTrip(t *testing.T) {
	var all [][]byte
	for i := range 50 {
		e, err := NewEntry(sampleLookup(i))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.Canonical)
	}
	for _, r := range dictRecords() {
		e, err := NewEntry(r)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.Canonical)
	}
	big := bytes.Repeat([]byte(`{"x":"`+string(bytes.Repeat([]byte{'a'}, 100))+`"}`), 1000)
	all = append(all, big)
	for _, c := range all {
		p := PackRecord(c)
		if p[0] != PackedRecords1 {
			t.Fatalf("packed form starts with 0x%02x", p[0])
		}
		got, err := UnpackRecord(p)
		if err != nil || !bytes.Equal(got, c) {
			t.Fatalf("round trip of %q: %q, %v", c, got, err)
		}
		if got, err := UnpackRecord(c); err != nil || !bytes.Equal(got, c) {
			t.Fatalf("a plain record did not read as it is: %v", err)
		}
	}
	if got, err := UnpackRecord(nil); got != nil || err != nil {
		t.Fatalf("an erased record: %q, %v", got, err)
	}
	for _, bad := range [][]byte{{0x02, 1, 2}, {PackedRecords1}, {PackedRecords1, 0x28, 0xb5, 0x2f, 0xfd}, []byte("[1]")} {
		if _, err := UnpackRecord(bad); err == nil {
			t.Errorf("unpacked % x", bad)
		}
	}
}

// TestUnpackBounded: a frame that would unpack beyond MaxRecordSize is refused.
func TestUnpackBounded(t *testing.T) {
	p := PackRecord(append([]byte{'{'}, make([]byte, MaxRecordSize)...))
	if len(p) > 10_000 {
		t.Fatalf("zeros packed to %d bytes", len(p))
	}
	if _, err := UnpackRecord(p); err == nil {
		t.Fatal("unpacked beyond the bound")
	}
}

// TestPackWithinBound: every record NewEntry accepts packs to a value
// UnpackRecord opens, up to MaxRecordSize exactly, whatever its size and
// however badly it compresses (a 1.35 MB record once packed to a frame no
// reader could open, and integration stopped on it for good: Rule AA-16);
// NewEntry refuses a record above the bound, so the append fails closed.
func TestPackWithinBound(t *testing.T) {
	hexRecord := func(n int) []byte { // incompressible: random hex in a JSON string
		b := make([]byte, (n-8)/2)
		rand.Read(b)
		return []byte(`{"x":"` + hex.EncodeToString(b) + strings.Repeat(" ", n-8-2*len(b)) + `"}`)
	}
	for _, n := range []int{100, 128<<10 + 1, 1<<20 + 1, 1_350_000, 5_500_000, 8<<20 + 1, MaxRecordSize} {
		c := hexRecord(n)
		if len(c) != n {
			t.Fatalf("made %d bytes, want %d", len(c), n)
		}
		got, err := UnpackRecord(PackRecord(c))
		if err != nil || !bytes.Equal(got, c) {
			t.Fatalf("a record of %d bytes did not unpack: %v", n, err)
		}
	}
	// 300 of random sizes up to 300 kB, some compressible, some not.
	for i := range 300 {
		n := 8 + mrand.IntN(300_000)
		c := hexRecord(n)
		if i%2 == 0 {
			c = []byte(`{"x":"` + strings.Repeat("ab", (n-8)/2) + strings.Repeat(" ", (n-8)%2) + `"}`)
		}
		if got, err := UnpackRecord(PackRecord(c)); err != nil || !bytes.Equal(got, c) {
			t.Fatalf("a record of %d bytes did not unpack: %v", n, err)
		}
	}

	r := sampleLookup(1)
	r.Request = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxRecordSize) + `"}`)
	if _, err := NewEntry(r); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("NewEntry of a record above the bound: %v", err)
	}
	r = sampleLookup(2)
	r.Request = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxRecordSize-2000) + `"}`)
	e, err := NewEntry(r)
	if err != nil {
		t.Fatalf("NewEntry of a record within the bound: %v", err)
	}
	if got, err := UnpackRecord(e.Stored); err != nil || !bytes.Equal(got, e.Canonical) {
		t.Fatalf("the stored form of a record within the bound did not unpack: %v", err)
	}
}

// skippable is a zstd skippable frame holding data (RFC 8878 §3.1.2).
func skippable(data string) []byte {
	return append([]byte{0x50, 0x2a, 0x4d, 0x18, byte(len(data)), 0, 0, 0}, data...)
}

// TestUnpackOneFrame: a stored value is one frame of ours and nothing else;
// bytes beside it (a skippable frame before or after, a second frame) or a
// frame naming a dictionary would let a stored value carry what the leaf
// does not commit to (Rule AA-16).
func TestUnpackOneFrame(t *testing.T) {
	e, err := NewEntry(sampleLookup(1))
	if err != nil {
		t.Fatal(err)
	}
	frame := e.Stored[1:]
	withDict := bytes.Clone(frame)
	withDict[4] |= 0x01 // Dictionary_ID_flag 1: a one-byte id follows the descriptor
	withDict = slices.Insert(withDict, 5, 7)
	pack := func(parts ...[]byte) []byte { return append([]byte{PackedRecords1}, bytes.Join(parts, nil)...) }
	if _, err := UnpackRecord(pack(frame)); err != nil {
		t.Fatalf("the frame itself: %v", err)
	}
	for name, bad := range map[string][]byte{
		"skippable before": pack(skippable("hidden"), frame),
		"skippable after":  pack(frame, skippable("hidden")),
		"two frames":       pack(frame, frame),
		"a byte after":     pack(frame, []byte{0}),
		"dictionary id":    pack(withDict),
		"truncated":        pack(frame[:len(frame)-1]),
		"skippable only":   pack(skippable("hidden")),
	} {
		if got, err := UnpackRecord(bad); err == nil {
			t.Errorf("%s: unpacked to %d bytes", name, len(got))
		}
	}
}

// FuzzUnpackRecord: any stored value unpacks or fails, within the bound, and
// never panics; what unpacks packs back to the same canonical bytes.
func FuzzUnpackRecord(f *testing.F) {
	e, _ := NewEntry(sampleLookup(1))
	f.Add(PackRecord(e.Canonical))
	f.Add(e.Canonical)
	f.Add([]byte{PackedRecords1, 0x28, 0xb5, 0x2f, 0xfd, 0x00})
	f.Add(append(PackRecord(e.Canonical), skippable("hidden")...))
	f.Add(append([]byte{PackedRecords1}, append(skippable("hidden"), PackRecord(e.Canonical)[1:]...)...))
	f.Add(append(PackRecord(e.Canonical), PackRecord(e.Canonical)[1:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := UnpackRecord(b)
		if err != nil || len(b) == 0 {
			return
		}
		if len(got) > MaxRecordSize {
			t.Fatalf("unpacked %d bytes", len(got))
		}
		if got[0] != '{' {
			t.Fatalf("unpacked to %q", got[:1])
		}
		again, err := UnpackRecord(PackRecord(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("repack: %v", err)
		}
	})
}

// apiFilters is the request of GET /api/v2/arbeidstaker/arbeidsforhold as
// the machine API records it, in its field order, for one person (%s).
const apiFilters = `{"arbeidstakerId":"%s","arbeidsforholdtype":["ordinaertArbeidsforhold","maritimtArbeidsforhold","forenkletOppgjoersordning",` +
	`"frilanserOppdragstakerHonorarPersonerMm"],"rapporteringsordning":["A_ORDNINGEN","FOER_A_ORDNINGEN"],"arbeidsforholdstatus":["AKTIV","AVSLUTTET","FREMTIDIG"]}`

// sampleLookup is an API lookup record as the machine API writes it (one
// grant, the request's filters, one returned person), with made-up values.
func sampleLookup(i int) *Record {
	person := fmt.Sprintf("%011d", 10000000000+mrand.Int64N(90000000000))
	h := make([]byte, 32)
	rand.Read(h)
	req := json.RawMessage(fmt.Sprintf(apiFilters, person))
	consumer := fmt.Sprintf("%d", 392000000+i%16)
	return &Record{ID: uuid.Must(uuid.NewV7()).String(), Time: time.Now().UTC(), Kind: KindLookup, Channel: "api", Consumer: consumer,
		ClientID: fmt.Sprintf("klient-%s-%d", consumer, i%4),
		Grants: []GrantRef{{ID: uuid.Must(uuid.NewV7()).String(), LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e",
			Purpose: "Saksbehandling av ytelser"}},
		CorrelationID: uuid.NewString(), Operation: "GET /api/v2/arbeidstaker/arbeidsforhold", Request: req,
		Decision: Permit, Status: 200, Returned: []string{person}, ResultCount: 1 + i%4, ResponseHash: hex.EncodeToString(h)}
}

// dictRecords are the records of dict/records-1.json: one of each kind and
// operation, the API's lookups last (a raw dictionary's end is the cheapest
// to refer to). Made-up values only.
func dictRecords() []*Record {
	t := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	ev := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	id := func(n int) string { return fmt.Sprintf("01900000-0000-7000-8000-%012d", n) }
	g := []GrantRef{{ID: id(1), LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Saksbehandling"}}
	filters := json.RawMessage(fmt.Sprintf(apiFilters, "01010012345"))
	var out []*Record
	add := func(r Record) { r.ID = id(100 + len(out)); r.Time = t; out = append(out, &r) }
	add(Record{Kind: KindSigningKeyRotated, Event: ev(map[string]any{"kid": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}), Actor: "deling serve"})
	add(Record{Kind: KindConsumerChanged, Consumer: "999999999", Event: ev(map[string]any{"Orgnr": "999999999", "Navn": "Eksempel AS", "Status": "active", "Category": ""}), Actor: "forvalter"})
	add(Record{Kind: KindClientAdded, Consumer: "999999999", Event: ev(map[string]any{"client": "klient-1", "keys": 1}), Actor: "forvalter"})
	add(Record{Kind: KindGrantAdded, Consumer: "999999999", Event: ev(map[string]any{"ID": id(1), "Consumer": "999999999", "Packages": []string{"grunnopplysninger@1", "stillingsdetaljer@1"},
		"Channel": "api", "Env": "prod", "LegalBasis": "Aa-registerforskriften § 10", "ProcessingBasis": "GDPR art. 6 nr. 1 bokstav e", "Purpose": "Saksbehandling",
		"QueryKinds": []string{"arbeidstaker", "arbeidssted", "opplysningspliktig"}, "ValidFrom": t, "ValidTo": nil, "RateLimit": 1000, "Status": "active",
		"StatusReason": "", "Consent": false, "ApplicationID": ""}), Actor: "forvalter"})
	add(Record{Kind: KindGrantStatus, Consumer: "999999999", Event: ev(map[string]any{"grant": id(1), "status": "suspended", "reason": "Tilsyn"}), Actor: "forvalter"})
	add(Record{Kind: KindInsight, Channel: "portal", EndUser: "01010012345", CorrelationID: id(2), Operation: "GET /portal/innsyn",
		Request: ev(map[string]any{"ident": "01010012345"}), Decision: Permit, Status: 200, ResultCount: 3})
	add(Record{Kind: KindInsight, Channel: "api", Consumer: "999999999", ClientID: "klient-1", CorrelationID: id(3), Operation: "GET /api/innsyn/person",
		Request: ev(map[string]any{"ident": "01010012345"}), Decision: Permit, Status: 200, ResultCount: 2})
	add(Record{Kind: KindLookup, Channel: "portal", Consumer: "999999999", EndUser: "01010012345", Grants: g, CorrelationID: id(4), Operation: "POST /portal/oppslag",
		Request: ev(map[string]any{"sok": "person", "ident": "01010012345", "side": 1}), Decision: Permit, Status: 200, Returned: []string{"01010012345"}, ResultCount: 2,
		ResponseHash: "0000000000000000000000000000000000000000000000000000000000000000"})
	add(Record{Kind: KindLookup, Channel: "api", Consumer: "999999999", ClientID: "klient-1", Grants: g, CorrelationID: id(5), Operation: "GET /api/v2/uttrekk/{jobbid}/batch/{n}",
		Request: ev(map[string]any{"jobbId": id(6), "batch": 1}), Decision: Permit, Status: 200, ResultCount: 1000,
		ResponseHash: "0000000000000000000000000000000000000000000000000000000000000000"})
	add(Record{Kind: KindLookup, Channel: "api", Consumer: "999999999", ClientID: "klient-1", Grants: g, CorrelationID: id(7), Operation: "GET /api/v2/arbeidsforhold/{uuid}",
		Request: ev(map[string]any{"arbeidsforholdId": id(8)}), Decision: Permit, Status: 200, Returned: []string{"01010012345"}, ResultCount: 1,
		ResponseHash: "0000000000000000000000000000000000000000000000000000000000000000"})
	add(Record{Kind: KindLookup, Channel: "api", Consumer: "999999999", ClientID: "klient-1", CorrelationID: id(9), Operation: "GET /api/v2/arbeidstaker/arbeidsforhold",
		Request: filters, Decision: Deny, Reason: "no-grant", Status: 403, ResultCount: 0})
	add(Record{Kind: KindLookup, Channel: "api", Consumer: "999999999", ClientID: "klient-1", Grants: g, CorrelationID: id(10), Operation: "GET /api/v2/arbeidstaker/arbeidsforhold",
		Request: filters, Decision: Screened, Status: 200, ResultCount: 0,
		ResponseHash: "0000000000000000000000000000000000000000000000000000000000000000"})
	add(Record{Kind: KindLookup, Channel: "api", Consumer: "999999999", ClientID: "klient-1", Grants: g, CorrelationID: id(11), Operation: "GET /api/v2/arbeidstaker/arbeidsforhold",
		Request: filters, Decision: Permit, Status: 200, Returned: []string{"01010012345"}, ResultCount: 3,
		ResponseHash: "0000000000000000000000000000000000000000000000000000000000000000"})
	return out
}

// TestWriteDictionary writes dict/records-1.json when DELING_WRITE_DICT is
// set. Run once, when a dictionary is made; never for one in use (its hash is pinned).
func TestWriteDictionary(t *testing.T) {
	if os.Getenv("DELING_WRITE_DICT") == "" {
		t.Skip("DELING_WRITE_DICT not set")
	}
	var buf bytes.Buffer
	for _, r := range dictRecords() {
		e, err := NewEntry(r)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(e.Canonical)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile("dict/records-1.json", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPackRecord: the stored form's size (stored-B/record) and the
// time to pack one API lookup record.
func BenchmarkPackRecord(b *testing.B) {
	var recs [][]byte
	for i := range 256 {
		e, err := NewEntry(sampleLookup(i))
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, e.Canonical)
	}
	var plain, packed, n int
	for ; b.Loop(); n++ {
		c := recs[n%len(recs)]
		plain += len(c)
		packed += len(PackRecord(c))
	}
	b.ReportMetric(float64(plain)/float64(n), "canonical-B/record")
	b.ReportMetric(float64(packed)/float64(n), "stored-B/record")
}

// BenchmarkUnpackRecord: the time to read one packed record back.
func BenchmarkUnpackRecord(b *testing.B) {
	var recs [][]byte
	for i := range 256 {
		e, _ := NewEntry(sampleLookup(i))
		recs = append(recs, PackRecord(e.Canonical))
	}
	for i := 0; b.Loop(); i++ {
		if _, err := UnpackRecord(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
}
