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
// Enhetsregisteret; an unknown role code is refused and changes nothing.
func TestUserRoles_DPV03(t *testing.T) {
	dir := t.TempDir()
	org := string(ident.SyntheticOrgnr(7_777_701))
	if _, stderr, err := runCmd(t, nil, "--data", dir, "user", "add", "--email", "kari@example.no", "--navn", "Kari", "--role", "oppslagsbruker", "--org", org); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	stdout, stderr, err := runCmd(t, nil, "--data", dir, "user", "roles", "--email", "kari@example.no", "--org", org, "--codes", "dagl, LEDE")
	if err != nil || !strings.Contains(stdout, "DAGL (Daglig leder), LEDE (Styrets leder)") {
		t.Fatalf("user roles: %v %q %s", err, stdout, stderr)
	}
	if _, _, err := runCmd(t, nil, "--data", dir, "user", "roles", "--email", "kari@example.no", "--org", org, "--codes", "DAGL,SJEF"); err == nil || !strings.Contains(err.Error(), "SJEF") {
		t.Fatalf("an unknown code: %v", err)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	codes, err := db.PostRoleCodes(context.Background(), ident.Orgnr(org))
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
}
