package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"deling/internal/audit"
)

// The WAL stays bounded under constant writes: the checkpointer copies it into
// the database and the writer starts it over, so it never holds more than a
// few seconds of writes.
func TestWALStaysBounded(t *testing.T) {
	defer func(old time.Duration) { walRestartEvery = old }(walRestartEvery)
	walRestartEvery = 200 * time.Millisecond
	dir := t.TempDir()
	db, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big := make([]byte, 4000)
	var largest, written int64
	for start := time.Now(); time.Since(start) < 4*time.Second; {
		if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Response: big}); err != nil {
			t.Fatal(err)
		}
		written += int64(len(big))
		if st, err := os.Stat(filepath.Join(dir, "deling.db-wal")); err == nil {
			largest = max(largest, st.Size())
		}
	}
	// Each commit writes whole pages, so a WAL that is never started over holds over 11 times
	// the records' bytes after four seconds (measured: 287 MB for 25 MB); one that is stays near them.
	if largest > written*4 {
		t.Fatalf("the WAL grew to %d MB for %d MB of records: it is not being started over", largest>>20, written>>20)
	}
}
