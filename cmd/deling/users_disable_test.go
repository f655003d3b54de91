package main

import (
	"context"
	"strings"
	"testing"

	"deling/internal/store"
)

// Issue 16, item 5: refusing to disable the register's last forvalter, the
// CLI says what to do.
func TestUserDisableLastForvalter(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := runCmd(t, nil, "--data", dir, "user", "add", "--email", "f@example.no", "--navn", "F", "--role", "forvalter"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	_, _, err := runCmd(t, nil, "--data", dir, "user", "disable", "--email", "f@example.no")
	if err == nil || !strings.Contains(err.Error(), "give another account the forvalter role first") {
		t.Fatalf("disable the last forvalter: %v", err)
	}
}

// A password user add makes and prints is the operator's choice, not the
// owner's: it is changed at the first sign-in; one given on standard input is not.
func TestUserAddMustChangePassword(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := runCmd(t, nil, "--data", dir, "user", "add", "--email", "a@example.no", "--navn", "A", "--role", "saksbehandler"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	if _, stderr, err := runCmd(t, strings.NewReader("en lang og hemmelig setning\n"), "--data", dir, "user", "add", "--email", "b@example.no", "--navn", "B", "--role", "saksbehandler", "--password-stdin"); err != nil {
		t.Fatalf("user add --password-stdin: %v %s", err, stderr)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, _, _ := db.UserByEmail(context.Background(), "a@example.no")
	b, _, _ := db.UserByEmail(context.Background(), "b@example.no")
	if !a.MustChangePassword || b.MustChangePassword {
		t.Fatalf("must change: printed %v, from standard input %v", a.MustChangePassword, b.MustChangePassword)
	}
}
