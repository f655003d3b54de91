package tmpldir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"deling/internal/tmpldir"
)

func TestNewCopiesThePreparedFiles(t *testing.T) {
	runs := 0
	prepare := func(dir string) error {
		runs++
		return os.WriteFile(filepath.Join(dir, "a.db"), []byte("schema"), 0o600)
	}
	a := tmpldir.New(t, t.Name(), prepare)
	b := tmpldir.New(t, t.Name(), prepare)
	if a == b {
		t.Fatalf("two copies share the directory %s", a)
	}
	if runs != 1 {
		t.Fatalf("prepare ran %d times, want 1", runs)
	}
	// A change to one copy reaches neither the other nor later copies.
	if err := os.WriteFile(filepath.Join(a, "a.db"), []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{b, tmpldir.New(t, t.Name(), prepare)} {
		got, err := os.ReadFile(filepath.Join(dir, "a.db"))
		if err != nil || string(got) != "schema" {
			t.Fatalf("copy in %s holds %q, %v; want %q", dir, got, err, "schema")
		}
	}
}

func TestNewRefusesSubdirectories(t *testing.T) {
	ft := &fatalT{TB: t}
	func() {
		defer func() { recover() }()
		tmpldir.New(ft, t.Name(), func(dir string) error { return os.Mkdir(filepath.Join(dir, "sub"), 0o700) })
	}()
	if !ft.failed {
		t.Fatal("a template with a subdirectory was accepted")
	}
}

func TestNewFailsWithPrepare(t *testing.T) {
	ft := &fatalT{TB: t}
	func() {
		defer func() { recover() }()
		tmpldir.New(ft, t.Name(), func(string) error { return errors.New("migration failed") })
	}()
	if !ft.failed {
		t.Fatal("a failed prepare did not fail the test")
	}
}

// fatalT records Fatalf instead of ending the test, so a test can check that New fails.
type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fatalT) Helper()               {}
