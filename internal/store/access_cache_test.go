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

// addAccess makes a consumer with one active API grant and a delegation to processor.
func addAccess(t testing.TB, db *DB, consumer, processor string) access.Grant {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: consumer, Navn: "Node kommune", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	g, err := db.AddGrant(ctx, access.Grant{Consumer: consumer, Packages: []string{"grunnopplysninger@1"},
		Channel: access.ChannelAPI, Env: register.EnvTest, LegalBasis: "aa-registerforskriften § 10", ProcessingBasis: "art. 6(1)(e)",
		Purpose: "saksbehandling", QueryKinds: []access.QueryKind{access.ByArbeidstaker}, ValidFrom: fixedNow(), RateLimit: 50}, "test")
	if err != nil {
		t.Fatal(err)
	}
	legacyDelegation(t, db, consumer, processor) // the orgnrs are not valid for an agreement's parties
	return g
}

// BenchmarkAccessInputsWhileLogging is the per-request access check on
// SQLite with the lookup log committing beside it, as under load: every log
// commit changes deling.db, which costs readers of that file their page cache.
func BenchmarkAccessInputsWhileLogging(b *testing.B) {
	db, err := Open(context.Background(), Config{DataDir: b.TempDir(), Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	addAccess(b, db, "310000001", "310000003")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a steady trickle of log commits
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Consumer: "310000001",
				Decision: audit.Permit, Returned: []string{"08858096031"}}); err != nil {
				b.Error(err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for _, bench := range []struct {
		name string
		load func(ctx context.Context, consumer, processor string) (access.Inputs, error)
	}{{"cached", db.AccessInputs}, {"uncached", db.loadAccessInputs}} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if in, err := bench.load(context.Background(), "310000001", "310000003"); err != nil || len(in.Grants) != 1 {
						b.Fatalf("inputs %+v: %v", in, err)
					}
				}
			})
		})
	}
	close(stop)
	wg.Wait()
}

// twoNodes runs f with two handles on one database: two API nodes on one
// PostgreSQL, or on SQLite `deling serve` and a `deling` command beside it.
func twoNodes(t *testing.T, f func(t *testing.T, one, two *DB)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		var nodes []*DB
		for range 2 {
			db, err := Open(context.Background(), Config{DataDir: dir, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			nodes = append(nodes, db)
		}
		f(t, nodes[0], nodes[1])
	})
	t.Run("postgres", func(t *testing.T) {
		nodes := openNodes(t, 2)
		f(t, nodes[0], nodes[1])
	})
}

// Rule AA-25, AA-13: the access inputs are cached, yet a suspension, a
// resumption, an ended delegation or an ended grant made on one node is seen
// by the other node's very next request, with its cache warm.
func TestAccessInputsCacheSeesOtherNodes(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		g := addAccess(t, one, "310000001", "310000003")
		warm := func(want bool) {
			t.Helper()
			for range 2 { // the second is answered from the cache
				if d := lifeDecide(t, two, "310000001", "310000003"); d.Permit != want {
					t.Fatalf("node two: permit %v (%s), want %v", d.Permit, d.Reason, want)
				}
			}
			c, ok := two.inputs.Load("310000001|310000003")
			if v, err := two.accessVersion(ctx); err != nil || !ok || c.(cachedInputs).version != v {
				t.Fatalf("node two's cache is not warm at version %d: %v %v", v, ok, err)
			}
		}
		warm(true)
		if _, err := one.SuspendConsumer(ctx, "310000001", "brudd på vilkårene", governance.Letter{Subject: "Suspendert", Body: "…"}, "test"); err != nil {
			t.Fatal(err)
		}
		warm(false)
		if _, err := one.ResumeConsumer(ctx, "310000001", governance.Letter{Subject: "Gjenopptatt", Body: "…"}, "test"); err != nil {
			t.Fatal(err)
		}
		warm(true)
		ds, err := one.Delegations(ctx, "310000001")
		if err != nil || len(ds) != 1 {
			t.Fatalf("delegations %v: %v", ds, err)
		}
		if err := one.EndDelegation(ctx, ds[0].ID, "test"); err != nil {
			t.Fatal(err)
		}
		warm(false)
		if d := lifeDecide(t, two, "310000001", ""); !d.Permit {
			t.Fatalf("own access without the ended delegation refused: %s", d.Reason)
		}
		if _, err := one.SetGrantStatus(ctx, g.ID, access.Ended, "avsluttet", "test"); err != nil {
			t.Fatal(err)
		}
		if d := lifeDecide(t, two, "310000001", ""); d.Permit {
			t.Fatal("ended grant still permits on node two")
		}
	})
}

// BenchmarkAccessInputsPostgres compares, on PostgreSQL, what a request pays
// with the cache warm (the version row) with what it paid before (the whole
// inputs: consumer, grants, delegations).
func BenchmarkAccessInputsPostgres(b *testing.B) {
	if pg == nil {
		b.Skip("PostgreSQL is not installed")
	}
	dsn, err := pg.NewDatabase(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	db, err := Open(context.Background(), Config{URL: dsn, Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	addAccess(b, db, "310000001", "310000003")
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.AccessInputs(ctx, "310000001", "310000003"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.loadAccessInputs(ctx, "310000001", "310000003"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
