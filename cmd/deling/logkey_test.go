package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/audit"
	"deling/internal/register"
	"deling/internal/store"
)

// Nodes on one PostgreSQL sign the one lookup log with one key: the first
// node's key is recorded in the database; a node without the key file (which
// used to make a new key there silently) or with another key in
// $DELING_LOG_KEY is refused with what to do; a node given the first node's
// key starts.
func TestNodesShareLogKey(t *testing.T) {
	dsn := postgresDSN(t, "runs a PostgreSQL of its own")
	ctx := context.Background()
	start := func(dataDir string, getenv func(string) string) error {
		t.Helper()
		db, err := store.Open(ctx, store.Config{URL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		o := platformOptions{issuer: "http://127.0.0.1/", rateBlockFor: time.Minute, tokenLifetime: 2 * time.Minute, logMinRetention: DefaultLogMinRetention}
		p, err := buildPlatform(pctx, db, register.EnvTest, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(), o, getenv, dataDir)
		if err != nil {
			return err
		}
		p.stopLeading()
		<-p.leader.Done()
		return nil
	}
	first := t.TempDir()
	if err := start(first, noEnv); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(first, "lookup-log.key"))
	if err != nil {
		t.Fatal(err)
	}

	second := t.TempDir()
	if err := start(second, noEnv); err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "$DELING_LOG_KEY") {
		t.Fatalf("a node without the key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(second, "lookup-log.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new key was made beside the refusal: %v", err)
	}
	other, _, err := audit.NewKey(DefaultLogOrigin)
	if err != nil {
		t.Fatal(err)
	}
	withKey := func(k string) func(string) string {
		return func(name string) string {
			if name == "DELING_LOG_KEY" {
				return k
			}
			return ""
		}
	}
	if err := start(second, withKey(other)); err == nil || !strings.Contains(err.Error(), "first node's key") {
		t.Fatalf("a node with another key: %v", err)
	}
	if err := start(second, withKey(string(key))); err != nil {
		t.Fatalf("a node with the first node's key: %v", err)
	}
}
