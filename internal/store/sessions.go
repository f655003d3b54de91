package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Sessions keeps the portal's sessions (github.com/alexedwards/scs/v2's Store
// and CtxStore). A session is only the token and the encoded data: who signed
// in is checked against the accounts on every request. Only the token's SHA-256
// is stored, so a copy of the database signs nobody in.
type Sessions struct{ db *DB }

// Sessions is the session store on db.
func (db *DB) Sessions() Sessions { return Sessions{db} }

// Find returns the session's data if it exists and has not expired.
func (s Sessions) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// FindCtx is Find with a context.
func (s Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.read.queryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`, tokenKey(token), micros(s.db.now())).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return b, true, nil
}

// Commit stores a session until expiry.
func (s Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx is Commit with a context.
func (s Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, tokenKey(token), b, micros(expiry))
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

// Delete removes a session.
func (s Sessions) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteCtx is Delete with a context.
func (s Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.write.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, tokenKey(token))
	return err
}

// tokenKey is what the sessions table keeps of a session token.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// PurgeSessions deletes expired sessions.
func (db *DB) PurgeSessions(ctx context.Context) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= $1`, micros(db.now()))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}
