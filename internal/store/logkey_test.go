package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Every node on one database signs the lookup log's checkpoints with one key
// (issue 15): the first start records it, a node with another key is refused
// and the recorded key stays.
func TestPinLogKey(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const k1, k2 = "deling.test/log+0a1b2c3d+AAAA", "deling.test/log+4e5f6a7b+BBBB"
		if k, err := one.LogKey(ctx); err != nil || k != "" {
			t.Fatalf("a new database has key %q: %v", k, err)
		}
		if err := one.PinLogKey(ctx, k1); err != nil {
			t.Fatal(err)
		}
		if err := two.PinLogKey(ctx, k1); err != nil {
			t.Fatalf("the same key on the second node: %v", err)
		}
		for _, other := range []string{k2, ""} {
			if err := two.PinLogKey(ctx, other); !errors.Is(err, ErrConflict) || (other != "" && !strings.Contains(err.Error(), k1)) {
				t.Fatalf("another key %q was taken: %v", other, err)
			}
		}
		if k, err := one.LogKey(ctx); err != nil || k != k1 {
			t.Fatalf("recorded key %q, want %q: %v", k, k1, err)
		}
	})
}
