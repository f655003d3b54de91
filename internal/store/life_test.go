package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/register"
)

// lifeClock is a clock a test moves.
type lifeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lifeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lifeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// movableClock gives db a clock the test moves, starting at fixedNow.
func lifeMovableClock(db *DB) *lifeClock {
	c := &lifeClock{t: fixedNow()}
	db.now = c.now
	return c
}

// lifeConsumer makes a consumer with an active and a suspended API grant,
// a delegation to processor, and contacts.
func lifeConsumer(t *testing.T, db *DB, orgnr, processor string, contacts ...string) []access.Grant {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: "Kommune " + orgnr, Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	var out []access.Grant
	for _, st := range []access.Status{access.Active, access.Active, access.Suspended} {
		g, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: []string{"grunndata@1"}, Channel: access.ChannelAPI, Env: register.EnvTest,
			LegalBasis: "lov", ProcessingBasis: "art. 6", Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
			ValidFrom: fixedNow().Add(-time.Hour), Status: st}, "test")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if processor != "" {
		legacyDelegation(t, db, orgnr, processor) // in force without an agreement record, as before migration 00016
	}
	for i, e := range contacts {
		role := governance.ContactTechnical
		if i == 0 {
			role = governance.ContactAdministrative
		}
		if _, err := db.SaveContact(ctx, governance.Contact{Consumer: orgnr, Navn: "Kontakt " + e, Epost: e, Rolle: role}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func lifeEvents(t *testing.T, db *DB, consumer, kind string) []audit.Record {
	t.Helper()
	recs, err := db.AuditRecords(context.Background(), consumer, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func lifeDecide(t *testing.T, db *DB, consumer, processor string) access.Decision {
	t.Helper()
	in, err := db.AccessInputs(context.Background(), consumer, processor)
	if err != nil {
		t.Fatal(err)
	}
	return access.Decide(access.Request{Consumer: consumer, Processor: processor, Channel: access.ChannelAPI, Env: register.EnvTest,
		Kind: access.ByArbeidstaker}, in, fixedNow())
}
