package store

import (
	"context"
	"testing"
)

// Rule AV-02: a client stopped (or revoked) on one node is refused on the
// other node's very next request, though its status is cached there.
func TestClientActiveCacheSeesOtherNodes(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		if err := one.AddClient(ctx, ClientInfo{ID: "klient-1", Orgnr: "310000019", Keys: []ClientKey{testClientKey(t)}}, "test"); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second is answered from the cache
			if ok, err := two.ClientActive(ctx, "klient-1"); !ok || err != nil {
				t.Fatalf("node two before: %v %v", ok, err)
			}
		}
		if err := one.SetClientActive(ctx, "klient-1", false); err != nil {
			t.Fatal(err)
		}
		if ok, err := two.ClientActive(ctx, "klient-1"); ok || err != nil {
			t.Fatalf("node two after the stop: %v %v", ok, err)
		}
		if ok, _ := two.ClientActive(ctx, "finnes-ikke"); ok {
			t.Fatal("an unknown client is active")
		}
	})
}
