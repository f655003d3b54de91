package post

import (
	"strings"
	"testing"
	"time"
)

func TestIdempotency(t *testing.T) {
	a := `{"correspondence":{"resourceId":"dpv-administrasjon","sendersReference":"r","content":{"messageTitle":"T","messageBody":"B"},
	  "dueDateTime":"2026-04-01T14:00:00+02:00"},"recipients":["0192:` + string(orgA) + `"],"idempotentKey":"3f2504e0-4f89-11d3-9a0c-0305e82c3301"}`
	// The same request spaced, ordered and zoned differently, with another key.
	b := `{"idempotentKey":"11111111-4f89-11d3-9a0c-0305e82c3301", "recipients":[ "0192:` + string(orgA) + `" ],
	  "correspondence":{"dueDateTime":"2026-04-01T12:00:00Z","content":{"messageBody":"B","messageTitle":"T","language":"nb"},"sendersReference":"r","resourceId":"dpv-administrasjon"}}`
	c := strings.Replace(a, `"messageBody":"B"`, `"messageBody":"C"`, 1)
	hash := func(s string) string {
		r, err := DecodeInitialize(strings.NewReader(s), 0)
		if err != nil {
			t.Fatal(err)
		}
		r.Normalize()
		return ContentHash(r)
	}
	ha, hb, hc := hash(a), hash(b), hash(c)
	if ha != hb {
		t.Error("same content hashes differently")
	}
	if ha == hc {
		t.Error("different content hashes alike")
	}
	stored := &Idempotency{Key: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", Hash: ha, CorrespondenceID: "x", FirstUsed: time.Now()}
	for _, tc := range []struct {
		name string
		prev *Idempotency
		hash string
		want IdempotencyOutcome
	}{
		{"unused key", nil, ha, IdemNew},
		{"same content", stored, hb, IdemReplay},
		{"different content", stored, hc, IdemConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, p := CheckIdempotency(tc.prev, tc.hash)
			if got != tc.want || (got == IdemConflict) != (p != nil) {
				t.Fatalf("outcome = %v, %v; want %v", got, p, tc.want)
			}
			if p != nil && (p.Code != CodeDuplicateIdempotentKey || p.Status != 409) {
				t.Errorf("conflict = %+v", p)
			}
		})
	}
}
