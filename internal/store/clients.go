package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/token"
)

// Kinds of client key material.
const (
	KeyJWK         = "jwk"
	KeyCertificate = "certificate"
)

// ClientKey is a client's public key as stored: a JWK, or the PEM of an enterprise certificate.
type ClientKey struct {
	KID      string
	Kind     string
	Material string
}

// ClientInfo is a client as listed.
type ClientInfo struct {
	ID, Orgnr, Description string
	Active                 bool
	Keys                   []ClientKey
}

// ErrStoppedKey is a key that is a stopped client's of the same
// organisation: a client stopped from a breach case cannot come back under a
// new client id with the same key (Rule AV-02).
var ErrStoppedKey = errors.New("the key belongs to a client stopped from a breach case: make a new key")

// ErrKeyUnusable is a key that is a stopped client's of another
// organisation: said without naming that client or its organisation.
var ErrKeyUnusable = errors.New("the key cannot be used: make a new key")

// ErrBadKey is a key or certificate deling cannot use (not parsed, or of a
// type or size the token server does not accept): the caller's input, never a server error.
var ErrBadKey = errors.New("unusable key")

// keyThumbprint is the RFC 7638 thumbprint of a client key's public key (of
// a certificate: of its subject's key), to tell one key from another
// whatever its kid or encoding.
func keyThumbprint(k ClientKey) (string, error) {
	pub, cert, err := parseClientKey(k)
	if err != nil {
		return "", err
	}
	key := pub.Key
	if cert != nil {
		key = cert.PublicKey
	}
	tp, err := token.Thumbprint(key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return tp, nil
}

// refuseStoppedKeys fails with ErrStoppedKey when one of keys is a key of a
// client of orgnr stopped from a breach case (Rule AV-02: the stop is not
// undone by registering the same key anew), in tx; with ErrKeyUnusable,
// naming nothing, when the stopped client is another organisation's.
func refuseStoppedKeys(ctx context.Context, tx *sql.Tx, orgnr string, keys []ClientKey) error {
	want := map[string]bool{}
	for _, k := range keys {
		tp, err := keyThumbprint(k)
		if err != nil {
			return err
		}
		want[tp] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT k.client_id, c.orgnr, k.kid, k.kind, k.material FROM client_keys k JOIN clients c ON c.client_id = k.client_id
		WHERE c.status = $1`, string(access.Suspended))
	if err != nil {
		return fmt.Errorf("stopped clients' keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, org string
			k       ClientKey
		)
		if err := rows.Scan(&id, &org, &k.KID, &k.Kind, &k.Material); err != nil {
			return err
		}
		if tp, err := keyThumbprint(k); err == nil && want[tp] {
			if org != orgnr {
				return ErrKeyUnusable // Rule AV-02, without telling another organisation's client
			}
			return fmt.Errorf("client %s: %w", id, ErrStoppedKey)
		}
	}
	return rows.Err()
}

// sameKeyClients are the clients of org other than client, in status (and
// held by holder when holder is set), that have a key client has (by
// thumbprint), in tx, sorted (Rule AV-02: stopping a client stops its key).
func (db *DB) sameKeyClients(ctx context.Context, tx *sql.Tx, org, client string, status access.Status, holder string) ([]string, error) {
	keys, err := clientKeysIn(ctx, tx, `k.client_id = $1`, client)
	if err != nil {
		return nil, err
	}
	mine := map[string]bool{}
	for _, k := range keys {
		if tp, err := keyThumbprint(k.ClientKey); err == nil {
			mine[tp] = true
		}
	}
	q, args := `c.orgnr = $1 AND c.client_id <> $2 AND c.status = $3`, []any{org, client, string(status)}
	if holder != "" {
		q += ` AND EXISTS (SELECT 1 FROM access_stops s WHERE s.target = 'client:' || c.client_id AND s.holder = $4)`
		args = append(args, holder)
	}
	others, err := clientKeysIn(ctx, tx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range others {
		if tp, err := keyThumbprint(k.ClientKey); err == nil && mine[tp] && !slices.Contains(out, k.client) {
			out = append(out, k.client)
		}
	}
	slices.Sort(out)
	return out, nil
}

// clientKey is a key with its client's id.
type clientKey struct {
	ClientKey
	client string
}

// clientKeysIn are the keys of the clients (c) where cond holds, in tx.
func clientKeysIn(ctx context.Context, tx *sql.Tx, cond string, args ...any) ([]clientKey, error) {
	rows, err := tx.QueryContext(ctx, `SELECT k.client_id, k.kid, k.kind, k.material FROM client_keys k JOIN clients c ON c.client_id = k.client_id WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("client keys: %w", err)
	}
	defer rows.Close()
	var out []clientKey
	for rows.Next() {
		var k clientKey
		if err := rows.Scan(&k.client, &k.KID, &k.Kind, &k.Material); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddClient registers an API client of an organisation with its public
// keys; ErrStoppedKey when a key is one of a client stopped from a breach case.
func (db *DB) AddClient(ctx context.Context, c ClientInfo, actor string) error {
	if len(c.Keys) == 0 {
		return errors.New("add client: a client needs at least one key or certificate")
	}
	for _, k := range c.Keys {
		if _, _, err := parseClientKey(k); err != nil {
			return fmt.Errorf("add client: %w", err)
		}
	}
	now := micros(db.now())
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := refuseStoppedKeys(ctx, tx, c.Orgnr, c.Keys); err != nil {
			return fmt.Errorf("add client: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO clients (client_id, orgnr, description, status, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.Orgnr, c.Description, string(access.Active), now); err != nil {
			return fmt.Errorf("add client: %w", err)
		}
		for _, k := range c.Keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO client_keys (client_id, kid, kind, material, created_at) VALUES ($1, $2, $3, $4, $5)`,
				c.ID, k.KID, k.Kind, k.Material, now); err != nil {
				return fmt.Errorf("add client key %s: %w", k.KID, err)
			}
		}
		return db.appendEvent(ctx, tx, audit.KindClientAdded, c.Orgnr, actor, map[string]any{"client": c.ID, "keys": len(c.Keys)})
	})
}

// RotateClientKey replaces every key of an active client of orgnr with key,
// at once: assertions signed with the old key are refused from then on. A
// client of another organisation, or one revoked, is ErrNotFound; a key of a
// client stopped from a breach case is ErrStoppedKey.
func (db *DB) RotateClientKey(ctx context.Context, orgnr, id string, key ClientKey, actor string) error {
	if _, _, err := parseClientKey(key); err != nil {
		return fmt.Errorf("rotate client key: %w", err)
	}
	now := micros(db.now())
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM clients WHERE client_id = $1 AND orgnr = $2 AND status = $3`, id, orgnr, string(access.Active)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("client %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("rotate client key: %w", err)
		}
		if err := refuseStoppedKeys(ctx, tx, orgnr, []ClientKey{key}); err != nil {
			return fmt.Errorf("rotate client key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM client_keys WHERE client_id = $1`, id); err != nil {
			return fmt.Errorf("rotate client key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO client_keys (client_id, kid, kind, material, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, key.KID, key.Kind, key.Material, now); err != nil {
			return fmt.Errorf("rotate client key: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindClientChanged, orgnr, actor, map[string]string{"client": id, "change": "key_rotated", "kid": key.KID})
	})
}

// RevokeClient ends an active client of orgnr, with its event in the log; a
// client of another organisation, or one revoked already, is ErrNotFound.
func (db *DB) RevokeClient(ctx context.Context, orgnr, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients SET status = $1 WHERE client_id = $2 AND orgnr = $3 AND status = $4`,
			string(access.Ended), id, orgnr, string(access.Active))
		if err != nil {
			return fmt.Errorf("revoke client: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("client %s: %w", id, ErrNotFound)
		}
		if err := bumpAccess(ctx, tx); err != nil { // every node's next request sees it (ClientActive)
			return err
		}
		return db.appendEvent(ctx, tx, audit.KindClientChanged, orgnr, actor, map[string]string{"client": id, "change": "revoked"})
	})
}

// SetClientActive deactivates or reactivates a client.
func (db *DB) SetClientActive(ctx context.Context, id string, active bool) error {
	st := access.Active
	if !active {
		st = access.Ended
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients SET status = $1 WHERE client_id = $2`, string(st), id)
		if err != nil {
			return fmt.Errorf("set client status: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("client %s: %w", id, ErrNotFound)
		}
		return bumpAccess(ctx, tx) // every node's next request sees it (ClientActive)
	})
}

// ClientActive reports whether client id is active: the API asks on every
// request, so a client stopped from a breach case (Rule AV-02) loses access
// with its next call, not only its next token. An unknown client is not active.
func (db *DB) ClientActive(ctx context.Context, id string) (bool, error) {
	// Cached as the access inputs are: every change of a client's status
	// bumps the access version in its own transaction.
	version, err := db.accessVersion(ctx)
	if err != nil {
		return false, err
	}
	if c, ok := db.clients.Load(id); ok && c.(cachedClient).version == version {
		return c.(cachedClient).active, nil
	}
	var st string
	err = db.read.queryRow(ctx, `SELECT status FROM clients WHERE client_id = $1`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // not kept: a client added later needs no version bump to be seen
	}
	if err != nil {
		return false, fmt.Errorf("client %s: %w", id, err)
	}
	active := st == string(access.Active)
	db.clients.Store(id, cachedClient{version: version, active: active})
	return active, nil
}

type cachedClient struct {
	version int64
	active  bool
}

// Clients lists the clients of an organisation, or all when orgnr is "".
func (db *DB) Clients(ctx context.Context, orgnr string) ([]ClientInfo, error) {
	q, args := `SELECT client_id, orgnr, description, status FROM clients WHERE orgnr = $1 ORDER BY client_id`, []any{orgnr}
	if orgnr == "" {
		q, args = `SELECT client_id, orgnr, description, status FROM clients ORDER BY orgnr, client_id`, nil
	}
	rows, err := db.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []ClientInfo
	for rows.Next() {
		var c ClientInfo
		var st string
		if err := rows.Scan(&c.ID, &c.Orgnr, &c.Description, &st); err != nil {
			return nil, err
		}
		c.Active = st == string(access.Active)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Client loads a client with its parsed keys: the token server's ClientSource.
func (db *DB) Client(ctx context.Context, id string) (token.Client, error) {
	var (
		c  token.Client
		st string
	)
	err := db.read.queryRow(ctx, `SELECT client_id, orgnr, status FROM clients WHERE client_id = $1`, id).Scan(&c.ID, &c.Orgnr, &st)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("client %s: %w", id, token.ErrUnknownClient)
	}
	if err != nil {
		return c, fmt.Errorf("load client %s: %w", id, err)
	}
	c.Active = st == string(access.Active)
	rows, err := db.read.query(ctx, `SELECT kid, kind, material FROM client_keys WHERE client_id = $1 ORDER BY kid`, id)
	if err != nil {
		return c, fmt.Errorf("load client keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k ClientKey
		if err := rows.Scan(&k.KID, &k.Kind, &k.Material); err != nil {
			return c, err
		}
		pub, cert, err := parseClientKey(k)
		if err != nil {
			return c, fmt.Errorf("client %s key %s: %w", id, k.KID, err)
		}
		if cert != nil {
			c.Certificates = append(c.Certificates, cert)
		} else {
			c.Keys = append(c.Keys, pub)
		}
	}
	return c, rows.Err()
}

func parseClientKey(k ClientKey) (token.PublicKey, *x509.Certificate, error) {
	switch k.Kind {
	case KeyJWK:
		pub, err := token.ParsePublicJWK([]byte(k.Material))
		if err != nil {
			return pub, nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		return pub, nil, nil
	case KeyCertificate:
		// A bundle that also holds a private key is refused whole: it never reaches client_keys.
		certs, _, err := token.ParseCertificates([]byte(k.Material))
		if err != nil {
			return token.PublicKey{}, nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		// The token server takes RSA (2048 bits or more) and EC P-256 only; an Ed25519 certificate is refused here.
		if err := token.CheckKey(certs[0].PublicKey); err != nil {
			return token.PublicKey{}, nil, fmt.Errorf("%w: the certificate's key: %w", ErrBadKey, err)
		}
		return token.PublicKey{}, certs[0], nil
	}
	return token.PublicKey{}, nil, fmt.Errorf("%w: unknown key kind %q", ErrBadKey, k.Kind)
}

// JTIs is the token server's store of used assertion ids.
type JTIs struct{ db *DB }

// JTIs returns the store of used assertion ids.
func (db *DB) JTIs() JTIs { return JTIs{db} }

// Use records (clientID, jti) and refuses one seen before: an assertion is used once.
func (j JTIs) Use(ctx context.Context, clientID, jti string, exp time.Time) error {
	res, err := j.db.write.ExecContext(ctx, `INSERT INTO token_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		clientID, jti, micros(exp))
	if err != nil {
		return fmt.Errorf("record jti: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("client %s: %w", clientID, token.ErrReplay)
	}
	return nil
}

// PurgeJTIs forgets assertion ids that expired before t, when they can no longer be replayed.
func (db *DB) PurgeJTIs(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM token_jtis WHERE expires_at < $1`, micros(t))
	if err != nil {
		return 0, fmt.Errorf("purge jtis: %w", err)
	}
	return res.RowsAffected()
}

// SigningKeys loads the token server's signing keys, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]token.SigningKey, error) {
	rows, err := db.write.QueryContext(ctx, `SELECT kid, private_pem, created_at, retired_at FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	defer rows.Close()
	var out []token.SigningKey
	for rows.Next() {
		var (
			k       token.SigningKey
			pemText string
			created int64
			retired sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &pemText, &created, &retired); err != nil {
			return nil, err
		}
		k.PrivatePEM, k.Created, k.Retired = []byte(pemText), fromMicros(created), optTime(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RotateSigningKey stores a new signing key and retires every older one at the
// same moment; retired keys stay published for a grace period so that tokens
// already issued still verify.
func (db *DB) RotateSigningKey(ctx context.Context, k token.SigningKey, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL`, micros(k.Created)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)`,
			k.KID, string(k.PrivatePEM), micros(k.Created)); err != nil {
			return fmt.Errorf("store signing key: %w", err)
		}
		return db.appendEvent(ctx, tx, audit.KindSigningKeyRotated, "", actor, map[string]string{"kid": k.KID})
	})
}
