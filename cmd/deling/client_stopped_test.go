package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/token"
)

// Rule AV-02: `deling client add` refuses the key of a client stopped from
// a breach case with a clear error, and registers nothing; for another
// organisation the error names neither the stopped client nor its organisation.
func TestClientAddRefusesStoppedKey(t *testing.T) {
	dir := t.TempDir()
	orgnr := string(ident.SyntheticOrgnr(7_777_778))
	if _, stderr, err := runCmd(t, nil, "--data", dir, "consumer", "add", "--orgnr", orgnr, "--name", "Stansetaten"); err != nil {
		t.Fatalf("consumer add: %v %s", err, stderr)
	}
	_, _, jwk, err := token.NewClientKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	jwkFile := filepath.Join(dir, "public.jwk")
	if err := os.WriteFile(jwkFile, jwk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCmd(t, nil, "--data", dir, "client", "add", "--orgnr", orgnr, "--id", "stanset-1", "--jwk", jwkFile); err != nil {
		t.Fatalf("client add: %v %s", err, stderr)
	}
	// A case worker stops the client from a breach case.
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, err := db.ReportIncident(ctx, incident.Report{What: "Nøkkel på avveie", DiscoveredAt: now, ReportedAt: now,
		ReportedBy: incident.Actor{UserID: "u", Org: orgnr, Role: incident.Reporter, Name: "Rita"}}, "", nil, "user:u")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeIncident(ctx, id, 1, store.IncidentChange{Step: string(incident.StepAssess), Status: incident.StatusAssessing,
		Owner: "cw", AwareAt: now, StopClient: "stanset-1", StopClientOrgs: []string{orgnr}}, "user:cw"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, _, err = runCmd(t, nil, "--data", dir, "client", "add", "--orgnr", orgnr, "--id", "stanset-2", "--jwk", jwkFile)
	if err == nil || !errors.Is(err, store.ErrStoppedKey) || !strings.Contains(err.Error(), "make a new key") {
		t.Fatalf("the stopped key registered anew: %v", err)
	}
	// Another organisation with the same key: refused without naming the stopped client.
	other := string(ident.SyntheticOrgnr(7_777_779))
	if _, stderr, err := runCmd(t, nil, "--data", dir, "consumer", "add", "--orgnr", other, "--name", "Annenetaten"); err != nil {
		t.Fatalf("consumer add: %v %s", err, stderr)
	}
	_, stderr, err := runCmd(t, nil, "--data", dir, "client", "add", "--orgnr", other, "--id", "annen-1", "--jwk", jwkFile)
	if err == nil || !errors.Is(err, store.ErrKeyUnusable) || strings.Contains(err.Error()+stderr, "stanset-1") || strings.Contains(err.Error()+stderr, orgnr) {
		t.Fatalf("another organisation's key refusal: %v %s", err, stderr)
	}
	if out, _, err := runCmd(t, nil, "--data", dir, "client", "list", "--orgnr", orgnr); err != nil || !strings.Contains(out, "stanset-1") || strings.Contains(out, "stanset-2") {
		t.Fatalf("the clients after the refusal: %v\n%s", err, out)
	}
}
