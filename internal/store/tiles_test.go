package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/transparency-dev/merkle/compact"

	"deling/internal/audit"
)

// oldAppend is the lookup log's append before migration 00020, as it was:
// records, their subjects, a row per new tree node, and the tree state, in
// one transaction. It makes the log that the migration converts.
func oldAppend(t *testing.T, db *DB, entries []audit.Entry) {
	t.Helper()
	ctx := context.Background()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			size uint64
			rh   []byte
		)
		if err := tx.QueryRowContext(ctx, `SELECT size, range_hashes FROM log_state WHERE id = 1`).Scan(&size, &rh); err != nil {
			return err
		}
		rng, err := rangeFactory.NewRange(0, size, splitHashes(rh))
		if err != nil {
			return err
		}
		var visitErr error
		for i, e := range entries {
			seq := int64(size) + int64(i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, id, time, kind, consumer, salt, record, subjects, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				seq, e.Record.ID, micros(e.Record.Time), e.Record.Kind, e.Record.Consumer, e.Salt, e.Canonical, audit.EncodeSubjects(e.Subjects), e.Response); err != nil {
				return err
			}
			for _, s := range e.Subjects {
				if s.Returned {
					if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subjects (ident, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING`, s.Ident, seq); err != nil {
						return err
					}
				}
			}
			err := rng.Append(e.LeafHash, func(id compact.NodeID, hash []byte) {
				if visitErr == nil {
					_, visitErr = tx.ExecContext(ctx, `INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)`, int(id.Level), int64(id.Index), hash)
				}
			})
			if err != nil {
				return err
			}
			if visitErr != nil {
				return visitErr
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE log_state SET size = $1, range_hashes = $2 WHERE id = 1`, int64(rng.End()), joinHashes(rng.Hashes()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lookupEntries(t *testing.T, db *DB, prefix string, n int) []audit.Entry {
	t.Helper()
	out := make([]audit.Entry, n)
	for i := range out {
		e, err := audit.NewEntry(&audit.Record{ID: newID(), Time: db.now().UTC(), Kind: audit.KindLookup, Consumer: "310000001",
			CorrelationID: fmt.Sprintf("%s-%d", prefix, i), Decision: audit.Permit, Returned: []string{fmt.Sprintf("0101010%04d", i%7)}})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// Rule AA-16. Migration 00020 turns a log made by the old code (a row per tree node)
// into tiles, on both engines, and the log stays verifiable: every record
// against its leaf, the tree against the checkpoint signed before the
// migration, proofs from the tiles, and appends after it extend the same tree.
func TestMigrateNodesToTiles(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		p, err := db.migrations("migrations/main", "goose_db_version", db.write)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 18); err != nil {
			t.Fatal(err)
		}
		// 600 records in three batches: two full leaf tiles, a partial one,
		// and two nodes at level 8.
		for i := range 3 {
			oldAppend(t, db, lookupEntries(t, db, fmt.Sprintf("old%d", i), 200))
		}
		var old []struct {
			level int
			n     int
		}
		rows, err := db.write.QueryContext(ctx, `SELECT level, count(*) FROM merkle_nodes GROUP BY level ORDER BY level`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l, n int
			rows.Scan(&l, &n)
			old = append(old, struct{ level, n int }{l, n})
		}
		rows.Close()
		if len(old) != 10 || old[0].n != 600 || old[8].n != 2 {
			t.Fatalf("the old code's node rows: %v", old)
		}
		size, root, err := db.LogRoot(ctx)
		if err != nil || size != 600 {
			t.Fatalf("old log: %d, %v", size, err)
		}
		signed, _ := audit.Checkpoint{Origin: "test.deling/log", Size: size, Root: root}.Sign(s)
		if err := db.AddCheckpoint(ctx, size, root, signed); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		var tiles int
		db.write.QueryRowContext(ctx, `SELECT count(*) FROM log_tiles`).Scan(&tiles)
		if tiles != 4 { // level 0: 0, 1, 2 (88 wide); level 1: 0 (2 wide)
			t.Fatalf("%d tiles, want 4", tiles)
		}
		if w, err := db.Tile(ctx, 0, 2, 88); err != nil || len(w) != 88*32 {
			t.Fatalf("the partial leaf tile: %d bytes, %v", len(w), err)
		}
		rep, err := verifyLog(ctx, db, v)
		if err != nil || !rep.OK() || rep.Records != 600 || rep.Checkpoints != 1 {
			t.Fatalf("after the migration: %+v %v", rep, err)
		}
		recs, _ := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 1000})
		for _, i := range []int{0, 255, 256, 511, 599} {
			hashes, err := db.InclusionProof(ctx, uint64(i), size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyInclusion(uint64(i), size, audit.LeafHash(recs[i].Salt, recs[i].Canonical), hashes, root); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		// The new code continues the migrated tree.
		appendN(t, db, 300, 4)
		size2, root2 := checkpoint(t, db, s)
		if size2 != 900 {
			t.Fatalf("size %d, want 900", size2)
		}
		cons, err := db.ConsistencyProof(ctx, size, size2)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyConsistency(size, size2, cons, root, root2); err != nil {
			t.Fatal(err)
		}
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Records != 900 {
			t.Fatalf("after appends: %+v %v", rep, err)
		}
	})
}

// Rule AA-16. Sequencing apart from integration: an append writes its record and
// insight index and nothing of the tree; Integrate adds it. An integration
// that dies before its commit loses nothing: the next one does it all.
func TestIntegrateIsResumable(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 700, 8)
		if n, _ := db.LogSize(ctx); n != 700 {
			t.Fatalf("log size %d, want 700", n)
		}
		if n, _ := db.TreeSize(ctx); n != 0 {
			t.Fatalf("tree size %d before integration, want 0", n)
		}
		var tiles int
		db.write.QueryRowContext(ctx, `SELECT count(*) FROM log_tiles`).Scan(&tiles)
		if tiles != 0 {
			t.Fatalf("an append wrote %d tiles", tiles)
		}
		// A node dies mid-integration: its transaction never commits.
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if size, n, _, err := db.integrate(ctx, tx); err != nil || size != 700 || n != 700 {
			t.Fatalf("integrate: %d %d %v", size, n, err)
		}
		tx.Rollback()
		if n, _ := db.TreeSize(ctx); n != 0 {
			t.Fatalf("tree size %d after a rolled-back integration", n)
		}
		in, err := db.Integrate(ctx)
		if err != nil || in.Size != 700 || in.Records != 700 {
			t.Fatalf("integrate: %+v %v", in, err)
		}
		// Again: nothing to do, nothing changed.
		if in, err := db.Integrate(ctx); err != nil || in.Size != 700 || in.Records != 0 {
			t.Fatalf("integrate again: %+v %v", in, err)
		}
		checkpoint(t, db, s)
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Records != 700 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// Records appended while an integration runs wait for the next one;
// Verify leaves them out until then.
func TestVerifyLeavesOutWhatIsNotIntegrated(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 10, 1)
		checkpoint(t, db, s)
		appendN(t, db, 5, 1)
		rep, err := verifyLog(ctx, db, v)
		if err != nil || !rep.OK() || rep.Size != 10 || rep.Records != 10 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		// A gap in the records stops integration: it never builds a tree over a missing record.
		if _, err := db.write.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 12`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Integrate(ctx); err == nil {
			t.Fatal("integrated over a missing record")
		}
		if n, _ := db.TreeSize(ctx); n != 10 {
			t.Fatalf("tree size %d after a failed integration, want 10", n)
		}
	})
}

// Issue 15: two nodes appending and integrating at once on one PostgreSQL
// make one log without gaps or duplicates that verifies; on SQLite the same
// with appends and integrations racing in one process.
func TestTwoNodesOneLog(t *testing.T) {
	run := func(t *testing.T, nodes []*DB) {
		ctx := context.Background()
		s, v := logKey(t)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 64)
		for _, db := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := db.Integrate(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		var aw sync.WaitGroup
		for k, db := range nodes {
			for w := range 8 {
				aw.Add(1)
				go func() {
					defer aw.Done()
					for i := range 50 {
						if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001",
							CorrelationID: fmt.Sprintf("n%d-%d-%d", k, w, i), Decision: audit.Permit, Returned: []string{"01010100001"}}); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		aw.Wait()
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		size, _ := checkpoint(t, nodes[0], s)
		if want := uint64(400 * len(nodes)); size != want {
			t.Fatalf("tree size %d, want %d", size, want)
		}
		rep, err := verifyLog(ctx, nodes[len(nodes)-1], v)
		if err != nil || !rep.OK() || rep.Records != size {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		db, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		run(t, []*DB{db, db})
	})
	t.Run("postgres", func(t *testing.T) { run(t, openNodes(t, 2)) })
}

// An integration of more records than one transaction takes goes on until
// it has them all, and the tiles it leaves prove each of them.
func TestIntegrateManyBatches(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		const n = integrateBatch + 1000
		entries := lookupEntries(t, db, "many", n)
		if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.appendEntries(ctx, tx, entries) }); err != nil {
			t.Fatal(err)
		}
		in, err := db.Integrate(ctx)
		if err != nil || in.Records != n || in.Size != n {
			t.Fatalf("integrate: %+v %v", in, err)
		}
		size, root := checkpoint(t, db, s)
		for _, i := range []uint64{0, integrateBatch - 1, integrateBatch, n - 1} {
			hashes, err := db.InclusionProof(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyInclusion(i, size, entries[i].LeafHash, hashes, root); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Records != n {
			t.Fatalf("verify: %+v %v", rep.Counts, err)
		}
	})
}
