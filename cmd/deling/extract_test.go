package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/extract"
	"deling/internal/register"
	"deling/internal/store"
)

func TestExtractOptions(t *testing.T) {
	var o extractOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o.bind(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if o.resultDir("/data") != filepath.Join("/data", "extracts") || o.ttl() != 7*24*time.Hour || o.batchSize != 10_000 || o.workers != 1 {
		t.Fatalf("defaults: %+v, dir %s", o, o.resultDir("/data"))
	}
	if jobs := extractJobs(nil, nil, o, "/data"); len(jobs) != 2 {
		t.Fatalf("default jobs: %d, want a worker and the expiry", len(jobs))
	}
	o = extractOptions{}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	o.bind(fs)
	if err := fs.Parse([]string{"--extract-dir", "/x", "--extract-ttl", "1h", "--extract-batch-size", "5", "--extract-workers", "3"}); err != nil {
		t.Fatal(err)
	}
	if o.resultDir("/data") != "/x" || o.ttl() != time.Hour || o.batchSize != 5 {
		t.Fatalf("flags: %+v", o)
	}
	if jobs := extractJobs(nil, nil, o, "/data"); len(jobs) != 4 {
		t.Fatalf("jobs: %d, want 3 workers and the expiry", len(jobs))
	}
}

// The serve jobs run a queued extract with the flags' batch size into DATA/extracts.
func TestExtractJobsRun(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := seedPopulation(ctx, db, register.PopulationConfig{Persons: 80, Seed: 2, AsOf: register.Date(time.Now().Format(time.DateOnly))}, io.Discard); err != nil {
		t.Fatal(err)
	}
	const org = "310000001"
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: org, Navn: "Etat", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	pkgs := []string{"grunnopplysninger@1"}
	if _, err := db.AddGrant(ctx, access.Grant{Consumer: org, Packages: pkgs, Channel: access.ChannelExtract, Env: register.EnvTest,
		LegalBasis: "§ 10", ProcessingBasis: "art. 6 e", Purpose: "kontroll", QueryKinds: []access.QueryKind{access.ByArbeidstaker},
		ValidFrom: time.Now().Add(-time.Hour), Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	persons, err := db.SampleArbeidstakere(ctx, "", 30)
	if err != nil || len(persons) == 0 {
		t.Fatalf("sample: %v", err)
	}
	cat, _ := access.ParseCatalogue(access.DefaultPackages())
	p, _ := cat.Resolve(pkgs[0])
	j, err := db.CreateExtract(ctx, extract.Job{Consumer: org, Env: register.EnvTest, Kind: access.ByArbeidstaker, Format: extract.FormatJSONL,
		Query: extract.Query{Units: persons}, Packages: []access.Package{p}}, extract.MaxActive, nil)
	if err != nil {
		t.Fatal(err)
	}
	var o extractOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o.bind(fs)
	fs.Parse([]string{"--extract-batch-size", "4"})
	jobs := extractJobs(db, slog.New(slog.NewTextHandler(io.Discard, nil)), o, data)
	if err := jobs[0].Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Extract(ctx, j.ID)
	if err != nil || got.Status != extract.StatusDone || got.Batches != int((got.Written+3)/4) || got.Written == 0 {
		t.Fatalf("job: %+v %v", got, err)
	}
	last, err := db.ExtractBatchInfo(ctx, j.ID, got.Batches-1)
	if err != nil {
		t.Fatal(err)
	}
	file, ok := extract.CommittedFile(filepath.Join(data, "extracts"), j.ID, got.Batches-1, extract.FormatJSONL, last.File)
	if !ok {
		t.Fatalf("batch file name %q", last.File)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	if err := jobs[len(jobs)-1].Run(ctx); err != nil {
		t.Fatalf("expiry job: %v", err)
	}
}
