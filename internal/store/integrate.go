package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"deling/internal/audit"
)

// Sequencing apart from integration (the design of transparency-dev/tessera):
// an append (auditlog.go) only numbers its records (log_sequence) and writes
// them with their insight index, durably, before the answer; Integrate adds
// the records written since the last integration to the tree, in tiles, and
// advances the tree's state (log_state). The tree's size is what proofs and
// checkpoints cover; the records past it wait for the next integration, which
// serve runs on one node every IntegrateEvery.

// IntegrateEvery is how often serve integrates the log: the bound, with an
// integration's own time, on how long a record waits for the tree.
const IntegrateEvery = 250 * time.Millisecond

// integrateBatch bounds how many records one integration transaction takes.
const integrateBatch = 8192

// Integration is what one Integrate did.
type Integration struct {
	Size    uint64        // the tree's size after it
	Records int           // records added to the tree
	Delay   time.Duration // how long the oldest of them waited since its record's time
}

// Integrate adds the records written since the last integration to the
// tree, in transactions of at most integrateBatch records, until a
// transaction finds fewer. Each is whole or nothing, and the tree's state row
// is locked while it runs, so a node dying mid-integration loses nothing and
// two integrating at once take turns: the next one continues from the stored
// state. Rule AA-16: every record, once written, gets its place in the tree.
func (db *DB) Integrate(ctx context.Context) (Integration, error) {
	var out Integration
	for {
		var (
			n      int
			oldest int64
		)
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			out.Size, n, oldest, err = db.integrate(ctx, tx)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("integrate the lookup log: %w", err)
		}
		if n > 0 && out.Records == 0 {
			out.Delay = max(0, db.now().Sub(fromMicros(oldest)))
		}
		out.Records += n
		// A short batch took all there was: what came since waits for the
		// next run, so that a steady stream of appends cannot keep one run going.
		if n < integrateBatch {
			return out, nil
		}
	}
}

// integrate adds up to integrateBatch records after the tree to it, in tx:
// their leaf hashes, the tiles they change, the tree's new state. It returns
// the tree's size, how many records it added and the oldest one's time.
func (db *DB) integrate(ctx context.Context, tx *sql.Tx) (uint64, int, int64, error) {
	var (
		size int64
		rh   []byte
	)
	if err := tx.QueryRowContext(ctx, db.forUpdate(`SELECT size, range_hashes FROM log_state WHERE id = 1`)).Scan(&size, &rh); err != nil {
		return 0, 0, 0, fmt.Errorf("load tree state: %w", err)
	}
	rng, err := rangeFactory.NewRange(0, uint64(size), splitHashes(rh))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("tree state: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, time, salt, stored FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, size, integrateBatch)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rows.Close()
	// The new hashes of tree levels 0, 8, 16, …: each level's come in index order.
	levels := map[uint][][]byte{}
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level%audit.TileHeight == 0 {
			levels[id.Level] = append(levels[id.Level], hash)
		}
	}
	var (
		n      int
		oldest int64
	)
	for rows.Next() {
		var (
			seq, t       int64
			salt, record []byte
		)
		if err := rows.Scan(&seq, &t, &salt, &record); err != nil {
			return 0, 0, 0, err
		}
		if seq != size+int64(n) {
			return 0, 0, 0, fmt.Errorf("record %d is missing: the next written is %d", size+int64(n), seq)
		}
		if record == nil {
			// Retention erases only what the tree holds (EraseRecordsBefore).
			return 0, 0, 0, fmt.Errorf("record %d was erased before it was integrated", seq)
		}
		if n == 0 || t < oldest {
			oldest = t
		}
		canonical, err := audit.UnpackRecord(record)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("record %d: %w", seq, err)
		}
		if err := rng.Append(audit.LeafHash(salt, canonical), visit); err != nil {
			return 0, 0, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, 0, err
	}
	rows.Close()
	if n == 0 {
		return uint64(size), 0, 0, nil
	}
	for level, hashes := range levels {
		if err := db.appendTileHashes(ctx, tx, level/audit.TileHeight, uint64(size)>>level, hashes); err != nil {
			return 0, 0, 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE log_state SET size = $1, range_hashes = $2 WHERE id = 1`,
		int64(rng.End()), joinHashes(rng.Hashes())); err != nil {
		return 0, 0, 0, fmt.Errorf("save tree state: %w", err)
	}
	return rng.End(), n, oldest, nil
}

// LogStatus is how far the log's parts have come: the records written, those
// the tree holds, and the newest signed checkpoint.
type LogStatus struct {
	Records      uint64
	Tree         uint64
	Checkpoint   uint64    // the newest checkpoint's size; 0 when none
	CheckpointAt time.Time // when it was stored; zero when none
}

// LogStatus reads the log's status in one query.
func (db *DB) LogStatus(ctx context.Context) (LogStatus, error) {
	var records, tree, cp, at int64
	err := db.read.queryRow(ctx, `SELECT (SELECT next FROM log_sequence WHERE id = 1), (SELECT size FROM log_state WHERE id = 1),
		COALESCE((SELECT max(size) FROM checkpoints), 0), COALESCE((SELECT max(created_at) FROM checkpoints), 0)`).Scan(&records, &tree, &cp, &at)
	if err != nil {
		return LogStatus{}, fmt.Errorf("log status: %w", err)
	}
	st := LogStatus{Records: uint64(records), Tree: uint64(tree), Checkpoint: uint64(cp)}
	if at != 0 {
		st.CheckpointAt = fromMicros(at)
	}
	return st, nil
}
