package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"deling/internal/audit"
)

// The WAL stays bounded under constant writes: past maxWAL the checkpointer empties it.
func TestWALStaysBounded(t *testing.T) {
	defer func(old int64) { maxWAL = old }(maxWAL)
	maxWAL = 2 << 20
	dir := t.TempDir()
	db, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big := make([]byte, 4000)
	wal := filepath.Join(dir, "deling.db-wal")
	size := func() int64 {
		st, err := os.Stat(wal)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	var largest int64
	for i := 0; i < 3000; i++ {
		if err := db.Append(context.Background(), &audit.Record{Kind: audit.KindLookup, Response: big}); err != nil {
			t.Fatal(err)
		}
		largest = max(largest, size())
	}
	if largest <= maxWAL {
		t.Fatalf("the test wrote too little to pass maxWAL (largest WAL %d bytes)", largest)
	}
	// Within a few ticks of the writes the WAL is emptied.
	for deadline := time.Now().Add(10 * time.Second); size() > maxWAL; {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL is still %d MB after the writes (largest %d MB)", size()>>20, largest>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
