package store

import (
	"bytes"
	"testing"
	"time"
)

// Sessions are found by their token, never stored under it, and end at their expiry.
func TestSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		s := db.Sessions()
		if err := s.Commit("token-1", []byte("data-1"), fixedNow().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("token-2", []byte("data-2"), fixedNow().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if b, ok, err := s.Find("token-1"); err != nil || !ok || !bytes.Equal(b, []byte("data-1")) {
			t.Fatalf("find: %q %v %v", b, ok, err)
		}
		if _, ok, _ := s.Find("token-2"); ok {
			t.Fatal("an expired session was found")
		}
		var n int
		if err := db.read.queryRow(t.Context(), `SELECT COUNT(*) FROM sessions WHERE token IN ('token-1', 'token-2')`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("tokens stored in the clear: %d (%v)", n, err)
		}
		if purged, err := db.PurgeSessions(t.Context()); err != nil || purged != 1 {
			t.Fatalf("purge: %d %v", purged, err)
		}
		if err := s.Delete("token-1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Find("token-1"); ok {
			t.Fatal("a deleted session was found")
		}
	})
}
