package store

import (
	"context"
	"fmt"
)

// LogKey is the lookup log's public note key recorded by PinLogKey, or ""
// when none is.
func (db *DB) LogKey(ctx context.Context) (string, error) {
	var k string
	if err := db.read.queryRow(ctx, `SELECT verifier_key FROM log_state WHERE id = 1`).Scan(&k); err != nil {
		return "", fmt.Errorf("log key: %w", err)
	}
	return k, nil
}

// PinLogKey records vkey as the lookup log's public note key when none is
// recorded yet, and refuses (ErrConflict, naming the recorded key) a vkey
// other than the recorded one: every node on one database must sign the one
// log's checkpoints with the same key, and a node given another (a missing
// copy of the key file makes a new one) would sign checkpoints no one can
// verify with the published key. Two nodes starting at once with different
// keys: the first to record wins, the other is refused.
func (db *DB) PinLogKey(ctx context.Context, vkey string) error {
	if vkey == "" {
		return fmt.Errorf("pin log key: %w: no key", ErrConflict)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE log_state SET verifier_key = $1 WHERE id = 1 AND verifier_key = ''`, vkey); err != nil {
		return fmt.Errorf("pin log key: %w", err)
	}
	var pinned string
	if err := db.write.QueryRowContext(ctx, `SELECT verifier_key FROM log_state WHERE id = 1`).Scan(&pinned); err != nil {
		return fmt.Errorf("pin log key: %w", err)
	}
	if pinned != vkey {
		return fmt.Errorf("%w: the lookup log in this database is signed with the key %s, not %s", ErrConflict, pinned, vkey)
	}
	return nil
}
