package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"deling/internal/audit"
)

// maxBatch bounds how many records one commit of the log takes (logQueue).
const maxBatch = 2048

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// commitLog is the log queue's flush: it appends entries in one
// transaction, durable when it returns (synchronous=FULL on SQLite).
func (db *DB) commitLog(entries []audit.Entry) error {
	ctx := context.Background() // a client that goes away does not cancel an append
	if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.appendEntries(ctx, tx, entries) }); err != nil {
		return fmt.Errorf("append to the lookup log: %w", err)
	}
	return nil
}

// Append writes a record to the log and returns when it is durable: committed
// with synchronous=FULL on SQLite, or committed on PostgreSQL. Concurrent
// appends are group-committed (logQueue). ErrClosed after Close.
func (db *DB) Append(ctx context.Context, r *audit.Record) error {
	if r.ID == "" {
		r.ID = newID()
	}
	if r.Time.IsZero() {
		r.Time = db.now().UTC()
	}
	e, err := audit.NewEntry(r)
	if err != nil {
		return err
	}
	return db.log.add(ctx, e)
}

// appendEvent writes a governance event in the caller's transaction, so that a
// change and its record are stored together or not at all.
func (db *DB) appendEvent(ctx context.Context, tx *sql.Tx, kind, consumer, actor string, event any) error {
	b, err := json.Marshal(event)
	if err != nil {
		return err
	}
	e, err := audit.NewEntry(&audit.Record{ID: newID(), Time: db.now().UTC(), Kind: kind, Consumer: consumer, Actor: actor, Event: b})
	if err != nil {
		return err
	}
	return db.appendEntries(ctx, tx, []audit.Entry{e})
}

// appendEntries writes entries to the log in tx: it numbers them
// (log_sequence, whose row is locked, so appends from several nodes on one
// PostgreSQL take turns and leave no gap) and writes the records and their
// insight index. The tree is not touched: Integrate adds them to it later.
func (db *DB) appendEntries(ctx context.Context, tx *sql.Tx, entries []audit.Entry) error {
	var next int64
	if err := tx.QueryRowContext(ctx, `UPDATE log_sequence SET next = next + $1 WHERE id = 1 RETURNING next`, len(entries)).Scan(&next); err != nil {
		return fmt.Errorf("number records: %w", err)
	}
	size := next - int64(len(entries))
	type subject struct {
		ident string
		seq   int64
	}
	var subjects []subject
	for i := range entries {
		for _, s := range entries[i].Subjects {
			if s.Returned {
				subjects = append(subjects, subject{s.Ident, size + int64(i)})
			}
		}
	}
	// Rule AA-17: each identity a record names, with its salt, lies beside
	// the leaf in one blob per record (the leaf holds only its commitment).
	if _, err := db.execBatch(ctx, tx, `INSERT INTO audit_log (seq, time, kind, consumer, salt, stored, subjects, response) VALUES `, "", 8, len(entries),
		func(i int, dst []any) []any {
			e := &entries[i]
			return append(dst, size+int64(i), micros(e.Record.Time), e.Record.Kind, e.Record.Consumer, e.Salt, e.Stored,
				audit.EncodeSubjects(e.Subjects), e.Response)
		}); err != nil {
		return fmt.Errorf("append records: %w", err)
	}
	// The insight index: the persons returned.
	if _, err := db.execBatch(ctx, tx, `INSERT INTO audit_subjects (ident, seq) VALUES `, " ON CONFLICT DO NOTHING", 2, len(subjects),
		func(i int, dst []any) []any { return append(dst, subjects[i].ident, subjects[i].seq) }); err != nil {
		return fmt.Errorf("append record subjects: %w", err)
	}
	return nil
}

func splitHashes(b []byte) [][]byte {
	out := make([][]byte, 0, len(b)/32)
	for i := 0; i+32 <= len(b); i += 32 {
		out = append(out, b[i:i+32])
	}
	return out
}

func joinHashes(hs [][]byte) []byte {
	out := make([]byte, 0, 32*len(hs))
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

// LogSize is the number of records in the log, integrated into the tree or not yet.
func (db *DB) LogSize(ctx context.Context) (uint64, error) {
	var size int64
	if err := db.read.queryRow(ctx, `SELECT next FROM log_sequence WHERE id = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("log size: %w", err)
	}
	return uint64(size), nil
}

// TreeSize is the number of records integrated into the tree: what proofs
// and checkpoints can cover.
func (db *DB) TreeSize(ctx context.Context) (uint64, error) {
	var size int64
	if err := db.read.queryRow(ctx, `SELECT size FROM log_state WHERE id = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("tree size: %w", err)
	}
	return uint64(size), nil
}

// LogRoot is the tree's size and RFC 6962 root hash now.
func (db *DB) LogRoot(ctx context.Context) (uint64, []byte, error) {
	var (
		size int64
		rh   []byte
	)
	if err := db.read.queryRow(ctx, `SELECT size, range_hashes FROM log_state WHERE id = 1`).Scan(&size, &rh); err != nil {
		return 0, nil, fmt.Errorf("log state: %w", err)
	}
	if size == 0 {
		return 0, rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	rng, err := rangeFactory.NewRange(0, uint64(size), splitHashes(rh))
	if err != nil {
		return 0, nil, err
	}
	root, err := rng.GetRootHash(nil)
	return uint64(size), root, err
}

// AddCheckpoint stores a signed checkpoint (once per size).
func (db *DB) AddCheckpoint(ctx context.Context, size uint64, root, signed []byte) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO checkpoints (size, root, signed, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		int64(size), root, string(signed), micros(db.now()))
	if err != nil {
		return fmt.Errorf("store checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint is the newest signed checkpoint; ErrNotFound when none was made yet.
func (db *DB) LatestCheckpoint(ctx context.Context) (uint64, []byte, error) {
	return db.checkpoint(ctx, `SELECT size, signed FROM checkpoints ORDER BY size DESC LIMIT 1`)
}

// CheckpointAtLeast is the oldest signed checkpoint covering index (size > index).
func (db *DB) CheckpointAtLeast(ctx context.Context, index uint64) (uint64, []byte, error) {
	return db.checkpoint(ctx, `SELECT size, signed FROM checkpoints WHERE size > $1 ORDER BY size LIMIT 1`, int64(index))
}

func (db *DB) checkpoint(ctx context.Context, q string, args ...any) (uint64, []byte, error) {
	var (
		size   int64
		signed string
	)
	err := db.read.queryRow(ctx, q, args...).Scan(&size, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("checkpoint: %w", ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("load checkpoint: %w", err)
	}
	return uint64(size), []byte(signed), nil
}

// proofHashes reads the nodes a proof names from the tiles and rehashes them into the proof.
func (db *DB) proofHashes(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	t := tileNodes{ctx: ctx, q: db.read, tiles: map[[2]uint64][]byte{}}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		var err error
		if hashes[i], err = t.node(id.Level, id.Index); err != nil {
			return nil, err
		}
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// InclusionProof proves that leaf index is in the tree of size.
func (db *DB) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if cur, err := db.TreeSize(ctx); err != nil {
		return nil, err
	} else if size > cur || index >= size {
		return nil, fmt.Errorf("inclusion proof of %d in %d (log size %d): %w", index, size, cur, ErrNotFound)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return db.proofHashes(ctx, nodes)
}

// ConsistencyProof proves that the tree of size2 extends the tree of size1.
func (db *DB) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if cur, err := db.TreeSize(ctx); err != nil {
		return nil, err
	} else if size2 > cur || size1 > size2 || size1 == 0 {
		return nil, fmt.Errorf("consistency proof %d→%d (log size %d): %w", size1, size2, cur, ErrNotFound)
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return db.proofHashes(ctx, nodes)
}

// StoredRecord is a record as the log keeps it: its index, and its canonical
// bytes and salt unless retention erased them. Record is the record opened:
// for version 2 its identities and kept response restored from beside the
// leaf (audit.Open). Subjects are the identities kept beside a version-2
// record, with their salts.
type StoredRecord struct {
	Seq       uint64
	Canonical []byte
	Salt      []byte
	Record    audit.Record
	Subjects  []audit.Subject
	subjects  []byte
	response  []byte
}

// SubjectOpening is the receipt's opening for ident: their identity and, for
// a version-2 record, their own subject salt; nil when the record does not
// name them.
func (s *StoredRecord) SubjectOpening(ident string) *audit.SubjectOpening {
	if s.Record.V < 2 {
		if slices.Contains(s.Record.Returned, ident) {
			return &audit.SubjectOpening{Ident: ident}
		}
		return nil
	}
	for _, sub := range s.Subjects {
		if sub.Ident == ident {
			return &audit.SubjectOpening{Ident: ident, Salt: sub.Salt}
		}
	}
	return nil
}

func scanStored(rows *sql.Rows) (StoredRecord, error) {
	var (
		s               StoredRecord
		seq, t          int64
		kind, cons      string
		salt, canonical []byte
		erasedID        sql.NullString
	)
	if err := rows.Scan(&seq, &t, &kind, &cons, &salt, &canonical, &s.subjects, &s.response, &erasedID); err != nil {
		return s, err
	}
	canonical, err := audit.UnpackRecord(canonical)
	if err != nil {
		return s, fmt.Errorf("record %d: %w", seq, err)
	}
	s.Seq, s.Salt, s.Canonical = uint64(seq), salt, canonical
	// An erased record keeps these, and its id beside them (erased_id); a
	// record that is there has its id inside (openRecords).
	s.Record = audit.Record{ID: erasedID.String, Time: fromMicros(t), Kind: kind, Consumer: cons}
	return s, nil
}

const storedColumns = `seq, time, kind, consumer, salt, stored, subjects, response, erased_id`

// openRecords decodes recs and opens their version-2 records with the
// subjects kept beside them.
func openRecords(recs []StoredRecord) error {
	for i := range recs {
		r := &recs[i]
		if r.Canonical == nil {
			continue
		}
		subjects, err := audit.DecodeSubjects(r.subjects)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		rec, err := audit.Open(r.Canonical, r.response, subjects)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		r.Record, r.Subjects = rec, subjects
	}
	return nil
}

// AuditRecords lists a consumer's records (all when consumer is ""), oldest first, at most limit.
func (db *DB) AuditRecords(ctx context.Context, consumer string, limit int) ([]audit.Record, error) {
	recs, err := db.StoredRecords(ctx, RecordQuery{Consumer: consumer, Limit: limit, All: consumer == ""})
	if err != nil {
		return nil, err
	}
	out := make([]audit.Record, len(recs))
	for i := range recs {
		out[i] = recs[i].Record
	}
	return out, nil
}

// RecordQuery selects records of the log.
type RecordQuery struct {
	Consumer string // the consumer's records
	All      bool   // every record (Consumer ignored)
	Subject  string // records that returned this identity
	From, To int64  // unix µs; 0 means open
	After    uint64 // keyset: records after this seq (0: from the start; seq 0 is never skipped when After is 0 and AfterSet false)
	AfterSet bool
	Limit    int
}

// StoredRecords lists records oldest first.
func (db *DB) StoredRecords(ctx context.Context, q RecordQuery) ([]StoredRecord, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	switch {
	case q.Subject != "":
		where = append(where, "seq IN (SELECT seq FROM audit_subjects WHERE ident = "+arg(q.Subject)+")")
	case !q.All:
		where = append(where, "consumer = "+arg(q.Consumer))
	}
	if q.From != 0 {
		where = append(where, "time >= "+arg(q.From))
	}
	if q.To != 0 {
		where = append(where, "time < "+arg(q.To))
	}
	if q.AfterSet {
		where = append(where, "seq > "+arg(int64(q.After)))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	sqlText := `SELECT ` + storedColumns + ` FROM audit_log`
	if len(where) > 0 {
		sqlText += " WHERE " + joinAnd(where)
	}
	sqlText += " ORDER BY seq LIMIT " + arg(q.Limit)
	rows, err := db.read.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	defer rows.Close()
	var out []StoredRecord
	for rows.Next() {
		s, err := scanStored(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, openRecords(out)
}

func joinAnd(parts []string) string {
	s := parts[0]
	for _, p := range parts[1:] {
		s += " AND " + p
	}
	return s
}

// EraseRecordsBefore applies retention: records older than before lose their
// content, salt, subjects' salts and kept response, and their insight index
// entries; their leaf hashes stay, so every proof stays valid. Each erasure is
// itself recorded in the log (audit.KindLogErased: who, before what time, how
// many), in the same transaction as what it erased, and those records are
// never erased. It erases eraseRows records a transaction, each with its own
// event, so that a large erasure never holds the log's writer for long (on
// SQLite the one write lock: lookups wait for it). Which times may be erased
// is the caller's rule (cmd/deling: the minimum retention).
func (db *DB) EraseRecordsBefore(ctx context.Context, before time.Time, actor string) (int64, error) {
	var total int64
	t := micros(before)
	// Retention erases only what the tree holds: integrate the rest first.
	if _, err := db.Integrate(ctx); err != nil {
		return 0, err
	}
	// By time, from the last batch's: the records erased by earlier
	// batches and runs, all older, are not walked again for every batch.
	for from := int64(math.MinInt64); ; {
		var b erasedBatch
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			if b, err = eraseRecords(ctx, tx, from, t); err != nil || b.n == 0 {
				return err
			}
			return db.appendEvent(ctx, tx, audit.KindLogErased, "", actor, audit.Erasure{Before: before.UTC(), Records: b.n, Unreadable: b.unreadable})
		})
		if err != nil {
			return total, fmt.Errorf("erase records: %w", err)
		}
		total += b.n
		if b.n < eraseRows {
			break
		}
		from = b.last
	}
	// The erasures' own records, into the tree at once.
	if total > 0 {
		if _, err := db.Integrate(ctx); err != nil {
			return total, err
		}
	}
	return total, nil
}

// erasedBatch is what one eraseRecords erased: how many, how many of them
// could not be read (their ids are lost; the erasure event counts them),
// and the time of the last.
type erasedBatch struct {
	n, unreadable, last int64
}

// eraseRecords erases the content of up to eraseRows of the records
// EraseRecordsBefore names, oldest first from time from, with their insight
// index entries, and keeps each one's id beside it (erased_id): the id is
// inside the stored record, which SQL cannot read, so each is unpacked here.
// The consumer's log and the portal go on naming an erased record by its id.
func eraseRecords(ctx context.Context, tx *sql.Tx, from, before int64) (erasedBatch, error) {
	var b erasedBatch
	type row struct {
		seq      int64
		id       sql.NullString
		returned []string // its insight index entries, when exact
		exact    bool     // returned names every entry; else they are found by seq
	}
	// Only records the tree holds: integration reads the others' content.
	// (+seq: the bound is not what narrows the search; on SQLite, where seq
	// is the rowid since migration 00032, it would otherwise walk the whole
	// table by rowid instead of the time index.)
	rows, err := tx.QueryContext(ctx, `SELECT seq, time, stored, subjects FROM audit_log
		WHERE time >= $1 AND time < $2 AND stored IS NOT NULL AND kind <> $3 AND +seq < (SELECT size FROM log_state WHERE id = 1)
		ORDER BY time LIMIT $4`, from, before, audit.KindLogErased, eraseRows)
	if err != nil {
		return b, err
	}
	var batch []row
	for rows.Next() {
		var (
			r                row
			stored, subjects []byte
		)
		if err := rows.Scan(&r.seq, &b.last, &stored, &subjects); err != nil {
			rows.Close()
			return b, err
		}
		// An unreadable record (one audit verify reports) is erased all
		// the same, since retention is the law's; its id is lost, and the
		// erasure event says how many were.
		canonical, id, ok := storedID(stored)
		if ok {
			r.id = sql.NullString{String: id, Valid: true}
			r.returned, r.exact = returnedOf(canonical, subjects)
		} else {
			b.unreadable++
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return b, err
	}
	unindex, err := tx.PrepareContext(ctx, `DELETE FROM audit_subjects WHERE ident = $1 AND seq = $2`)
	if err != nil {
		return b, err
	}
	defer unindex.Close()
	erase, err := tx.PrepareContext(ctx, `UPDATE audit_log SET erased_id = $1, salt = NULL, stored = NULL, subjects = NULL, response = NULL WHERE seq = $2`)
	if err != nil {
		return b, err
	}
	defer erase.Close()
	for _, r := range batch {
		for _, ident := range r.returned {
			if _, err := unindex.ExecContext(ctx, ident, r.seq); err != nil {
				return b, err
			}
		}
		if !r.exact {
			// Which persons it returned is not known for sure (unreadable,
			// or its subjects damaged), so its entries are found by seq (a
			// scan; only for such records).
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit_subjects WHERE seq = $1`, r.seq); err != nil {
				return b, err
			}
		}
		if _, err := erase.ExecContext(ctx, r.id, r.seq); err != nil {
			return b, err
		}
	}
	b.n = int64(len(batch))
	return b, nil
}

// storedID is a stored record's canonical bytes and id; false when it
// cannot be read.
func storedID(stored []byte) ([]byte, string, bool) {
	canonical, err := audit.UnpackRecord(stored)
	if err != nil {
		return nil, "", false
	}
	var rec struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(canonical, &rec) != nil || rec.ID == "" {
		return nil, "", false
	}
	return canonical, rec.ID, true
}

// returnedOf is the persons a record returned — its insight index entries —
// and whether that is certain: a version-2 record whose subjects are damaged
// opens fewer persons than it has commitments.
func returnedOf(canonical, subjects []byte) ([]string, bool) {
	subs, err := audit.DecodeSubjects(subjects)
	if err != nil {
		return nil, false
	}
	r, err := audit.Open(canonical, nil, subs)
	if err != nil || (r.V >= 2 && len(r.Returned) != len(r.ReturnedCommitments)) {
		return nil, false
	}
	return r.Returned, true
}

// eraseRows is how many records one transaction of retention erases.
var eraseRows int64 = 5000 // a variable for the tests

// LogSnapshot is the stored log as audit.Verify reads it: one consistent
// snapshot, however many appends go on meanwhile (issue 11: verifying a live
// log from several reads saw records without their nodes and nodes beyond
// the tree). On SQLite it is a read transaction of one connection (WAL: the
// snapshot of its first read); on PostgreSQL a REPEATABLE READ transaction.
// Close it when done.
type LogSnapshot struct{ tx *sql.Tx }

// LogSnapshot begins a snapshot of the log for verification.
func (db *DB) LogSnapshot(ctx context.Context) (*LogSnapshot, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.engine == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("log snapshot: %w", err)
	}
	return &LogSnapshot{tx}, nil
}

// Close ends the snapshot.
func (s *LogSnapshot) Close() error { return s.tx.Rollback() }

// Size implements audit.Source: the tree's size. The records written after
// it wait for integration, and Records and Index leave them out.
func (s *LogSnapshot) Size(ctx context.Context) (uint64, error) {
	var size int64
	if err := s.tx.QueryRowContext(ctx, `SELECT size FROM log_state WHERE id = 1`).Scan(&size); err != nil {
		return 0, fmt.Errorf("log size: %w", err)
	}
	return uint64(size), nil
}

// Records implements audit.Source: one ordered scan, each record with the
// subjects blob kept beside it.
func (s *LogSnapshot) Records(ctx context.Context, fn func(seq uint64, salt, record, subjects []byte) error) error {
	return s.RecordsFrom(ctx, 0, fn)
}

// RecordsFrom is Records from seq from on: the records before it are not read.
func (s *LogSnapshot) RecordsFrom(ctx context.Context, from uint64, fn func(seq uint64, salt, record, subjects []byte) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT seq, salt, stored, subjects FROM audit_log
		WHERE seq >= $1 AND seq < (SELECT size FROM log_state WHERE id = 1) ORDER BY seq`, int64(from))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq                    int64
			salt, record, subjects []byte
		)
		if err := rows.Scan(&seq, &salt, &record, &subjects); err != nil {
			return err
		}
		if err := fn(uint64(seq), salt, record, subjects); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Index implements audit.Source: the insight index (audit_subjects), in one
// scan of the snapshot.
func (s *LogSnapshot) Index(ctx context.Context, fn func(seq uint64, ident string) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT seq, ident FROM audit_subjects WHERE seq < (SELECT size FROM log_state WHERE id = 1)`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq   int64
			ident string
		)
		if err := rows.Scan(&seq, &ident); err != nil {
			return err
		}
		if err := fn(uint64(seq), ident); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Tiles implements audit.Source.
func (s *LogSnapshot) Tiles(ctx context.Context, level uint, fn func(idx uint64, hashes []byte) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT idx, hashes FROM log_tiles WHERE level = $1 ORDER BY idx`, int(level))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			idx    int64
			hashes []byte
		)
		if err := rows.Scan(&idx, &hashes); err != nil {
			return err
		}
		if err := fn(uint64(idx), hashes); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Checkpoints implements audit.Source.
func (s *LogSnapshot) Checkpoints(ctx context.Context) ([]audit.StoredCheckpoint, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT size, signed FROM checkpoints ORDER BY size`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.StoredCheckpoint
	for rows.Next() {
		var (
			size   int64
			signed string
		)
		if err := rows.Scan(&size, &signed); err != nil {
			return nil, err
		}
		out = append(out, audit.StoredCheckpoint{Size: uint64(size), Signed: []byte(signed)})
	}
	return out, rows.Err()
}
