package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
)

func logKey(t *testing.T) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := audit.NewKey("test.deling/log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

var appendSeq atomic.Int64

// appendN appends n lookup records from several goroutines at once.
func appendN(t *testing.T, db *DB, n, workers int) {
	prefix := fmt.Sprintf("b%d", appendSeq.Add(1))
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				errs <- db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Consumer: "310000001",
					CorrelationID: fmt.Sprintf("%s-%d", prefix, i), Decision: audit.Permit, Returned: []string{fmt.Sprintf("0101010%04d", i%7)}})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkpoint integrates what was appended and signs a checkpoint of the tree.
func checkpoint(t *testing.T, db *DB, s note.Signer) (uint64, []byte) {
	t.Helper()
	if _, err := db.Integrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	size, root, err := db.LogRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := audit.Checkpoint{Origin: "test.deling/log", Size: size, Root: root}.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddCheckpoint(context.Background(), size, root, signed); err != nil {
		t.Fatal(err)
	}
	return size, root
}

// Rule AA-16: concurrent appends are all kept, each with its own index, and
// group commit shares commits among them.
func TestLogAppendsProofsAndVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		before := db.log.batches.Load()
		appendN(t, db, 300, 16)
		if got := db.log.batches.Load() - before; got >= 300 {
			t.Errorf("300 concurrent appends took %d commits: no group commit", got)
		}
		size1, root1 := checkpoint(t, db, s)
		if size1 != 300 {
			t.Fatalf("size: got %d, want 300", size1)
		}
		appendN(t, db, 77, 4)
		size2, root2 := checkpoint(t, db, s)

		// Every record's inclusion proof verifies against both checkpoints that cover it.
		recs, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != int(size2) {
			t.Fatalf("records: got %d, want %d", len(recs), size2)
		}
		seen := map[string]bool{}
		for _, r := range recs {
			if seen[r.Record.CorrelationID] {
				t.Fatalf("record %s twice", r.Record.CorrelationID)
			}
			seen[r.Record.CorrelationID] = true
			leaf := audit.LeafHash(r.Salt, r.Canonical)
			for _, cp := range []struct {
				size uint64
				root []byte
			}{{size1, root1}, {size2, root2}} {
				if r.Seq >= cp.size {
					continue
				}
				hashes, err := db.InclusionProof(ctx, r.Seq, cp.size)
				if err != nil {
					t.Fatal(err)
				}
				if err := audit.VerifyInclusion(r.Seq, cp.size, leaf, hashes, cp.root); err != nil {
					t.Fatalf("record %d in %d: %v", r.Seq, cp.size, err)
				}
			}
		}
		cons, err := db.ConsistencyProof(ctx, size1, size2)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyConsistency(size1, size2, cons, root1, root2); err != nil {
			t.Fatal(err)
		}
		// By subject: the person's records only.
		mine, err := db.StoredRecords(ctx, RecordQuery{Subject: "01010100003", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range mine {
			if r.Record.Returned[0] != "01010100003" {
				t.Fatalf("subject query returned another person's record")
			}
		}
		if len(mine) < 40 {
			t.Fatalf("subject query: %d records", len(mine))
		}
		rep, err := verifyLog(ctx, db, v)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Records != size2 || rep.Checkpoints != 2 {
			t.Fatalf("untouched log: %+v", rep)
		}
	})
}

// Verify names every kind of tampering.
func TestVerifyFindsTampering(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 64, 1)
		checkpoint(t, db, s)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		var rec5, rec9 []byte
		db.write.QueryRowContext(ctx, `SELECT stored FROM audit_log WHERE seq = 5`).Scan(&rec5)
		db.write.QueryRowContext(ctx, `SELECT stored FROM audit_log WHERE seq = 9`).Scan(&rec9)
		var salt5, salt9 []byte
		db.write.QueryRowContext(ctx, `SELECT salt FROM audit_log WHERE seq = 5`).Scan(&salt5)
		db.write.QueryRowContext(ctx, `SELECT salt FROM audit_log WHERE seq = 9`).Scan(&salt9)
		// changed: record 3's decision rewritten
		exec(`UPDATE audit_log SET stored = $1 WHERE seq = 3`, []byte(`{"v":1,"kind":"lookup","decision":"deny"}`))
		// deleted: record 7 removed
		exec(`DELETE FROM audit_log WHERE seq = 7`)
		// reordered: records 5 and 9 swapped
		exec(`UPDATE audit_log SET stored = $1, salt = $2 WHERE seq = 5`, rec9, salt9)
		exec(`UPDATE audit_log SET stored = $1, salt = $2 WHERE seq = 9`, rec5, salt5)
		// inserted: a record with no leaf (its leaf hash cut from the tile's end)
		tile, _ := db.Tile(ctx, 0, 0, 64)
		leaf63 := tile[63*32:]
		setLeafHash(t, db, 63, nil)
		rep, err := verifyLog(ctx, db, v)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]uint64{
			audit.ProblemChanged: {3}, audit.ProblemDeleted: {7}, audit.ProblemReordered: {5, 9}, audit.ProblemInserted: {63},
		}
		for kind, idxs := range want {
			for _, i := range idxs {
				found := false
				for _, p := range rep.Problems {
					found = found || (p.Kind == kind && p.Index == i)
				}
				if !found {
					t.Errorf("%s %d not reported; report %+v", kind, i, rep.Problems)
				}
			}
		}
		// The cut leaf hash is missing, and the root from the leaves left is not the signed one.
		if rep.Counts[audit.ProblemNode] != 1 || rep.Counts[audit.ProblemCheckpoint] != 1 {
			t.Errorf("one leaf hash cut: %+v", rep.Counts)
		}
		setLeafHash(t, db, 63, leaf63)
		if rep, _ = verifyLog(ctx, db, v); rep.Counts[audit.ProblemNode] != 0 || rep.Counts[audit.ProblemCheckpoint] != 0 || rep.Counts[audit.ProblemInserted] != 0 {
			t.Errorf("tree restored, yet: %+v", rep.Counts)
		}
		// A consistent rewrite of record and leaf is caught by the tree and the signed checkpoint.
		setLeafHash(t, db, 3, audit.LeafHash(salt5, []byte(`{"v":1,"kind":"lookup","decision":"deny"}`)))
		exec(`UPDATE audit_log SET salt = $1 WHERE seq = 3`, salt5)
		rep, err = verifyLog(ctx, db, v)
		if err != nil {
			t.Fatal(err)
		}
		// The tiles hold no node between the leaves and level 8: in a tree of
		// 64 the signed checkpoint is what catches it.
		if rep.Counts[audit.ProblemCheckpoint] == 0 {
			t.Errorf("a rewritten leaf was not caught: %+v", rep.Counts)
		}
		// A checkpoint signed by another key is not the log's.
		other, _ := logKey(t)
		signed, _ := audit.Checkpoint{Origin: "test.deling/log", Size: 10, Root: make([]byte, 32)}.Sign(other)
		db.AddCheckpoint(ctx, 10, make([]byte, 32), signed)
		rep, _ = verifyLog(ctx, db, v)
		if rep.Counts[audit.ProblemCheckpoint] < 2 {
			t.Errorf("a foreign checkpoint was accepted: %+v", rep.Counts)
		}
	})
}

// Retention erases content and salt; proofs stay valid and verify still passes.
func TestRetentionKeepsProofs(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 20, 2)
		size, root := checkpoint(t, db, s)
		n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(time.Hour), "test")
		if err != nil || n != 20 {
			t.Fatalf("erase: %d, %v", n, err)
		}
		recs, _ := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 100})
		for _, r := range recs[:20] {
			if r.Canonical != nil || r.Salt != nil || r.Record.Returned != nil || r.Subjects != nil {
				t.Fatal("content survived retention")
			}
		}
		// Issue 11, item 6: the erasure is itself a record: who, before what, how many.
		var ev audit.Erasure
		if len(recs) != 21 || recs[20].Record.Kind != audit.KindLogErased || recs[20].Record.Actor != "test" ||
			json.Unmarshal(recs[20].Record.Event, &ev) != nil || ev.Records != 20 || !ev.Before.Equal(fixedNow().Add(time.Hour)) {
			t.Fatalf("the erasure was not recorded: %d records, last %+v", len(recs), recs[len(recs)-1].Record)
		}
		if mine, _ := db.StoredRecords(ctx, RecordQuery{Subject: "01010100003", Limit: 100}); len(mine) != 0 {
			t.Fatal("the subject index survived retention")
		}
		tile, _ := db.Tile(ctx, 0, 0, int(size))
		leaf := tile[4*32 : 5*32]
		hashes, err := db.InclusionProof(ctx, 4, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyInclusion(4, size, leaf, hashes, root); err != nil {
			t.Fatal(err)
		}
		rep, _ := verifyLog(ctx, db, v)
		if !rep.OK() || rep.Erased != 20 {
			t.Fatalf("after retention: %+v", rep)
		}
	})
}

// Retention erases in transactions of eraseRows records, each with its own
// erasure event (a large erasure never holds the log's writer for long),
// removes each erased record's insight entries by person, keeps its id, and
// counts in its event a record it could not read (Rule AA-16: an erased
// record that audit verify reported unreadable is not erased silently).
func TestRetentionInBatches(t *testing.T) {
	old := eraseRows
	eraseRows = 7
	t.Cleanup(func() { eraseRows = old })
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		_, v := logKey(t)
		appendN(t, db, 20, 2)
		if _, err := db.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE audit_log SET stored = $1 WHERE seq = 3`, []byte{0x01, 0x28, 0xb5}); err != nil {
			t.Fatal(err)
		}
		// Damaged subjects: the record reads (its id is kept), but which
		// persons it returned does not, so its insight entries go by seq.
		var blob []byte
		if err := db.read.QueryRowContext(ctx, `SELECT subjects FROM audit_log WHERE seq = 6`).Scan(&blob); err != nil || len(blob) < 2 {
			t.Fatalf("subjects of record 6: %v", err)
		}
		for q, args := range map[string][]any{
			`UPDATE audit_log SET subjects = NULL WHERE seq = 5`: nil,
			`UPDATE audit_log SET subjects = $1 WHERE seq = 6`:   {blob[:len(blob)-1]},
		} {
			if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(time.Hour), "test")
		if err != nil || n != 20 {
			t.Fatalf("erase: %d, %v", n, err)
		}
		recs, _ := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 100})
		var events []audit.Erasure
		for _, r := range recs {
			if r.Record.Kind == audit.KindLogErased {
				var ev audit.Erasure
				json.Unmarshal(r.Record.Event, &ev)
				events = append(events, ev)
			}
		}
		if len(events) != 3 || events[0].Records != 7 || events[1].Records != 7 || events[2].Records != 6 ||
			events[0].Unreadable+events[1].Unreadable+events[2].Unreadable != 1 {
			t.Fatalf("erasure events: %+v", events)
		}
		for _, r := range recs[:20] {
			if r.Canonical != nil || (r.Seq == 3) != (r.Record.ID == "") {
				t.Fatalf("record %d after retention: id %q, content %v", r.Seq, r.Record.ID, r.Canonical != nil)
			}
		}
		var left int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM audit_subjects`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("insight entries left after retention: %d, %v", left, err)
		}
		if rep, _ := verifyLog(ctx, db, v); !rep.OK() || rep.Erased != 20 {
			t.Fatalf("after retention: %+v", rep)
		}
		// An insight entry left for an erased record is a problem verify names.
		if _, err := db.write.ExecContext(ctx, `INSERT INTO audit_subjects (ident, seq) VALUES ('01010100001', 4)`); err != nil {
			t.Fatal(err)
		}
		if rep, _ := verifyLog(ctx, db, v); rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Kind != audit.ProblemSubjects || rep.Problems[0].Index != 4 {
			t.Fatalf("an insight entry of an erased record: %+v", rep)
		}
	})
}

// Close commits what was queued: nothing appended before Close is lost.
func TestCloseDrainsTheLog(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok sync.Map
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("r-%d", i)
			if db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, CorrelationID: id}) == nil {
				ok.Store(id, true)
			}
		}()
	}
	wg.Wait()
	db.Close()
	if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup}); err == nil {
		t.Fatal("append after close succeeded")
	}
	db, err = Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, _ := db.AuditRecords(context.Background(), "", 1000)
	got := map[string]bool{}
	for _, r := range recs {
		got[r.CorrelationID] = true
	}
	ok.Range(func(k, _ any) bool {
		if !got[k.(string)] {
			t.Errorf("acknowledged record %s lost", k)
		}
		return true
	})
}

// verifyLog verifies one snapshot of db's log.
// setLeafHash rewrites the leaf hash at idx in its tile, as someone with
// write access to the database might; nil cuts the tile there.
func setLeafHash(t *testing.T, db *DB, idx uint64, hash []byte) {
	t.Helper()
	ctx := context.Background()
	var tile []byte
	if err := db.write.QueryRowContext(ctx, `SELECT hashes FROM log_tiles WHERE level = 0 AND idx = $1`, int64(idx/audit.TileWidth)).Scan(&tile); err != nil {
		t.Fatal(err)
	}
	off := idx % audit.TileWidth * 32
	switch {
	case hash == nil:
		tile = tile[:off]
	case off == uint64(len(tile)):
		tile = append(tile, hash...)
	default:
		copy(tile[off:], hash)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE log_tiles SET hashes = $1 WHERE level = 0 AND idx = $2`, tile, int64(idx/audit.TileWidth)); err != nil {
		t.Fatal(err)
	}
}

func verifyLog(ctx context.Context, db *DB, v note.Verifier) (audit.Report, error) {
	snap, err := db.LogSnapshot(ctx)
	if err != nil {
		return audit.Report{}, err
	}
	defer snap.Close()
	return audit.Verify(ctx, snap, v, nil)
}

// The bench's record check reads the snapshot's records after a point only
// (RecordsFrom), not the whole log: the same records as Records from there.
func TestLogSnapshotRecordsFrom(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		appendN(t, db, 6, 1)
		if _, err := db.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		snap, err := db.LogSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close()
		read := func(from uint64) (seqs []uint64) {
			t.Helper()
			err := snap.RecordsFrom(ctx, from, func(seq uint64, _, _, _ []byte) error {
				seqs = append(seqs, seq)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return seqs
		}
		var all []uint64
		if err := snap.Records(ctx, func(seq uint64, _, _, _ []byte) error { all = append(all, seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(all) < 6 {
			t.Fatalf("records %v, want at least 6", all)
		}
		from := all[len(all)-2]
		if got := read(from); !slices.Equal(got, all[len(all)-2:]) {
			t.Fatalf("from %d: %v, want %v", from, got, all[len(all)-2:])
		}
		if got := read(all[len(all)-1] + 1); len(got) != 0 {
			t.Fatalf("from beyond the tree: %v", got)
		}
	})
}

// Security review, item 3: an erasure's own record is never erased, by any
// later erasure: it is what tells that a gap in the log is retention.
func TestEraseKeepsErasureEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		appendN(t, db, 5, 1)
		if n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(time.Hour), "first"); err != nil || n != 5 {
			t.Fatalf("first erasure: %d %v", n, err)
		}
		appendN(t, db, 3, 1)
		if n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(2*time.Hour), "second"); err != nil || n != 3 {
			t.Fatalf("second erasure: %d %v, want the 3 lookups only", n, err)
		}
		if n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(3*time.Hour), "third"); err != nil || n != 0 {
			t.Fatalf("third erasure: %d %v, want nothing left to erase", n, err)
		}
		recs, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actors []string
		for _, r := range recs {
			if r.Canonical != nil {
				if r.Record.Kind != audit.KindLogErased {
					t.Errorf("record %d (%s) kept", r.Seq, r.Record.Kind)
				}
				actors = append(actors, r.Record.Actor)
			}
		}
		if fmt.Sprint(actors) != "[first second]" {
			t.Fatalf("erasure events kept: %v", actors)
		}
	})
}
