package main

import (
	"context"
	"fmt"
	"io"

	"deling/internal/store"
)

// runMigrate is `deling migrate down --to N`: the rollback of a release's
// schema (docs/OPERATIONS.md, "Upgrading"). Every command migrates the
// database up when it opens it; going down is this command's alone, with
// every node and job stopped.
func runMigrate(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) error {
	return sub("migrate", args, stderr, map[string]func([]string) error{
		"down": func(args []string) error {
			fs := newFlagSet("migrate down", "migrate down --to VERSION", g, stderr)
			to := fs.Int64("to", 0, fmt.Sprintf("the schema version to go back to (at least %d: the release before the log's packed records)", store.MinDownVersion))
			if err := parse(fs, args); err != nil {
				return err
			}
			if *to == 0 {
				return fmt.Errorf("migrate down: --to VERSION is required (e.g. --to %d)", store.MinDownVersion)
			}
			if g.db == "" && g.data == "" {
				return fmt.Errorf("no --data directory and no --db URL")
			}
			db, err := store.Open(ctx, store.Config{URL: g.db, DataDir: g.data, Existing: true, KeepSchema: true})
			if err != nil {
				return err
			}
			defer db.Close()
			from, err := db.MigrateDown(ctx, *to)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "the database's schema (not the register's): version %d, was %d; run the release of version %d now (any deling command of this one migrates it up again)\n", *to, from, *to)
			return nil
		},
	}, map[string]string{"down": "--to N: take the schema back to version N, for a rollback (every node stopped)"})
}
