package store

import (
	"context"
	"testing"

	"deling/internal/register"
)

// BenchmarkUpsertArbeidsforhold writes chunks of 1,000 persons' arbeidsforhold to SQLite, as seed does.
func BenchmarkUpsertArbeidsforhold(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pop, _ := register.NewPopulation(register.PopulationConfig{Persons: 1_000_000, Seed: 1, AsOf: "2026-11-01"})
	next := 0
	rows := 0
	for b.Loop() {
		b.StopTimer()
		var afs []register.Arbeidsforhold
		var ps []register.Person
		for i := 0; i < 1000; i++ {
			p, a := pop.Person(next)
			next++
			afs = append(afs, a...)
			ps = append(ps, p)
		}
		rows += len(afs)
		b.StartTimer()
		if _, err := db.UpsertPersons(ctx, ps); err != nil {
			b.Fatal(err)
		}
		if _, err := db.UpsertArbeidsforhold(ctx, afs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "af/s")
}
