package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

// termsConsumer registers an active consumer with one active API grant and returns the grant.
func termsConsumer(t *testing.T, db *DB, orgnr string) access.Grant {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: "Konsument " + orgnr, Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	g, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: []string{"grunnopplysninger@1"}, Channel: access.ChannelAPI,
		Env: register.EnvTest, LegalBasis: "aa-registerforskriften § 10", ProcessingBasis: "art. 6(1)(e)", Purpose: "saksbehandling",
		QueryKinds: []access.QueryKind{access.ByArbeidstaker}, ValidFrom: fixedNow()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func termsContact(t *testing.T, db *DB, orgnr, email string, varsler bool) {
	t.Helper()
	if _, err := db.SaveContact(context.Background(), governance.Contact{Consumer: orgnr, Navn: "Kontakt " + email, Epost: email,
		Rolle: governance.ContactTechnical, Varsler: varsler}, "test"); err != nil {
		t.Fatal(err)
	}
}

// outbox lists every letter, of any consumer, sorted by address.
func outbox(t *testing.T, db *DB) []governance.Letter {
	t.Helper()
	ms, err := db.PendingMail(context.Background(), 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ms, func(a, b governance.Letter) int {
		if a.To < b.To {
			return -1
		}
		if a.To > b.To {
			return 1
		}
		return 0
	})
	return ms
}

func addresses(ms []governance.Letter, kind string) []string {
	var out []string
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m.To)
		}
	}
	slices.Sort(out)
	return out
}

func events(t *testing.T, db *DB, consumer, kind string) []map[string]any {
	t.Helper()
	recs, err := db.AuditRecords(context.Background(), consumer, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range recs {
		if r.Kind == kind {
			var e map[string]any
			if err := json.Unmarshal(r.Event, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

func publishTerms(t *testing.T, db *DB, kind governance.TermsKind, effective time.Time, minNotice time.Duration) (governance.TermsVersion, error) {
	t.Helper()
	v, _, err := db.PublishTerms(context.Background(), governance.TermsVersion{Kind: kind, Title: "Bruksvilkår", Body: "Første ledd.\n\nAndre ledd.", EffectiveFrom: effective},
		minNotice, governance.Notice{Title: "Nye bruksvilkår", Body: "Se vilkårene."}, governance.Letter{Subject: "Nye vilkår", Body: "Nye vilkår er publisert."}, "user:forvalter")
	return v, err
}

// Rules AA-24, SK-02: terms are versioned, announced ahead, accepted or objected to.
func TestTermsPublishAndAccept(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		notice := 30 * 24 * time.Hour
		termsConsumer(t, db, "310000001")
		termsContact(t, db, "310000001", "varsler@a.example", true)
		termsContact(t, db, "310000001", "stille@a.example", false)
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: "310000002", Navn: "Opphørt", Status: access.Ceased}, "test"); err != nil {
			t.Fatal(err)
		}
		termsContact(t, db, "310000002", "opphort@b.example", true)

		// The first version takes effect at once, whatever date it was given.
		v1, err := publishTerms(t, db, governance.Bruksvilkar, fixedNow().Add(99*24*time.Hour), notice)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || !v1.EffectiveFrom.Equal(fixedNow()) || !v1.PublishedAt.Equal(fixedNow()) || v1.PublishedBy != "user:forvalter" {
			t.Fatalf("v1: %+v", v1)
		}
		// Announced as a notice and by letter to subscribed contacts of active consumers only (Rule AA-20).
		if got := addresses(outbox(t, db), governance.LetterNotice); !slices.Equal(got, []string{"varsler@a.example"}) {
			t.Fatalf("letters to %v", got)
		}
		ns, err := db.Notices(ctx, 10)
		if err != nil || len(ns) != 1 || ns[0].Kind != governance.NoticeTerms {
			t.Fatalf("notices: %v %+v", err, ns)
		}

		// Rule AA-24: a later version is announced at least the notice period ahead; nothing is stored otherwise.
		if _, err := publishTerms(t, db, governance.Bruksvilkar, fixedNow().Add(notice-time.Hour), notice); !errors.Is(err, ErrConflict) {
			t.Fatalf("too soon: %v", err)
		}
		if vs, _ := db.TermsVersions(ctx); len(vs) != 1 {
			t.Fatalf("%d versions after a refused publication", len(vs))
		}
		if ns, _ := db.Notices(ctx, 10); len(ns) != 1 {
			t.Fatalf("%d notices after a refused publication", len(ns))
		}
		v2, err := publishTerms(t, db, governance.Bruksvilkar, fixedNow().Add(notice), notice)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || !v2.EffectiveFrom.Equal(fixedNow().Add(notice)) {
			t.Fatalf("v2: %+v", v2)
		}
		d1, err := publishTerms(t, db, governance.Delingsvilkar, time.Time{}, notice)
		if err != nil || d1.Version != 1 {
			t.Fatalf("first delingsvilkår: %v %+v", err, d1)
		}
		vs, err := db.TermsVersions(ctx)
		if err != nil || len(vs) != 3 {
			t.Fatalf("versions: %v %d", err, len(vs))
		}
		if got, err := db.TermsVersion(ctx, v2.ID); err != nil || got != v2 {
			t.Fatalf("load v2: %v\n got %+v\nwant %+v", err, got, v2)
		}
		if _, err := db.TermsVersion(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		if n := len(events(t, db, "", audit.KindTerms)); n != 3 {
			t.Fatalf("%d terms events, want 3", n)
		}

		// Explicit acceptance, recorded once per organisation and version, with an event.
		for range 2 {
			if err := db.AcceptTerms(ctx, "310000001", v2.ID, "user:admin"); err != nil {
				t.Fatal(err)
			}
		}
		acc, err := db.TermsAcceptances(ctx, "310000001")
		if err != nil || len(acc) != 1 || acc[0].VersionID != v2.ID || acc[0].AcceptedBy != "user:admin" || !acc[0].AcceptedAt.Equal(fixedNow()) {
			t.Fatalf("acceptances: %v %+v", err, acc)
		}
		if err := db.AcceptTerms(ctx, "310000001", "nope", "user:admin"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("accepting an unknown version: %v", err)
		}
		if ev := events(t, db, "310000001", audit.KindTerms); len(ev) != 2 || ev[0]["change"] != "accepted" {
			t.Fatalf("acceptance events: %v", ev)
		}
	})
}

// Rule AA-24: an objection is made before the version takes effect; one that cannot be met ends all access.
func TestObjectionEndsAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		notice := 30 * 24 * time.Hour
		g := termsConsumer(t, db, "310000001")
		dID := legacyDelegation(t, db, "310000001", "310000009") // in force without an agreement record, as before migration 00016
		termsContact(t, db, "310000001", "varsler@a.example", true)
		termsContact(t, db, "310000001", "stille@a.example", false)
		other := termsConsumer(t, db, "310000002")

		v1, err := publishTerms(t, db, governance.Bruksvilkar, time.Time{}, notice)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := publishTerms(t, db, governance.Bruksvilkar, fixedNow().Add(notice), notice)
		if err != nil {
			t.Fatal(err)
		}
		// Too late for v1: it is in effect.
		if _, err := db.ObjectToTerms(ctx, governance.Objection{Consumer: "310000001", VersionID: v1.ID, Reason: "nei"}, "user:admin"); !errors.Is(err, ErrConflict) {
			t.Fatalf("objecting to terms in effect: %v", err)
		}
		o, err := db.ObjectToTerms(ctx, governance.Objection{Consumer: "310000001", VersionID: v2.ID, Reason: "Punkt 3 er urimelig."}, "user:admin")
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != governance.ObjectionPending || o.CreatedBy != "user:admin" {
			t.Fatalf("objection: %+v", o)
		}
		if _, err := db.ObjectToTerms(ctx, governance.Objection{Consumer: "310000001", VersionID: v2.ID, Reason: "igjen"}, "user:admin"); !errors.Is(err, ErrExists) {
			t.Fatalf("a second pending objection: %v", err)
		}
		o2, err := db.ObjectToTerms(ctx, governance.Objection{Consumer: "310000002", VersionID: v2.ID, Reason: "Vi trenger mer tid."}, "user:admin2")
		if err != nil {
			t.Fatal(err)
		}
		pending, err := db.Objections(ctx, "", governance.ObjectionPending)
		if err != nil || len(pending) != 2 || pending[0].ID != o.ID {
			t.Fatalf("pending: %v %+v", err, pending)
		}
		if mine, _ := db.Objections(ctx, "310000002", ""); len(mine) != 1 || mine[0].ID != o2.ID {
			t.Fatalf("the other consumer's: %+v", mine)
		}
		before := len(outbox(t, db))

		// Not meetable: every grant and delegation ends, with events, and the consumer's contacts get a letter.
		res, err := db.ResolveObjection(ctx, o.ID, false, "Vilkårene gjelder alle.", governance.Letter{Kind: "terms.objection", Subject: "Innsigelsen kan ikke imøtekommes", Body: "Tilgangen er avsluttet."}, "user:saksbehandler")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != governance.ObjectionRejected || res.ResolvedAt == nil || res.ResolvedBy != "user:saksbehandler" || res.Note != "Vilkårene gjelder alle." {
			t.Fatalf("resolved: %+v", res)
		}
		if got, _ := db.Objection(ctx, o.ID); got.Status != governance.ObjectionRejected || got.Note != res.Note {
			t.Fatalf("stored: %+v", got)
		}
		in, err := db.AccessInputs(ctx, "310000001", "310000009")
		if err != nil {
			t.Fatal(err)
		}
		if in.Consumer == nil || in.Consumer.Status != access.Active || len(in.Grants) != 1 || in.Grants[0].Status != access.Ended ||
			in.Grants[0].StatusReason != ObjectionReason || len(in.Delegations) != 1 || in.Delegations[0].Status != access.Ended {
			t.Fatalf("access after the objection: %+v", in)
		}
		if st := events(t, db, "310000001", audit.KindGrantStatus); len(st) != 1 || st[0]["grant"] != g.ID || st[0]["status"] != "ended" {
			t.Fatalf("grant events: %v", st)
		}
		if ev := events(t, db, "310000001", audit.KindDelegationEnded); len(ev) != 1 || ev[0]["delegation"] != dID {
			t.Fatalf("delegation events: %v", ev)
		}
		if ev := events(t, db, "310000001", audit.KindConsumerEnded); len(ev) != 1 || ev[0]["reason"] != ObjectionReason {
			t.Fatalf("consumer events: %v", ev)
		}
		ms := outbox(t, db)
		if got := addresses(ms, "terms.objection"); len(ms)-before != 2 || !slices.Equal(got, []string{"stille@a.example", "varsler@a.example"}) {
			t.Fatalf("letters: %v", got)
		}
		if _, err := db.ResolveObjection(ctx, o.ID, true, "likevel", governance.Letter{Kind: "x"}, "user:saksbehandler"); !errors.Is(err, ErrConflict) {
			t.Fatalf("deciding twice: %v", err)
		}
		if _, err := db.ResolveObjection(ctx, "nope", true, "", governance.Letter{Kind: "x"}, "user:saksbehandler"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown objection: %v", err)
		}

		// Met: access stays. The consumer has no contacts, so its administrators get the letter.
		if _, err := db.CreateUser(ctx, governance.User{Email: "admin@b.example", Navn: "Admin"}, "x",
			[]governance.Membership{{Org: "310000002", Role: governance.Administrator}}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ResolveObjection(ctx, o2.ID, true, "Dere får til 1. juni.", governance.Letter{Kind: "terms.met", Subject: "Imøtekommet", Body: "."}, "user:saksbehandler"); err != nil {
			t.Fatal(err)
		}
		if g, _ := db.Grant(ctx, other.ID); g.Status != access.Active {
			t.Fatalf("met objection ended the grant: %+v", g)
		}
		if got := addresses(outbox(t, db), "terms.met"); !slices.Equal(got, []string{"admin@b.example"}) {
			t.Fatalf("letters when met: %v", got)
		}
	})
}

// Rule AA-04: a web user's acceptance of the terms is recorded each time.
func TestRecordUserAcceptance(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		v, err := publishTerms(t, db, governance.Bruksvilkar, time.Time{}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.LastUserAcceptance(ctx, "u1", "310000001", v.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("before: %v", err)
		}
		for range 2 {
			if err := db.RecordUserAcceptance(ctx, "u1", "310000001", v.ID); err != nil {
				t.Fatal(err)
			}
		}
		at, err := db.LastUserAcceptance(ctx, "u1", "310000001", v.ID)
		if err != nil || !at.Equal(fixedNow()) {
			t.Fatalf("after: %v %s", err, at)
		}
		// Another organisation, another user: not accepted.
		if _, err := db.LastUserAcceptance(ctx, "u1", "310000002", v.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other org: %v", err)
		}
		if _, err := db.LastUserAcceptance(ctx, "u2", "310000001", v.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other user: %v", err)
		}
		if err := db.RecordUserAcceptance(ctx, "u1", "310000001", "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		if ev := events(t, db, "310000001", audit.KindTerms); len(ev) != 2 || ev[0]["change"] != "user_accepted" || ev[0]["user"] != "u1" {
			t.Fatalf("events: %v", ev)
		}
	})
}
