package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
)

// appendOld31 appends entries as the code before migration 00032 did: an id
// column, the record plain (canonical JSON) and a 32-byte salt.
func appendOld31(t *testing.T, db *DB, entries []audit.Entry) {
	t.Helper()
	ctx := context.Background()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var next int64
		if err := tx.QueryRowContext(ctx, `UPDATE log_sequence SET next = next + $1 WHERE id = 1 RETURNING next`, len(entries)).Scan(&next); err != nil {
			return err
		}
		for i, e := range entries {
			seq := next - int64(len(entries)) + int64(i)
			salt := make([]byte, 32)
			rand.Read(salt)
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, id, time, kind, consumer, salt, record, subjects, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				seq, e.Record.ID, micros(e.Record.Time), e.Record.Kind, e.Record.Consumer, salt, e.Canonical, audit.EncodeSubjects(e.Subjects), e.Response); err != nil {
				return err
			}
			for _, s := range e.Subjects {
				if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subjects (ident, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING`, s.Ident, seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkpointOld31 is checkpoint on the schema before migration 00032, as
// the code before integrated: its integration read the record column, and
// today's reads stored; the column is renamed for the while. On plain
// records both compute the same leaf hashes.
func checkpointOld31(t *testing.T, db *DB, s note.Signer) (uint64, []byte) {
	t.Helper()
	rename := func(from, to string) {
		if _, err := db.write.ExecContext(context.Background(), `ALTER TABLE audit_log RENAME COLUMN `+from+` TO `+to); err != nil {
			t.Fatal(err)
		}
	}
	rename("record", "stored")
	defer rename("stored", "record")
	return checkpoint(t, db, s)
}

// logRows is the log's stored rows as the migration must keep them: each
// record's seq, salt and canonical bytes, the insight index, the tiles.
// column is the record's: record before migration 00032, stored after.
func logRows(t *testing.T, db *DB, column string) (records, index, tiles []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.write.QueryContext(ctx, `SELECT seq, time, kind, consumer, salt, `+column+`, subjects FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			seq, tm                int64
			kind, cons             string
			salt, record, subjects []byte
		)
		if err := rows.Scan(&seq, &tm, &kind, &cons, &salt, &record, &subjects); err != nil {
			t.Fatal(err)
		}
		canonical, err := audit.UnpackRecord(record)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, fmt.Sprintf("%d %d %s %s %x %s %x", seq, tm, kind, cons, salt, canonical, subjects))
	}
	rows.Close()
	rows, err = db.write.QueryContext(ctx, `SELECT ident, seq FROM audit_subjects`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			ident string
			seq   int64
		)
		rows.Scan(&ident, &seq)
		index = append(index, fmt.Sprintf("%s %d", ident, seq))
	}
	rows.Close()
	rows, err = db.write.QueryContext(ctx, `SELECT level, idx, hashes FROM log_tiles ORDER BY level, idx`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			level, idx int64
			hashes     []byte
		)
		rows.Scan(&level, &idx, &hashes)
		tiles = append(tiles, fmt.Sprintf("%d %d %x", level, idx, hashes))
	}
	rows.Close()
	slices.Sort(index)
	return records, index, tiles
}

// Rules AA-16, AA-17. Migration 00032 on a log written by the code before
// it (plain records, 32-byte salts, an id column) keeps every record, seq,
// insight index entry and tile; the log then holds old plain records and new
// packed ones (16-byte salts), and it verifies, opens, and answers insight,
// Affected and retention as before.
func TestMigrateLogSize(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		p, err := db.migrations("migrations/main", "goose_db_version", db.write)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 31); err != nil {
			t.Fatal(err)
		}
		appendOld31(t, db, lookupEntries(t, db, "old", 300))
		oldSize, oldRoot := checkpointOld31(t, db, s)
		// Retention as the code before did it: records 0-9 erased, their ids kept.
		var erasedIDs []string
		if err := db.inTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id FROM audit_log WHERE seq < 10 ORDER BY seq`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				erasedIDs = append(erasedIDs, id)
			}
			rows.Close()
			return execAll(ctx, tx, `DELETE FROM audit_subjects WHERE seq < 10`,
				`UPDATE audit_log SET salt = NULL, record = NULL, subjects = NULL, response = NULL WHERE seq < 10`)
		}); err != nil || len(erasedIDs) != 10 || erasedIDs[0] == "" {
			t.Fatalf("erase as before: %v %v", erasedIDs, err)
		}
		records, index, tiles := logRows(t, db, "record")
		if len(records) != 300 || len(index) == 0 || len(tiles) == 0 {
			t.Fatalf("the old log: %d records, %d index entries, %d tiles", len(records), len(index), len(tiles))
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		r2, i2, t2 := logRows(t, db, "stored")
		if !slices.Equal(records, r2) || !slices.Equal(index, i2) || !slices.Equal(tiles, t2) {
			t.Fatal("the migration changed the log's records, insight index or tiles")
		}
		if size, root, err := db.LogRoot(ctx); err != nil || size != oldSize || !bytes.Equal(root, oldRoot) {
			t.Fatalf("tree after the migration: %d, %v", size, err)
		}
		if db.engine == SQLite {
			var schema string
			db.write.QueryRowContext(ctx, `SELECT group_concat(sql, ';') FROM sqlite_master WHERE tbl_name IN ('audit_log', 'audit_subjects')`).Scan(&schema)
			if !strings.Contains(schema, "seq       INTEGER PRIMARY KEY") || !strings.Contains(schema, "WITHOUT ROWID") || strings.Contains(schema, " id ") || strings.Contains(schema, "record ") || !strings.Contains(schema, "stored ") {
				t.Fatalf("schema after the migration: %s", schema)
			}
		}
		// The code before fails closed on the new schema: its integration,
		// append and reads name the column record, so they cannot hash the
		// packed bytes as records (and sign checkpoints of them) nor add
		// plain records to a log of packed ones.
		for _, q := range []string{
			`SELECT seq, time, salt, record FROM audit_log WHERE seq >= 0 ORDER BY seq LIMIT 10`,
			`SELECT seq, id, time, kind, consumer, salt, record, subjects, response FROM audit_log LIMIT 1`,
			`INSERT INTO audit_log (seq, id, time, kind, consumer, salt, record, subjects, response) VALUES (1000, 'x', 0, 'lookup', '', NULL, NULL, NULL, NULL)`,
		} {
			if _, err := db.write.ExecContext(ctx, q); err == nil {
				t.Fatalf("the code before ran on the new schema: %s", q)
			}
		}
		// Records erased before the migration keep their ids (erased_id).
		old, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 10})
		if err != nil || len(old) != 10 {
			t.Fatalf("erased records: %d, %v", len(old), err)
		}
		for i, r := range old {
			if r.Canonical != nil || r.Record.ID != erasedIDs[i] {
				t.Fatalf("erased record %d: id %q, want %q", r.Seq, r.Record.ID, erasedIDs[i])
			}
		}
		// New records beside the old: packed, with 16-byte salts.
		appendN(t, db, 100, 2)
		size, _ := checkpoint(t, db, s)
		var packed, plain, salt16 int
		db.write.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM audit_log WHERE substr(stored, 1, 1) = $1),
			(SELECT count(*) FROM audit_log WHERE substr(stored, 1, 1) = $2),
			(SELECT count(*) FROM audit_log WHERE length(salt) = 16)`, []byte{audit.PackedRecords1}, []byte("{")).Scan(&packed, &plain, &salt16)
		if size != 400 || packed != 100 || plain != 290 || salt16 != 100 {
			t.Fatalf("size %d: %d packed, %d plain, %d with a 16-byte salt", size, packed, plain, salt16)
		}
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Records != 400 || rep.Erased != 10 {
			t.Fatalf("verify a log of plain and packed records: %+v %v", rep, err)
		}
		// Insight: the old and new records that returned one person.
		got, err := db.StoredRecords(ctx, RecordQuery{Subject: "01010100003", Limit: 1000})
		if err != nil || len(got) == 0 || got[0].Seq >= 300 || got[len(got)-1].Seq < 300 {
			t.Fatalf("insight over plain and packed records: %d, %v", len(got), err)
		}
		for _, r := range got {
			if !slices.Equal(r.Record.Returned, []string{"01010100003"}) || r.Record.ID == "" {
				t.Fatalf("record %d not opened: %+v", r.Seq, r.Record)
			}
			if err := audit.VerifyInclusion(r.Seq, size, audit.LeafHash(r.Salt, r.Canonical), mustProof(t, db, r.Seq, size), rootOf(t, db)); err != nil {
				t.Fatalf("record %d: %v", r.Seq, err)
			}
		}
		// The consumer's log.
		if recs, err := db.AuditRecords(ctx, "310000001", 1000); err != nil || len(recs) != 400 {
			t.Fatalf("the consumer's log: %d, %v", len(recs), err)
		}
		// Affected: every person of the old and new records.
		aff, err := db.Affected(ctx, audit.Scope{Consumer: "310000001", Size: size})
		if err != nil || aff.Records != 390 || len(aff.Persons) != 7 { // 10 erased before the migration
			t.Fatalf("affected: %d records, %d persons, %v", aff.Records, len(aff.Persons), err)
		}
		// Retention erases old and new alike; the log still verifies.
		before, err := db.AuditRecords(ctx, "310000001", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := db.EraseRecordsBefore(ctx, fixedNow().Add(time.Hour), "test"); err != nil || n != 390 {
			t.Fatalf("erased %d, %v", n, err)
		}
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Erased != 400 {
			t.Fatalf("verify after retention: %+v %v", rep, err)
		}
		// Erased records keep their ids: the consumer's log names them as before.
		after, err := db.AuditRecords(ctx, "310000001", 1000)
		if err != nil || len(after) != len(before) {
			t.Fatalf("the consumer's log after retention: %d, %v", len(after), err)
		}
		for i := range after {
			if after[i].ID == "" || after[i].ID != before[i].ID || after[i].Returned != nil {
				t.Fatalf("erased record %d: id %q, was %q", i, after[i].ID, before[i].ID)
			}
		}
		// And back down: the records plain again, every id restored, for the code before.
		if _, err := p.DownTo(ctx, 31); err != nil {
			t.Fatal(err)
		}
		var withID, plainRecs int
		db.write.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE id <> ''`).Scan(&withID)
		db.write.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE record IS NOT NULL AND substr(record, 1, 1) = $1`, []byte("{")).Scan(&plainRecs)
		if withID != 401 || plainRecs != 1 { // 400 erased, and the erasure's own record
			t.Fatalf("after the down migration: %d records with their id, %d plain", withID, plainRecs)
		}
	})
}

func mustProof(t *testing.T, db *DB, index, size uint64) [][]byte {
	t.Helper()
	h, err := db.InclusionProof(context.Background(), index, size)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func rootOf(t *testing.T, db *DB) []byte {
	t.Helper()
	_, root, err := db.LogRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Rule AA-16: a record of 30,000 returned persons (an extract's batch) is
// written, integrated into the tree and a checkpoint, opened for insight and
// verified. Such a record (1.9 MB of commitments) once packed to a frame no
// reader could open, and integration stopped on it for good.
func TestLargeRecordIntegrates(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		persons := make([]string, 30_000)
		for i := range persons {
			persons[i] = fmt.Sprintf("0202%07d", i)
		}
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit, Returned: persons}); err != nil {
			t.Fatal(err)
		}
		appendN(t, db, 3, 1)
		if size, _ := checkpoint(t, db, s); size != 4 {
			t.Fatalf("the tree holds %d of 4 records", size)
		}
		got, err := db.StoredRecords(ctx, RecordQuery{Subject: persons[29_999], Limit: 10})
		if err != nil || len(got) != 1 || len(got[0].Record.Returned) != 30_000 || len(got[0].Canonical) < 1<<20 {
			t.Fatalf("insight: %d records, %v", len(got), err)
		}
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Records != 4 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// Rule AA-16: verify reports a stored record no reader can open, whatever
// its leaf hash says. The leaf covers salt ‖ record with no length between
// them, so bytes moved from the record's start to the salt's end keep the
// leaf: once verify said intact while insight, the consumer's log and
// Affected failed on the record.
func TestVerifyUnreadableRecord(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 6, 1)
		checkpoint(t, db, s)
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() {
			t.Fatalf("before: %+v %v", rep, err)
		}
		recs, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 10})
		if err != nil || len(recs) != 6 {
			t.Fatal(len(recs), err)
		}
		move := func(seq uint64, n int) { // the record's first n bytes to the salt's end
			r := recs[seq]
			salt := append(bytes.Clone(r.Salt), r.Canonical[:n]...)
			if _, err := db.write.ExecContext(ctx, `UPDATE audit_log SET salt = $1, stored = $2 WHERE seq = $3`, salt, r.Canonical[n:], int64(seq)); err != nil {
				t.Fatal(err)
			}
		}
		move(2, 1)  // the reviewer's: a 17-byte salt, a record without its '{'
		move(4, 16) // a 32-byte salt, as records before issue 15 had; the record does not unpack
		rep, err := verifyLog(ctx, db, v)
		if err != nil || rep.OK() || rep.Counts[audit.ProblemUnreadable] != 3 || rep.Counts[audit.ProblemChanged] != 0 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		for _, p := range rep.Problems {
			if p.Index != 2 && p.Index != 4 {
				t.Fatalf("a problem with record %d: %+v", p.Index, p)
			}
		}
	})
}

// Nodes that start at once on a fresh PostgreSQL database both come up: they
// take turns at the migrations (goose's session lock), where they once raced
// on them and one failed.
func TestOpenConcurrentMigrations(t *testing.T) {
	if pg == nil {
		t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
	}
	dsn, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			db, err := Open(context.Background(), Config{URL: dsn})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a node starting beside others: %v", err)
		}
	}
	db, err := Open(context.Background(), Config{URL: dsn, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int64
	if err := db.write.QueryRowContext(context.Background(), `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil || version < 32 {
		t.Fatalf("schema version %d, %v", version, err)
	}
}

// Migration 00032 on PostgreSQL waits a bounded while for audit_log's lock
// behind a long transaction, then fails saying why, with nothing changed;
// started again once that transaction has ended, it runs.
func TestMigrateLogSizeLockTimeout(t *testing.T) {
	if pg == nil {
		t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
	}
	ctx := context.Background()
	db, err := Open(ctx, Config{URL: newPostgres(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.migrations("migrations/main", "goose_db_version", db.write)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 31); err != nil {
		t.Fatal(err)
	}
	old := pgLockTimeout
	pgLockTimeout = "200ms"
	t.Cleanup(func() { pgLockTimeout = old })
	long, err := db.write.BeginTx(ctx, nil) // e.g. a running audit verify
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := long.QueryRowContext(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err == nil || !strings.Contains(err.Error(), "could not lock audit_log within 200ms") {
		t.Fatalf("up behind a long transaction: %v", err)
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != 31 {
		t.Fatalf("version %d after the failed migration, %v", v, err)
	}
	long.Rollback()
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up once the transaction ended: %v", err)
	}
}

// Migration 00032's down step reads the log a batch at a time (2,500
// records: three batches), and a record it cannot unpack stops it with that
// record's seq and nothing changed.
func TestMigrateLogSizeDown(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, _ := logKey(t)
		appendN(t, db, 2500, 4)
		checkpoint(t, db, s)
		var good []byte
		db.write.QueryRowContext(ctx, `SELECT stored FROM audit_log WHERE seq = 2100`).Scan(&good)
		if _, err := db.write.ExecContext(ctx, `UPDATE audit_log SET stored = $1 WHERE seq = 2100`, append([]byte{audit.PackedRecords1}, good[2:]...)); err != nil {
			t.Fatal(err)
		}
		p, err := db.migrations("migrations/main", "goose_db_version", db.write)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 31); err == nil || !strings.Contains(err.Error(), "record 2100 cannot be read") {
			t.Fatalf("down with an unreadable record: %v", err)
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != 32 {
			t.Fatalf("version %d after the failed down migration, %v", v, err)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE audit_log SET stored = $1 WHERE seq = 2100`, good); err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 31); err != nil {
			t.Fatal(err)
		}
		rows, err := db.write.QueryContext(ctx, `SELECT id, record FROM audit_log ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var (
				id     string
				record []byte
			)
			rows.Scan(&id, &record)
			if id == "" || !bytes.HasPrefix(record, []byte("{")) || !bytes.Contains(record, []byte(`"id":"`+id+`"`)) {
				t.Fatalf("record %d after the down migration: id %q, %.40q", n, id, record)
			}
			n++
		}
		if n != 2500 {
			t.Fatalf("%d records after the down migration", n)
		}
	})
}
