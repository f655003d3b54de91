package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"

	"deling/internal/access"
)

// The per-request access check: what a decision rests on, held in memory and
// checked against the access version (bumpAccess) on every call.
//
// The version lives in the database, so a change made by any process (a
// second API node on the same PostgreSQL, a `deling` command beside `deling
// serve` on SQLite) is seen by the very next request. Reading it is one
// single-row query instead of three. On SQLite it runs on connections of its
// own (versionPool): deling.db changes with every lookup-log commit, and
// SQLite then drops a reader's whole page cache and memory map; readers that
// hold nothing but the version row have next to nothing to drop.

type cachedInputs struct {
	version int64
	in      access.Inputs
}

// AccessInputs loads what a decision for a consumer rests on: the consumer (nil
// if it is none), its grants, and its delegations to processor (none when
// processor is ""). The result is cached for as long as the access version
// is unchanged: every change to consumers, grants and delegations bumps it in
// its own transaction, whichever process makes it, so a suspension or an
// ending still takes effect on the very next request. The caller must not
// change the slices.
func (db *DB) AccessInputs(ctx context.Context, consumer, processor string) (access.Inputs, error) {
	// Rule AA-25, AA-13: a suspension or an ended delegation stops the very next request, on every node.
	version, err := db.accessVersion(ctx)
	if err != nil {
		return access.Inputs{}, err
	}
	key := consumer + "|" + processor
	if c, ok := db.inputs.Load(key); ok && c.(cachedInputs).version == version {
		return c.(cachedInputs).in, nil
	}
	// Loaded after the version was read, on a snapshot at least as new: a change
	// in between is in the inputs already, and makes the next request reload.
	in, err := db.loadAccessInputs(ctx, consumer, processor)
	if err != nil {
		return in, err
	}
	db.inputs.Store(key, cachedInputs{version: version, in: in})
	return in, nil
}

// accessVersion reads the access version as committed now.
func (db *DB) accessVersion(ctx context.Context) (int64, error) {
	var version int64
	if err := db.version.queryRow(ctx, `SELECT version FROM access_version WHERE id = 1`).Scan(&version); err != nil {
		return 0, fmt.Errorf("access version: %w", err)
	}
	return version, nil
}

// openVersionPool opens SQLite readers of deling.db for accessVersion alone:
// no memory map and a page cache of a few pages, so that losing them to a log
// commit costs nothing.
func openVersionPool(dir string, conns int) (*pool, error) {
	p, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "deling.db")+
		"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=mmap_size(0)&_pragma=cache_size(-64)")
	if err != nil {
		return nil, fmt.Errorf("open access-version reader: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	return &pool{DB: p}, nil
}
