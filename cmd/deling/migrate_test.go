package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
	"deling/internal/store"
)

// `deling migrate down --to 31` is the rollback of migration 00032, on both
// engines (docs/OPERATIONS.md, "Upgrading"): the records packed by this
// release are plain again, each with its id, erased ones too, and the leaf
// hash the code of version 31 computes over the record column (it hashes
// the column as it is) is each record's leaf: the old release reads the log
// as intact. Nothing below version 31 is taken. Any later command migrates
// up again, and the log verifies (Rule AA-16).
func TestMigrateDown(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			cfg := store.Config{DataDir: t.TempDir()}
			args := []string{"--data", cfg.DataDir}
			if engine == "postgres" {
				cfg.URL = postgresDSN(t, "runs a PostgreSQL of its own")
				args = []string{"--db", cfg.URL}
			}
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 25 {
				if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit,
					Returned: []string{fmt.Sprintf("0101010%04d", i)}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Integrate(ctx); err != nil {
				t.Fatal(err)
			}
			recs, err := db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 100})
			if err != nil || len(recs) != 25 {
				t.Fatalf("records: %d, %v", len(recs), err)
			}
			db.Close()

			if _, _, err := runCmd(t, nil, append([]string{"migrate", "down", "--to", "30"}, args...)...); err == nil || !strings.Contains(err.Error(), "version 31 at the lowest") {
				t.Fatalf("down to 30: %v", err)
			}
			out, _, err := runCmd(t, nil, append([]string{"migrate", "down", "--to", "31"}, args...)...)
			if err != nil || !strings.Contains(out, "version 31, was 32") {
				t.Fatalf("down to 31: %v %q", err, out)
			}

			raw := rawDB(t, cfg)
			rows, err := raw.QueryContext(ctx, `SELECT seq, id, salt, record FROM audit_log ORDER BY seq`)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var (
					seq          int64
					id           string
					salt, record []byte
				)
				if err := rows.Scan(&seq, &id, &salt, &record); err != nil {
					t.Fatal(err)
				}
				r := recs[seq]
				var rec struct{ ID string }
				if !bytes.Equal(record, r.Canonical) || json.Unmarshal(record, &rec) != nil || id == "" || id != rec.ID {
					t.Fatalf("record %d after the down migration: id %q, %.40q", seq, id, record)
				}
				if !bytes.Equal(audit.LeafHash(salt, record), audit.LeafHash(r.Salt, r.Canonical)) {
					t.Fatalf("record %d: the leaf version 31 computes is not its leaf", seq)
				}
				n++
			}
			rows.Close()
			if n != 25 {
				t.Fatalf("%d records after the down migration", n)
			}
			raw.Close()

			// Up again, as any command of this release does: the log verifies.
			db, err = store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, vkey, _ := audit.NewKey("test.deling/log")
			v, _ := note.NewVerifier(vkey)
			snap, err := db.LogSnapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			if rep, err := audit.Verify(ctx, snap, v, nil); err != nil || !rep.OK() || rep.Records != 25 {
				t.Fatalf("verify after down and up: %+v %v", rep, err)
			}
		})
	}
}

// rawDB is deling.db opened with database/sql alone, as a release before
// this one would read it.
func rawDB(t *testing.T, cfg store.Config) *sql.DB {
	t.Helper()
	var (
		raw *sql.DB
		err error
	)
	if cfg.URL != "" {
		raw, err = sql.Open("pgx", cfg.URL)
	} else {
		raw, err = sql.Open("sqlite", filepath.Join(cfg.DataDir, "deling.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
