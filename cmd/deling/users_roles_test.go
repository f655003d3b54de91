package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/store"
)

// Rule DPV-03: the register's staff records a portal account's roles in
// Enhetsregisteret, each code once; an unknown role code is refused and
// changes nothing; user list shows the codes recorded.
func TestUserRoles_DPV03(t *testing.T) {
	dir := t.TempDir()
	org := string(ident.SyntheticOrgnr(7_777_701))
	if _, stderr, err := runCmd(t, nil, "--data", dir, "user", "add", "--email", "kari@example.no", "--navn", "Kari", "--role", "oppslagsbruker", "--org", org); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	stdout, stderr, err := runCmd(t, nil, "--data", dir, "user", "roles", "--email", "kari@example.no", "--org", org, "--codes", "dagl, LEDE,DAGL")
	if err != nil || !strings.Contains(stdout, "DAGL (Daglig leder), LEDE (Styrets leder)\n") || strings.Count(stdout, "DAGL") != 1 {
		t.Fatalf("user roles (each code once): %v %q %s", err, stdout, stderr)
	}
	if _, _, err := runCmd(t, nil, "--data", dir, "user", "roles", "--email", "kari@example.no", "--org", org, "--codes", "DAGL,SJEF"); err == nil || !strings.Contains(err.Error(), "SJEF") {
		t.Fatalf("an unknown code: %v", err)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := db.PostRoleCodes(context.Background(), ident.Orgnr(org))
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range codes {
		if !slices.Equal(cs, []post.RoleCode{"DAGL", "LEDE"}) {
			t.Fatalf("codes after the refusal: %v", cs)
		}
	}
	if len(codes) != 1 {
		t.Fatalf("codes: %v", codes)
	}
	// The list shows what is recorded (review finding 7); an empty --codes
	// records none.
	if stdout, _, err := runCmd(t, nil, "--data", dir, "user", "list", "--org", org); err != nil ||
		!strings.Contains(stdout, "ROLLEKODER") || !strings.Contains(stdout, "DAGL,LEDE") {
		t.Fatalf("user list: %v %q", err, stdout)
	}
	if stdout, _, err := runCmd(t, nil, "--data", dir, "user", "roles", "--email", "kari@example.no", "--org", org, "--codes", ""); err != nil ||
		!strings.Contains(stdout, ": none") {
		t.Fatalf("user roles --codes '': %v %q", err, stdout)
	}
	if stdout, _, err := runCmd(t, nil, "--data", dir, "user", "list", "--org", org); err != nil || strings.Contains(stdout, "DAGL") {
		t.Fatalf("user list after none was recorded: %v %q", err, stdout)
	}
}
