package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/post"
)

// seedBulk stores n published correspondences of sender straight into the
// tables (as InitializeCorrespondences and PublishDue leave them), each with
// its own reference ref-<i>, for the bulk status test and benchmark.
func seedBulk(tb testing.TB, db *DB, sender ident.Orgnr, n int) []string {
	tb.Helper()
	ctx := context.Background()
	now := db.now().UTC()
	ids, refs := make([]string, n), make([]string, n)
	for i := range n {
		ids[i], refs[i] = newID(), fmt.Sprintf("ref-%d", i)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.execBatch(ctx, tx, `INSERT INTO post_correspondences (id, sender, technical, recipient, senders_reference, resource_id,
			message_sender, created_at, publish_at, confirmation, confidential, current, body) VALUES `, "", 13, n,
			func(i int, dst []any) []any {
				return append(dst, ids[i], string(sender), string(sender), string(ident.SyntheticOrgnr(100_000+i%500)), refs[i],
					post.CatAdministration.ResourceID(), "", micros(now), micros(now), 0, 0, int64(post.StatusPublished), `{}`)
			}); err != nil {
			return err
		}
		steps := []post.Status{post.StatusInitialized, post.StatusReadyForPublish, post.StatusPublished}
		_, err := db.execBatch(ctx, tx, `INSERT INTO post_status (correspondence, seq, status, at, actor) VALUES `, "", 5, n*len(steps),
			func(i int, dst []any) []any {
				return append(dst, ids[i/len(steps)], i%len(steps), int64(steps[i%len(steps)]), micros(now), string(post.BySystem))
			})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return refs
}

// Rule DPV-05: at most 10,000 correspondences in one answer, and
// LimitReached when more matched.
func TestPostBulkStatusLimit_DPV05(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		refs := seedBulk(t, db, postSenderOrg, post.BulkLimit+1)
		resp, err := db.BulkStatus(context.Background(), postSenderOrg, refs[:post.BulkLimit])
		if err != nil || len(resp.Correspondences) != post.BulkLimit || resp.LimitReached {
			t.Fatalf("10,000 references: %d, limit %v, %v", len(resp.Correspondences), resp.LimitReached, err)
		}
		if c := resp.Correspondences[17]; len(c.StatusChanges) != 3 || c.Status != post.StatusPublished {
			t.Fatalf("entry %+v", c)
		}
		// One reference names many correspondences (one request, many
		// recipients): 10,000 references may match more than an answer holds.
		if _, err := db.write.ExecContext(context.Background(), `UPDATE post_correspondences SET senders_reference = 'ref-0' WHERE senders_reference = $1`,
			refs[post.BulkLimit]); err != nil {
			t.Fatal(err)
		}
		resp, err = db.BulkStatus(context.Background(), postSenderOrg, refs[:post.BulkLimit])
		if err != nil || len(resp.Correspondences) != post.BulkLimit || !resp.LimitReached {
			t.Fatalf("10,001 matching: %d, limit %v, %v", len(resp.Correspondences), resp.LimitReached, err)
		}
	})
}

// benchEngines runs f on SQLite and, when installed, PostgreSQL.
func benchEngines(b *testing.B, f func(b *testing.B, db *DB)) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := Open(context.Background(), Config{DataDir: b.TempDir(), Now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		f(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		if pg == nil {
			b.Skip("PostgreSQL is not installed")
		}
		dsn, err := pg.NewDatabase(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		db, err := Open(context.Background(), Config{URL: dsn, Now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		f(b, db)
	})
}

// BenchmarkPostBulkStatus10000 answers bulk status for 10,000 references,
// each one correspondence with its history (Rule DPV-05).
func BenchmarkPostBulkStatus10000(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		refs := seedBulk(b, db, postSenderOrg, post.BulkLimit)
		analyze(b, db)
		for b.Loop() {
			resp, err := db.BulkStatus(context.Background(), postSenderOrg, refs)
			if err != nil || len(resp.Correspondences) != post.BulkLimit {
				b.Fatalf("%d, %v", len(resp.Correspondences), err)
			}
		}
	})
}

// BenchmarkPostInitialize500 initializes one request to 500 recipients.
func BenchmarkPostInitialize500(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		s := postSenderFor(postSenderOrg)
		s.Agreement = &post.Agreement{Reference: "avtale", From: time.Now().Add(-time.Hour)}
		if err := db.RegisterPostSender(context.Background(), s, "bench"); err != nil {
			b.Fatal(err)
		}
		recips := make([]ident.Orgnr, 500)
		for i := range recips {
			recips[i] = ident.SyntheticOrgnr(200_000 + i)
		}
		loc := oslo(b)
		n := 0
		for b.Loop() {
			n++
			req := postRequest(fmt.Sprintf("bench-%d", n), recips...)
			got, err := db.InitializeCorrespondences(context.Background(), PostInit{Origin: self(postSenderOrg), Request: req,
				Quota: post.DefaultQuota(), Loc: loc}, "bench")
			if err != nil || len(got.Correspondences) != 500 {
				b.Fatal(err)
			}
		}
	})
}

// seedOtherSenders stores n published correspondences of other senders, in
// twenty senders of n/20 each, with the same references ref-<i> as
// seedBulk's: what bulk status and the sender's listing must not read (Rule
// DPV-05).
func seedOtherSenders(tb testing.TB, db *DB, n int) {
	tb.Helper()
	for s := range 20 {
		seedBulk(tb, db, ident.SyntheticOrgnr(300_000+s), n/20)
	}
}

// analyze gathers PostgreSQL's statistics after a bulk load, as its
// autovacuum does in production: without them the planner takes a table
// just loaded for empty-ish and may scan it.
func analyze(tb testing.TB, db *DB) {
	tb.Helper()
	if db.engine != Postgres {
		return
	}
	if _, err := db.write.ExecContext(context.Background(), `ANALYZE post_correspondences, post_status, post_notifications`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPostBulkStatus10000Among200k is BenchmarkPostBulkStatus10000
// with 200,000 other senders' correspondences (and 600,000 status rows) in
// the tables, under the same references.
func BenchmarkPostBulkStatus10000Among200k(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		seedOtherSenders(b, db, 200_000)
		refs := seedBulk(b, db, postSenderOrg, post.BulkLimit)
		analyze(b, db)
		for b.Loop() {
			resp, err := db.BulkStatus(context.Background(), postSenderOrg, refs)
			if err != nil || len(resp.Correspondences) != post.BulkLimit {
				b.Fatalf("%d, %v", len(resp.Correspondences), err)
			}
		}
	})
}

// BenchmarkPostListSenderAmong200k lists a sender's newest 1,000 among
// 200,000 other senders' correspondences (research §1.8).
func BenchmarkPostListSenderAmong200k(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		seedOtherSenders(b, db, 200_000)
		seedBulk(b, db, postSenderOrg, post.BulkLimit)
		analyze(b, db)
		for b.Loop() {
			ids, err := db.ListCorrespondences(context.Background(), postSenderOrg, post.ListQuery{Role: post.RoleSender})
			if err != nil || len(ids) != post.ListLimit {
				b.Fatalf("%d, %v", len(ids), err)
			}
		}
	})
}
