package main

import (
	"strings"
	"testing"
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
