package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

// Rule SK-08: a person gives consent only where a consent-based grant asks for it; withdrawal and expiry end it; the log never names the person.
func TestConsents(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		const org, pid, other = "310000061", "41111111111", "41111111112"
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: org, Navn: "Banken", Status: access.Active}, "test"); err != nil {
			t.Fatal(err)
		}
		statute := access.Grant{Consumer: org, Packages: []string{"grunndata@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
			LegalBasis: "lov", ProcessingBasis: "art. 6", Purpose: "kontroll", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
			ValidFrom: clock.now().Add(-time.Hour)}
		if _, err := db.AddGrant(ctx, statute, "test"); err != nil {
			t.Fatal(err)
		}
		c := governance.Consent{PersonPID: pid, Consumer: org, Purpose: "lån", ExpiresAt: clock.now().Add(30 * 24 * time.Hour)}
		if _, err := db.GiveConsent(ctx, c, "user:p"); !errors.Is(err, ErrConflict) {
			t.Fatalf("consent without a consent-based grant: %v", err)
		}
		asks := statute
		asks.Purpose, asks.Consent = "lån", true
		if _, err := db.AddGrant(ctx, asks, "test"); err != nil {
			t.Fatal(err)
		}
		reqs, err := db.ConsentRequests(ctx, clock.now())
		if err != nil || len(reqs) != 1 || reqs[0].Purpose != "lån" || reqs[0].ConsumerName != "Banken" {
			t.Fatalf("requests %+v %v", reqs, err)
		}
		given, err := db.GiveConsent(ctx, c, "user:p")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.GiveConsent(ctx, c, "user:p"); !errors.Is(err, ErrExists) {
			t.Fatalf("a second valid consent: %v", err)
		}
		valid := func(p string, purposes ...string) bool {
			ok, err := db.HasValidConsent(ctx, p, org, purposes, clock.now())
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !valid(pid, "lån") || valid(pid, "kontroll") || valid(other, "lån") || valid(pid) {
			t.Fatal("HasValidConsent: only the person, consumer and purpose consented")
		}
		list, _ := db.Consents(ctx, pid)
		if len(list) != 1 || list[0].ID != given.ID || !list[0].Valid(clock.now()) {
			t.Fatalf("consents %+v", list)
		}
		// Another person cannot withdraw it.
		if err := db.WithdrawConsent(ctx, other, given.ID, "user:o"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("withdrawn by another: %v", err)
		}
		clock.advance(time.Minute)
		if err := db.WithdrawConsent(ctx, pid, given.ID, "user:p"); err != nil {
			t.Fatal(err)
		}
		if valid(pid, "lån") {
			t.Fatal("valid after withdrawal")
		}
		if err := db.WithdrawConsent(ctx, pid, given.ID, "user:p"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("withdrawn twice: %v", err)
		}
		// A new consent, then expiry.
		c.ExpiresAt = clock.now().Add(24 * time.Hour)
		if _, err := db.GiveConsent(ctx, c, "user:p"); err != nil {
			t.Fatal(err)
		}
		if !valid(pid, "lån") {
			t.Fatal("new consent not valid")
		}
		clock.advance(24 * time.Hour)
		if valid(pid, "lån") {
			t.Fatal("valid at expiry")
		}
		evs := lifeEvents(t, db, org, audit.KindConsent)
		if len(evs) != 3 {
			t.Fatalf("%d consent events, want 3", len(evs))
		}
		for _, e := range evs {
			if strings.Contains(string(e.Event), pid) || !strings.Contains(string(e.Event), `"consent":"`) {
				t.Fatalf("event %s", e.Event)
			}
		}
	})
}
