// Package tmpldir gives each test a fresh copy of a directory prepared once
// per test binary: a migrated SQLite database, say, which takes seconds to
// make (every migration is a synchronous commit) and milliseconds to copy.
// It is for tests only.
package tmpldir

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// template is the files of a prepared directory, kept in memory so that
// nothing outlives the test binary.
type template struct {
	once  sync.Once
	files map[string][]byte // name → content; prepare makes a flat directory
	err   error
}

var (
	mu        sync.Mutex
	templates = map[string]*template{}
)

// New returns a new t.TempDir holding a copy of the files prepare left in an
// empty directory. The first call for a key runs prepare; later calls copy
// its result. prepare must close every file it opened (a database must be
// closed, its write-ahead log folded in) and make no subdirectories. A failed
// prepare fails every test that asks for its key.
func New(t testing.TB, key string, prepare func(dir string) error) string {
	t.Helper()
	mu.Lock()
	tp := templates[key]
	if tp == nil {
		tp = &template{}
		templates[key] = tp
	}
	mu.Unlock()
	tp.once.Do(func() { tp.files, tp.err = load(prepare) })
	if tp.err != nil {
		t.Fatalf("tmpldir: template %q: %v", key, tp.err)
	}
	dir := t.TempDir()
	for name, b := range tp.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("tmpldir: %v", err)
		}
	}
	return dir
}

// load runs prepare in a temporary directory and reads what it left there.
func load(prepare func(dir string) error) (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "tmpldir-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := prepare(dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("prepare left %s, which is not a regular file", e.Name())
		}
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			return nil, err
		}
	}
	return files, nil
}
