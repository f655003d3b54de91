package store

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"deling/internal/governance"
)

// lifeRuneError is a reader failing with a long message of 'ø's (two bytes each), after prefix.
type lifeRuneError string

func (e lifeRuneError) Read([]byte) (int, error) {
	return 0, errors.New(string(e) + strings.Repeat("ø", 400))
}

var _ io.Reader = lifeRuneError("")

// A long error message is cut on a character boundary: PostgreSQL refuses
// invalid UTF-8, and the failed import or the delivery attempt would go unrecorded.
func TestMailAndImportErrorsCutOnRuneBoundary(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for _, prefix := range []string{"", "x"} { // one of them puts byte 500 inside an 'ø'
			if err := db.QueueMail(ctx, governance.Letter{To: prefix + "a@b.test", Subject: "s", Body: "b"}); err != nil {
				t.Fatal(err)
			}
			ms := lifeMail(t, db, prefix+"a@b.test")
			if err := db.MarkMail(ctx, ms[0].ID, errors.New(prefix+strings.Repeat("ø", 400))); err != nil {
				t.Fatalf("mark mail (prefix %q): %v", prefix, err)
			}
			ms = lifeMail(t, db, prefix+"a@b.test")
			if ms[0].Attempts != 1 || !utf8.ValidString(ms[0].LastError) || len(ms[0].LastError) > 500 || len(ms[0].LastError) < 498 {
				t.Fatalf("prefix %q: attempts %d, last error of %d bytes, valid %v", prefix, ms[0].Attempts, len(ms[0].LastError), utf8.ValidString(ms[0].LastError))
			}

			if _, err := db.ImportEnhetsregisteret(ctx, lifeRuneError(prefix), "feil", "test"); err == nil || strings.Contains(err.Error(), "record the import") {
				t.Fatalf("import (prefix %q): %v", prefix, err)
			}
		}
		runs, err := db.EnhetsregisteretRuns(ctx, 10)
		if err != nil || len(runs) != 2 {
			t.Fatalf("runs %d %v", len(runs), err)
		}
		for _, r := range runs {
			if !utf8.ValidString(r.Error) || len(r.Error) > 500 || !strings.HasSuffix(r.Error, "ø") {
				t.Fatalf("run error of %d bytes, valid %v", len(r.Error), utf8.ValidString(r.Error))
			}
		}
	})
}

func TestTruncateMailError(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aøb", 2, "a"},
		{"aøb", 3, "aø"},
		{"øøø", 5, "øø"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"ø", 1, ""},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
