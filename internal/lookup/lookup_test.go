package lookup_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/store"
)

const consumer = "310000001"

type fixture struct {
	db      *store.DB
	p       *lookup.Pipeline
	now     time.Time
	afs     []register.Arbeidsforhold
	persons map[string]register.Person
	big     string // the arbeidssted with the most arbeidsforhold
}

// newFixture is a real SQLite store with a synthetic population in which one
// of the big employer's persons has a protected address.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), persons: map[string]register.Person{}}
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	pop, err := register.NewPopulation(register.PopulationConfig{Persons: 120, Seed: 7, AsOf: "2026-11-24"})
	if err != nil {
		t.Fatal(err)
	}
	var ps []register.Person
	for i := 0; i < 120; i++ {
		p, afs := pop.Person(i)
		ps = append(ps, p)
		f.afs = append(f.afs, afs...)
	}
	bySted := map[string]int{}
	for _, a := range f.afs {
		bySted[a.ArbeidsstedIdent()]++
	}
	for s, n := range bySted {
		if n > bySted[f.big] || (n == bySted[f.big] && s < f.big) {
			f.big = s
		}
	}
	protected := f.employees(f.big)[0]
	for i := range ps {
		if ps[i].Ident == protected {
			ps[i].Adressebeskyttelse = register.StrengtFortrolig
		}
		f.persons[ps[i].Ident] = ps[i]
	}
	if _, err := db.UpsertOrganisations(ctx, pop.Organisations()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertPersons(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertArbeidsforhold(ctx, f.afs); err != nil {
		t.Fatal(err)
	}
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: consumer, Navn: "Etat", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	f.p = &lookup.Pipeline{Store: db, Log: db, Catalogue: cat, Env: register.EnvTest, Now: func() time.Time { return f.now }}
	return f
}

// employees are the persons employed at arbeidssted, sorted.
func (f *fixture) employees(arbeidssted string) []string {
	var out []string
	for _, a := range f.afs {
		if a.ArbeidsstedIdent() == arbeidssted {
			out = append(out, a.ArbeidstakerIdent())
		}
	}
	return lookup.Unique(out)
}

func (f *fixture) protected() string {
	for _, id := range f.employees(f.big) {
		if p := f.persons[id]; p.Protected() {
			return id
		}
	}
	panic("no protected person")
}

// unprotected is an employee of the big employer without a protected address.
func (f *fixture) unprotected() string {
	for _, id := range f.employees(f.big) {
		if p, known := f.persons[id]; known && !p.Protected() {
			return id
		}
	}
	panic("no unprotected person")
}

func (f *fixture) grant(t *testing.T, g access.Grant) access.Grant {
	t.Helper()
	g.Consumer, g.Channel, g.Env, g.Status = consumer, access.ChannelAPI, register.EnvTest, access.Active
	g.ValidFrom = f.now.Add(-time.Hour)
	if g.LegalBasis == "" {
		g.LegalBasis, g.ProcessingBasis, g.Purpose = "forskrift § 10", "art. 6 e", "kontroll"
	}
	if len(g.QueryKinds) == 0 {
		g.QueryKinds = []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted}
	}
	g, err := f.db.AddGrant(context.Background(), g, "test")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (f *fixture) consent(t *testing.T, person, purpose string) {
	t.Helper()
	if _, err := f.db.GiveConsent(context.Background(), governance.Consent{PersonPID: person, Consumer: consumer, Purpose: purpose,
		ExpiresAt: f.now.Add(24 * time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
}

// run looks up q as an API client and delivers the items joined by newlines.
func (f *fixture) run(t *testing.T, kind access.QueryKind, q register.Query) (*lookup.Answer, audit.Record) {
	t.Helper()
	ctx := context.Background()
	in, err := f.p.Inputs(ctx, consumer, "")
	if err != nil {
		t.Fatal(err)
	}
	q.Screened, q.Limit = true, 100
	rec := lookup.Caller{Channel: access.ChannelAPI, Consumer: consumer, ClientID: "c1", CorrelationID: "k1", Operation: "test"}.Record(map[string]string{"q": "x"})
	a, err := f.p.Lookup(ctx, in, rec, lookup.Query{Kind: kind, Register: q})
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	var body []byte
	for _, it := range a.Items {
		body = append(append(body, it.JSON...), '\n')
	}
	if err := a.Deliver(ctx, body); err != nil {
		t.Fatal(err)
	}
	return a, f.last(t)
}

func (f *fixture) last(t *testing.T) audit.Record {
	t.Helper()
	recs, err := f.db.AuditRecords(context.Background(), consumer, 10_000)
	if err != nil || len(recs) == 0 {
		t.Fatalf("records: %v %v", len(recs), err)
	}
	return recs[len(recs)-1]
}

// Rules AA-11, AA-16: an employer search delivers everyone but the protected
// person, minimised, and the record names each person once, the grant and
// the digest of the exact answer.
func TestLookupByEmployer(t *testing.T) {
	f := newFixture(t)
	g := f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1"}})
	a, rec := f.run(t, access.ByArbeidssted, register.Query{Arbeidssted: f.big})
	var want []string
	for _, id := range f.employees(f.big) {
		if p, known := f.persons[id]; known && !p.Protected() { // an unknown person cannot be known to be unprotected
			want = append(want, id)
		}
	}
	if !slices.Equal(rec.Returned, want) {
		t.Fatalf("returned %v, want %v", rec.Returned, want)
	}
	var body []byte
	for _, it := range a.Items {
		if strings.Contains(string(it.JSON), f.protected()) {
			t.Fatal("the protected person was delivered")
		}
		if strings.Contains(string(it.JSON), "ansettelsesdetaljer") {
			t.Fatalf("not minimised: %s", it.JSON)
		}
		body = append(append(body, it.JSON...), '\n')
	}
	if rec.Decision != audit.Permit || rec.Status != http.StatusOK || rec.ResultCount != len(a.Items) || rec.ResponseHash != lookup.Digest(body) {
		t.Fatalf("record %s %d count %d hash %s", rec.Decision, rec.Status, rec.ResultCount, rec.ResponseHash)
	}
	if len(rec.Grants) != 1 || rec.Grants[0].ID != g.ID || rec.ClientID != "c1" || rec.CorrelationID != "k1" || string(rec.Request) != `{"q":"x"}` {
		t.Fatalf("record %+v", rec)
	}
	// Rules AA-16, AA-17 (issue 11, item 1): the leaf's record names none of
	// the persons returned, nor holds the kept answer; one commitment each.
	f.p.KeepResponses = true
	_, rec = f.run(t, access.ByArbeidssted, register.Query{Arbeidssted: f.big})
	recs, err := f.db.StoredRecords(context.Background(), store.RecordQuery{Consumer: consumer, Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	leaf := recs[len(recs)-1].Canonical
	for _, id := range want {
		if strings.Contains(string(leaf), id) {
			t.Fatalf("a returned person is in the leaf's record: %s", leaf)
		}
	}
	var sealed audit.Record
	json.Unmarshal(leaf, &sealed)
	if sealed.V != 2 || len(sealed.ReturnedCommitments) != len(want) || sealed.Response != nil || len(rec.Response) == 0 {
		t.Fatalf("leaf record v%d, %d commitments for %d persons, response in leaf %v, kept %v", sealed.V, len(sealed.ReturnedCommitments), len(want), sealed.Response != nil, len(rec.Response))
	}
}

// Rule AA-11: a lookup of a protected person is answered as for an unknown
// person; the log alone says screened. An unknown person is not screened.
func TestLookupScreensProtectedPerson(t *testing.T) {
	f := newFixture(t)
	f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1"}})
	a, rec := f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: f.protected()})
	if len(a.Items) != 0 || !a.Screened || rec.Decision != audit.Screened || len(rec.Returned) != 0 {
		t.Fatalf("protected: %d items, screened %v, log %s %v", len(a.Items), a.Screened, rec.Decision, rec.Returned)
	}
	a, rec = f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: "41817512345"})
	if a.Screened || rec.Decision != audit.Permit {
		t.Fatalf("unknown: screened %v, log %s", a.Screened, rec.Decision)
	}
}

// Rule SK-08: on a grant resting on consent, a person's data is delivered
// only under their consent, and only to a lookup keyed on that person: a
// search by employer would page through and count persons who never
// consented, so it is refused, with consents or without.
func TestLookupConsent(t *testing.T) {
	f := newFixture(t)
	f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1"}, Consent: true, Purpose: "pensjon", LegalBasis: "samtykke"})
	p := f.unprotected()

	a, rec := f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: p})
	if !a.Withheld || len(a.Items) != 0 || rec.Decision != audit.Deny || rec.Reason != lookup.ReasonNoConsent || rec.Status != http.StatusOK {
		t.Fatalf("without consent: withheld %v, %d items, log %s/%s %d", a.Withheld, len(a.Items), rec.Decision, rec.Reason, rec.Status)
	}
	f.refused(t, access.DenyConsentPerPerson, register.Query{Arbeidssted: f.big})

	f.consent(t, p, "pensjon")
	if a, rec := f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: p}); a.Withheld || len(a.Items) == 0 || rec.Decision != audit.Permit {
		t.Fatalf("with consent: withheld %v, %d items, log %s", a.Withheld, len(a.Items), rec.Decision)
	}
	f.refused(t, access.DenyConsentPerPerson, register.Query{Arbeidssted: f.big})
}

// Rule SK-08: beside a grant on statute, a person without consent gets what
// the statute grant gives, and the log names that grant alone.
func TestLookupConsentBesideStatute(t *testing.T) {
	f := newFixture(t)
	statute := f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1"}})
	f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1", "stillingsdetaljer@1"}, Consent: true, Purpose: "pensjon", LegalBasis: "samtykke"})
	p := f.unprotected()
	a, rec := f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: p})
	if len(a.Items) == 0 || strings.Contains(string(a.Items[0].JSON), "ansettelsesdetaljer") || len(rec.Grants) != 1 || rec.Grants[0].ID != statute.ID {
		t.Fatalf("without consent: %d items, grants %+v", len(a.Items), rec.Grants)
	}
	f.consent(t, p, "pensjon")
	a, rec = f.run(t, access.ByArbeidstaker, register.Query{Arbeidstaker: p})
	if len(a.Items) == 0 || !strings.Contains(string(a.Items[0].JSON), "ansettelsesdetaljer") || len(rec.Grants) != 2 {
		t.Fatalf("with consent: %d items, grants %+v", len(a.Items), rec.Grants)
	}
}

// refused looks up an employer's arbeidsforhold and checks the pipeline
// refuses it for reason, logged before the caller is answered (Rule AA-16).
func (f *fixture) refused(t *testing.T, reason access.Reason, q register.Query) {
	t.Helper()
	in, err := f.p.Inputs(context.Background(), consumer, "")
	if err != nil {
		t.Fatal(err)
	}
	q.Screened = true
	rec := lookup.Caller{Channel: access.ChannelAPI, Consumer: consumer}.Record(nil)
	_, err = f.p.Lookup(context.Background(), in, rec, lookup.Query{Kind: access.ByArbeidssted, Register: q})
	var denied *lookup.Denied
	if !errors.As(err, &denied) || denied.Reason != reason || denied.Text == "" {
		t.Fatalf("err %v, want %s", err, reason)
	}
	if got := f.last(t); got.Decision != audit.Deny || got.Reason != string(reason) || got.Status != http.StatusForbidden || len(got.Returned) != 0 {
		t.Fatalf("log %s/%s %d", got.Decision, got.Reason, got.Status)
	}
}

func TestLookupDenied(t *testing.T) {
	f := newFixture(t)
	f.grant(t, access.Grant{Packages: []string{"grunnopplysninger@1"}, QueryKinds: []access.QueryKind{access.ByArbeidstaker}})
	f.refused(t, access.DenyQueryKind, register.Query{Arbeidssted: f.big})
}

// A decided answer is appended even when the caller has gone away.
func TestAppendOutlivesTheCaller(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := lookup.Caller{Channel: access.ChannelAPI, Consumer: consumer, CorrelationID: "gone"}.Record(nil)
	if err := f.p.Refuse(ctx, rec, http.StatusBadRequest, "invalid-request"); err != nil {
		t.Fatal(err)
	}
	if got := f.last(t); got.CorrelationID != "gone" {
		t.Fatalf("last record %+v", got)
	}
}
