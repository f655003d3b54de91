package post

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzInitialize: decoding and validating any input from outside never
// panics; what decodes re-encodes to something that decodes to the same
// content hash; and the body renders without raw HTML.
func FuzzInitialize(f *testing.F) {
	seed, _ := json.Marshal(validRequest())
	f.Add(seed)
	f.Add([]byte(`{"correspondence":{"content":{"messageBody":"<script>x</script>[a](javascript:b)"}},"recipients":["0192:1"]}`))
	f.Add([]byte(`{"correspondence":{"notification":{"notificationChannel":4,"customRecipients":[{}]}},"idempotentKey":"x"}`))
	f.Add([]byte(`{"recipients":null}`))
	f.Add([]byte(`[]`))
	r := NewRenderer()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeInitialize(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		req.Normalize()
		ps := req.Validate(at, DefaultLimits())
		for _, p := range ps {
			if p.Detail == "" || p.Melding == "" {
				t.Fatalf("problem without texts: %+v", p)
			}
		}
		h := ContentHash(req)
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeInitialize(bytes.NewReader(again), 1<<20)
		if err != nil {
			t.Fatalf("re-encoded request does not decode: %v\n%s", err, again)
		}
		back.Normalize()
		if ContentHash(back) != h {
			t.Fatalf("hash changed over a round trip:\n%s", again)
		}
		if len(ps) == 0 {
			html, err := r.Render(req.Correspondence.Content.MessageBody)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.ToLower(string(html)); strings.Contains(s, "<script") || strings.Contains(s, "javascript:") && strings.Contains(s, "href") {
				t.Fatalf("unsafe HTML from a valid body: %s", html)
			}
		}
	})
}

// FuzzBulkStatus: a bulk status body from outside never panics; what
// decodes and validates holds 1–BulkLimit distinct, non-empty references.
func FuzzBulkStatus(f *testing.F) {
	f.Add([]byte(`{"sendersReferences":["a","b","a"]}`))
	f.Add([]byte(`{"sendersReferences":[""]}`))
	f.Add([]byte(`{"sendersReferences":null}`))
	f.Add([]byte(`{"x":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeBulkStatus(bytes.NewReader(data))
		if err != nil {
			return
		}
		if ps := req.Validate(); ps != nil {
			return
		}
		seen := map[string]bool{}
		if n := len(req.SendersReferences); n == 0 || n > BulkLimit {
			t.Fatalf("%d references passed", n)
		}
		for _, s := range req.SendersReferences {
			if s == "" || seen[s] {
				t.Fatalf("empty or repeated reference %q passed", s)
			}
			seen[s] = true
		}
	})
}
