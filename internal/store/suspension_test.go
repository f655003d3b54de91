package store

import (
	"context"
	"errors"
	"testing"

	"deling/internal/access"
	"deling/internal/governance"
)

// Rule AA-25: a suspension and its written notice to every contact are one transaction.
func TestSuspendConsumer(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000021"
		lifeConsumer(t, db, org, "", "a@kommune.test", "b@kommune.test")
		letter := governance.Letter{Subject: "Tilgangen er suspendert", Body: "Brudd på vilkårene."}

		// If the letters cannot be stored, nothing is suspended.
		if _, err := db.write.ExecContext(ctx, `ALTER TABLE mail_outbox RENAME TO mail_outbox_away`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SuspendConsumer(ctx, org, "brukt data utenfor formålet", letter, "user:s"); err == nil {
			t.Fatal("suspended without a place for the letters")
		}
		if _, err := db.write.ExecContext(ctx, `ALTER TABLE mail_outbox_away RENAME TO mail_outbox`); err != nil {
			t.Fatal(err)
		}
		if d := lifeDecide(t, db, org, ""); !d.Permit {
			t.Fatalf("a failed suspension took effect: %v", d.Reason)
		}

		res, err := db.SuspendConsumer(ctx, org, "brukt data utenfor formålet", letter, "user:s")
		if err != nil {
			t.Fatal(err)
		}
		if res.Grants != 2 || res.Letters != 2 {
			t.Fatalf("result %+v", res)
		}
		if d := lifeDecide(t, db, org, ""); d.Permit || d.Reason != access.DenyGrantSuspended {
			t.Fatalf("after: %v %v", d.Permit, d.Reason)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		got := map[string]bool{}
		for _, m := range mails {
			if m.Kind != governance.LetterSuspension || m.Subject != letter.Subject {
				t.Fatalf("letter %+v", m)
			}
			got[m.To] = true
		}
		if !got["a@kommune.test"] || !got["b@kommune.test"] {
			t.Fatalf("letters to %v", got)
		}
		if n := len(lifeEvents(t, db, org, KindLetter)); n != 1 {
			t.Fatalf("%d letter events", n)
		}
		if _, err := db.SuspendConsumer(ctx, org, "igjen", letter, "user:s"); !errors.Is(err, ErrConflict) {
			t.Fatalf("suspending nothing: %v", err)
		}

		res, err = db.ResumeConsumer(ctx, org, governance.Letter{Subject: "Gjenopptatt", Body: "Tilgangen er gjenopptatt."}, "user:s")
		if err != nil {
			t.Fatal(err)
		}
		// Rule AA-25: the two suspended here resume; the one suspended before, for another reason, does not.
		if res.Grants != 2 || res.Letters != 2 {
			t.Fatalf("resume %+v", res)
		}
		if d := lifeDecide(t, db, org, ""); !d.Permit {
			t.Fatalf("after resume: %v", d.Reason)
		}
	})
}

// Rule AA-25: resuming a consumer resumes what the register suspended for a breach, not grants suspended for another reason.
func TestResumeOnlyRegisterSuspensions(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000071"
		grants := lifeConsumer(t, db, org, "", "a@kommune.test") // active, active, suspended
		if _, err := db.SetGrantStatus(ctx, grants[0].ID, access.Suspended, "suspendert av forvalter i CLI", "cli:ops"); err != nil {
			t.Fatal(err)
		}
		// Nothing suspended by the register: nothing to resume.
		if _, err := db.ResumeConsumer(ctx, org, governance.Letter{Subject: "Gjenopptatt"}, "user:s"); !errors.Is(err, ErrConflict) {
			t.Fatalf("resumed grants the register did not suspend: %v", err)
		}
		if _, err := db.SuspendConsumer(ctx, org, "brudd", governance.Letter{Subject: "Suspendert"}, "user:s"); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Grants(ctx, org)
		if !got[1].SuspendedBy(access.SuspendedByRegister) || got[0].SuspendedBy(access.SuspendedByRegister) || got[2].SuspendedBy(access.SuspendedByRegister) {
			t.Fatalf("suspended by the register: %+v", got)
		}
		res, err := db.ResumeConsumer(ctx, org, governance.Letter{Subject: "Gjenopptatt"}, "user:s")
		if err != nil || res.Grants != 1 {
			t.Fatalf("resume: %+v %v", res, err)
		}
		got, _ = db.Grants(ctx, org)
		want := []access.Status{access.Suspended, access.Active, access.Suspended}
		for i, g := range got {
			if g.Status != want[i] {
				t.Fatalf("grant %d: %s (%q), want %s", i, g.Status, g.StatusReason, want[i])
			}
		}
	})
}

// Migration 10 gives grants suspended before it their cause from the old
// prefix of the status reason (Rule AA-25), on both engines; the reason stays.
func TestMigrateSuspensionCause(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		p, err := db.migrations("migrations/main", "goose_db_version", db.write)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		rows := []struct{ id, status, reason string }{
			// The prefix the register wrote before migration 10 (ReasonSuspended has no rule ID since).
			{"g1", "suspended", "suspendert (AA-25): brudd på vilkår"},
			{"g2", "suspended", "suspendert av forvalter i CLI"},
			{"g3", "active", ""},
			{"g4", "ended", "suspendert (AA-25): brudd"},
			{"g5", "suspended", "Suspendert (AA-25): med stor S"},
		}
		for _, r := range rows {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO grants (id, consumer, packages, channel, env, legal_basis, processing_basis,
				purpose, query_kinds, valid_from, rate_limit, status, status_reason, created_at, updated_at)
				VALUES ($1, '310000091', 'p@1', 'api', 'test', 'l', 'b', 'f', 'arbeidstaker', 0, 0, $2, $3, 0, 0)`, r.id, r.status, r.reason); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]access.SuspensionCause{"g1": access.SuspendedByRegister, "g2": access.SuspendedByOperator, "g3": "", "g4": "", "g5": access.SuspendedByOperator}
		gs, err := db.Grants(ctx, "310000091")
		if err != nil || len(gs) != len(rows) {
			t.Fatalf("grants: %d, %v", len(gs), err)
		}
		for i, g := range gs {
			if g.Suspension != want[g.ID] || g.StatusReason != rows[i].reason {
				t.Errorf("grant %s: cause %q, reason %q; want %q, %q", g.ID, g.Suspension, g.StatusReason, want[g.ID], rows[i].reason)
			}
		}
		// And the register resumes what it suspended before the migration, only that.
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: "310000091", Navn: "Før", Status: access.Active}, "test"); err != nil {
			t.Fatal(err)
		}
		res, err := db.ResumeConsumer(ctx, "310000091", governance.Letter{To: "a@b.test", Subject: "Gjenopptatt"}, "test")
		if err != nil || res.Grants != 1 {
			t.Fatalf("resume: %+v %v", res, err)
		}
		if g, _ := db.Grant(ctx, "g1"); g.Status != access.Active || g.Suspension != "" {
			t.Fatalf("g1 after resuming: %s %q", g.Status, g.Suspension)
		}
	})
}
