package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
)

// PostgreSQL's part of the store: the pool, and the locks that make several
// nodes on one database take turns where SQLite's single writer does so by
// itself. Everything else is shared with SQLite.

// isPostgresURL reports whether u names a PostgreSQL database.
func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// openPostgres opens the one pool that reads and writes everything on
// PostgreSQL, and checks that the server answers.
func openPostgres(ctx context.Context, rawURL string) (*pool, error) {
	// Parsed as a URL first: a password with an unencoded @ or : is then
	// what its writer meant (net/url splits the user part at the last @,
	// pgx at the first), and the URL handed on is encoded properly.
	connURL := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		connURL = u.String()
	}
	pg, err := sql.Open("pgx", connURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %s", redact(err.Error(), rawURL))
	}
	pg.SetMaxOpenConns(32)
	pg.SetMaxIdleConns(32)
	if err := pg.PingContext(ctx); err != nil {
		pg.Close()
		return nil, fmt.Errorf("PostgreSQL: %s", redact(oneLine(err), rawURL))
	}
	return &pool{DB: pg}, nil
}

// redact removes from msg every piece of the URL's user part that could be
// (part of) a password: the password as written and as encoded, and each
// fragment of the raw user part between @ and : — a driver that split it
// elsewhere names such a fragment as a host.
func redact(msg, rawURL string) string {
	var secrets []string
	username := ""
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	if q := strings.Index(rawURL, "?"); q >= 0 {
		if v, err := url.ParseQuery(rawURL[q+1:]); err == nil && v.Get("password") != "" {
			secrets = append(secrets, v.Get("password"))
		}
	}
	if rest, ok := strings.CutPrefix(rawURL, "postgres://"); ok || strings.HasPrefix(rawURL, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(rawURL, "postgresql://")
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user := rest[:at]
			if user != username {
				secrets = append(secrets, user)
			}
			for i, f := range strings.FieldsFunc(user, func(r rune) bool { return r == '@' || r == ':' }) {
				if i > 0 || f != username { // the user name is no secret, and says who tried
					secrets = append(secrets, f)
				}
			}
		}
	}
	// Longest first, so that a fragment does not spoil the whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if len(sec) >= 3 {
			msg = strings.ReplaceAll(msg, sec, "…")
		}
	}
	return msg
}

// oneLine is an error's message on one line: pgx lists every address it
// tried on a line of its own; the last line says why.
func oneLine(err error) string {
	msg := strings.TrimSpace(err.Error())
	lines := strings.Split(msg, "\n")
	if len(lines) == 1 {
		return msg
	}
	first := strings.TrimSuffix(strings.TrimSpace(lines[0]), ":")
	return first + ": " + strings.TrimSpace(lines[len(lines)-1])
}

// mustHoldSchema refuses a PostgreSQL database that deling's migrations have
// never run on (Config.Existing).
func (db *DB) mustHoldSchema(ctx context.Context) error {
	var ok bool
	if err := db.read.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&ok); err != nil {
		return fmt.Errorf("PostgreSQL: %s", oneLine(err))
	}
	if !ok {
		return fmt.Errorf("the PostgreSQL database holds no deling database (start 'deling serve --db URL' once to make it)")
	}
	return nil
}

// forUpdate is the SELECT q locking the rows it reads on PostgreSQL (of: only
// those of the given table aliases), so that concurrent transactions on other
// nodes wait for this one; on SQLite it is q as it is, since a write
// transaction there holds the whole database already.
func (db *DB) forUpdate(q string, of ...string) string {
	if db.engine != Postgres {
		return q
	}
	if len(of) > 0 {
		return q + ` FOR UPDATE OF ` + strings.Join(of, ", ")
	}
	return q + ` FOR UPDATE`
}

// takeTurns makes transactions passing the same key take turns until tx ends:
// a PostgreSQL advisory transaction lock, for a check that reads rows not yet
// there (a count before an insert). On SQLite it does nothing: its writer is
// one connection.
func (db *DB) takeTurns(ctx context.Context, tx *sql.Tx, key string) error {
	if db.engine != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, key)
	return err
}

// pgUniqueViolation reports whether err is PostgreSQL's UNIQUE or PRIMARY KEY constraint failing (SQLSTATE 23505).
func pgUniqueViolation(err error) (violation, isPG bool) {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505", true
	}
	return false, false
}
