package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
)

// BenchmarkVerify100k verifies a SQLite log of 100,000 version-2 lookups,
// each returning two persons and naming one more in its request.
func BenchmarkVerify100k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: b.TempDir(), Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n, batch = 100_000, 2000
	for i := 0; i < n; i += batch {
		entries := make([]audit.Entry, batch)
		for j := range entries {
			k := i + j
			e, err := audit.NewEntry(&audit.Record{ID: fmt.Sprint(k), Time: fixedNow(), Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit,
				Request:  []byte(fmt.Sprintf(`{"arbeidsstedId":"910000001","ident":"0303%07d"}`, k)),
				Returned: []string{fmt.Sprintf("0101%07d", k%5000), fmt.Sprintf("0202%07d", k%7000)}, ResultCount: 2})
			if err != nil {
				b.Fatal(err)
			}
			entries[j] = e
		}
		if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.appendEntries(ctx, tx, entries) }); err != nil {
			b.Fatal(err)
		}
	}
	skey, vkey, _ := audit.NewKey("test.deling/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	if _, err := db.Integrate(ctx); err != nil {
		b.Fatal(err)
	}
	size, root, _ := db.LogRoot(ctx)
	signed, _ := audit.Checkpoint{Origin: "test.deling/log", Size: size, Root: root}.Sign(s)
	db.AddCheckpoint(ctx, size, root, signed)
	b.ResetTimer()
	for range b.N {
		rep, err := verifyLog(ctx, db, v)
		if err != nil || !rep.OK() || rep.Records != n {
			b.Fatalf("%v %+v", err, rep.Counts)
		}
	}
}
