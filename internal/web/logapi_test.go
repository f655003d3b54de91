package web

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/machineapi"
)

func TestLogEndpoints(t *testing.T) {
	h := newHarness(t)
	if a := h.do("GET", "", "/audit/checkpoint", nil); a.status != 404 {
		t.Fatalf("no checkpoint yet: %d", a.status)
	}
	org, _ := h.consumer("Etat", grant(basic, access.ByArbeidstaker))
	tok := h.token(h.client(org))
	for _, p := range h.employed(5) {
		h.person(tok, p.Ident, "")
	}
	size1, _ := h.checkpoint()
	for _, p := range h.employed(3) {
		h.person(tok, p.Ident, "")
	}
	size2, root2 := h.checkpoint()

	key := strings.TrimSpace(string(h.do("GET", "", "/audit/key", nil).body))
	v, err := note.NewVerifier(key)
	if err != nil {
		t.Fatalf("/audit/key: %v", err)
	}
	cp, err := audit.OpenCheckpoint(h.do("GET", "", "/audit/checkpoint", nil).body, v)
	if err != nil || cp.Size != size2 || string(cp.Root) != string(root2) {
		t.Fatalf("/audit/checkpoint: %+v %v", cp, err)
	}
	recs, _ := h.db.StoredRecords(t.Context(), store.RecordQuery{All: true, Limit: 1000})
	for _, r := range recs {
		a := h.do("GET", "", "/audit/proof/inclusion?index="+strconv.FormatUint(r.Seq, 10)+"&size="+strconv.FormatUint(size2, 10), nil)
		var pa machineapi.ProofAnswer
		json.Unmarshal(a.body, &pa)
		var hashes [][]byte
		for _, s := range pa.Hashes {
			b, _ := base64.StdEncoding.DecodeString(s)
			hashes = append(hashes, b)
		}
		if err := audit.VerifyInclusion(r.Seq, size2, audit.LeafHash(r.Salt, r.Canonical), hashes, cp.Root); err != nil {
			t.Fatalf("record %d: %v", r.Seq, err)
		}
	}
	a := h.do("GET", "", "/audit/proof/consistency?from="+strconv.FormatUint(size1, 10)+"&to="+strconv.FormatUint(size2, 10), nil)
	if a.status != 200 {
		t.Fatalf("consistency: %d %s", a.status, a.body)
	}
	for _, bad := range []string{"/audit/proof/inclusion?index=x&size=1", "/audit/proof/inclusion?index=5&size=999999", "/audit/proof/consistency?from=3&to=1"} {
		if a := h.do("GET", "", bad, nil); a.status != 400 && a.status != 404 {
			t.Errorf("%s: %d", bad, a.status)
		}
	}
}

// Rule AA-17: a person learns which consumers have access, with purpose and
// legal basis; where the policy allows it for the consumer's category, the
// lookups on them, each with a receipt that checks offline.
func TestPersonInsight(t *testing.T) {
	h := newHarness(t)
	privat, _ := h.consumer("Pensjonsselskap", grant(basic, access.ByArbeidstaker))
	offentlig, _ := h.consumer("Etat", grant(basic, access.ByArbeidstaker))
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: privat, Navn: "Pensjonsselskap", Status: access.Active, Category: "privat"}, "test")
	h.db.UpsertConsumer(t.Context(), access.Consumer{Orgnr: offentlig, Navn: "Etat", Status: access.Active, Category: "offentlig"}, "test")
	p := h.employed(2)
	h.person(h.token(h.client(privat)), p[0].Ident, "")
	h.person(h.token(h.client(offentlig)), p[0].Ident, "")
	h.person(h.token(h.client(privat)), p[1].Ident, "") // another person's lookup
	h.checkpoint()

	if a := h.do("GET", "", "/api/innsyn/person", nil, machineapi.HeaderPerson, p[0].Ident); a.status != 401 {
		t.Fatalf("without the admin token: %d", a.status)
	}
	a := h.do("GET", testAdminToken, "/api/innsyn/person", nil, machineapi.HeaderPerson, p[0].Ident)
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var out struct {
		Konsumenter []channel.ConsumerAccess `json:"konsumenter"`
		Oppslag     []channel.LookupSeen     `json:"oppslag"`
	}
	json.Unmarshal(a.body, &out)
	orgs := map[string]channel.ConsumerAccess{}
	for _, c := range out.Konsumenter {
		orgs[c.Orgnr] = c
	}
	if c := orgs[privat]; c.Formaal == "" || c.Hjemmel == "" || c.Behandlingsgrunnlag == "" || len(orgs) != 2 {
		t.Fatalf("consumers with access: %+v", out.Konsumenter)
	}
	// Only the private consumer's lookup on this person is shown, by policy.
	if len(out.Oppslag) != 1 || out.Oppslag[0].Konsument != privat || out.Oppslag[0].Kvittering == nil {
		t.Fatalf("lookups: %+v", out.Oppslag)
	}
	if ra := a.header.Get("Retry-After"); ra != "" {
		t.Fatalf("every receipt given, yet Retry-After %q", ra)
	}
	// A lookup not yet integrated nor under a checkpoint: its receipt comes later, and the answer says when to ask again.
	h.person(h.token(h.client(privat)), p[0].Ident, "")
	b := h.do("GET", testAdminToken, "/api/innsyn/person", nil, machineapi.HeaderPerson, p[0].Ident)
	var later struct {
		Oppslag []channel.LookupSeen `json:"oppslag"`
	}
	json.Unmarshal(b.body, &later)
	if len(later.Oppslag) != 2 || !later.Oppslag[1].KvitteringKommer || later.Oppslag[1].Kvittering != nil || b.header.Get("Retry-After") != "6" {
		t.Fatalf("a receipt to come: Retry-After %q, %+v", b.header.Get("Retry-After"), later.Oppslag)
	}
	v, _ := note.NewVerifier(h.vkey)
	rc := *out.Oppslag[0].Kvittering
	if _, err := audit.VerifyReceipt(rc, v); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	var rec audit.Record
	json.Unmarshal(rc.Record, &rec)
	// Rule AA-17: the receipt proves the person's own appearance by their commitment; no identity is in the clear.
	if a, err := audit.AppearanceOf(rc.Record, p[0].Ident, rc.Subject.Salt); err != nil || !a.Returned || rec.Consumer != privat || rec.V != 2 {
		t.Fatalf("the receipt is for another record: %+v %v", rec, err)
	}
	if strings.Contains(string(rc.Record), p[0].Ident) || len(rec.Returned) != 0 {
		t.Fatalf("the receipt's record names the person in the clear: %s", rc.Record)
	}
	// A tampered receipt fails.
	rc.Record = []byte(strings.Replace(string(rc.Record), `"permit"`, `"deny"`, 1))
	if _, err := audit.VerifyReceipt(rc, v); err == nil {
		t.Fatal("a changed record verified")
	}
	// The staff's reading is itself in the log.
	recs, _ := h.db.StoredRecords(t.Context(), store.RecordQuery{Subject: p[0].Ident, Limit: 100})
	if last := recs[len(recs)-1].Record; last.Kind != audit.KindInsight {
		t.Fatalf("insight not logged: %+v", last)
	}
}

func TestConsumerLog(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Etat", grant(basic, access.ByArbeidstaker))
	tok := h.token(h.client(org))
	for _, p := range h.employed(7) {
		h.person(tok, p.Ident, "")
	}
	path := "/api/innsyn/konsument/" + org + "/oppslag"
	var all []audit.Record
	q := "?antall=3"
	for pages := 0; pages < 10; pages++ {
		a := h.do("GET", testAdminToken, path+q, nil)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		var page struct {
			Oppslag   []audit.Record `json:"oppslag"`
			NesteSide string         `json:"nesteSide"`
		}
		json.Unmarshal(a.body, &page)
		all = append(all, page.Oppslag...)
		if page.NesteSide == "" {
			break
		}
		q = "?antall=3&side=" + page.NesteSide
	}
	if len(all) != 7 {
		t.Fatalf("paged: %d records, want 7", len(all))
	}
	a := h.do("GET", testAdminToken, path+"?format=jsonl", nil)
	if lines := strings.Count(string(a.body), "\n"); lines != 7 || a.header.Get("Content-Type") != "application/jsonl" {
		t.Fatalf("jsonl: %d lines, %s", lines, a.header.Get("Content-Type"))
	}
	if a := h.do("GET", testAdminToken, path+"?fra=2099-01-01T00:00:00Z", nil); !strings.Contains(string(a.body), `"oppslag":[]`) {
		t.Fatalf("time filter: %s", a.body)
	}
	if a := h.do("GET", testAdminToken, path+"?fnr=1", nil); a.status != 400 {
		t.Fatalf("unknown parameter: %d", a.status)
	}
}
