package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
	"deling/internal/store"
)

// Rule DPA-10: after an agreement ends, the processor is reminded before
// the deletion deadline, each reminder once; once overdue, the controller
// and the register's case workers are told; after the certificate, nobody.
func TestDeletionReminderJob(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctrl, proc := string(ident.SyntheticOrgnr(7001)), string(ident.SyntheticOrgnr(7002))
	people := map[string]store.DPAActor{}
	for _, u := range []struct{ email, org string }{{"kari@kommune.test", ctrl}, {"per@leverandor.test", proc}, {"sb@register.test", governance.AuthorityOrg}} {
		role := governance.Rolleinnehaver
		if u.org == governance.AuthorityOrg {
			role = governance.Saksbehandler
		}
		usr, err := db.CreateUser(ctx, governance.User{Email: u.email, Navn: u.email}, "x", []governance.Membership{{Org: u.org, Role: role}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		people[u.org] = store.DPAActor{UserID: usr.ID, Name: u.email}
	}
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	rules := store.DPARules{Env: register.EnvTest, Cat: cat}
	c := dpa.Content{Controller: dpa.Party{Orgnr: ctrl, Navn: "Kommune"}, Processor: dpa.Party{Orgnr: proc, Navn: "Leverandør"},
		MainAgreement: "Avtale", MainAgreementDate: "2026-01-01",
		ControllerContact: dpa.Contact{Navn: "Kari", Stilling: "Rådgiver", Epost: "kari@kommune.test"},
		ProcessorContact:  dpa.Contact{Navn: "Per", Stilling: "Leder", Epost: "per@leverandor.test"},
		Channels:          []access.Channel{access.ChannelAPI}, Packages: []string{"grunnopplysninger@1"}, BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: dpa.Annex1{Purpose: "Formål.", Nature: "Drift.", SubjectCategories: "Ansatte", DataTypes: "Arbeidsforhold", Locations: []string{"Norge"}},
		Annex2: dpa.Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS", Confidentiality: "Tilgang", Integrity: "Logg",
			Availability: "Backup", Resilience: "To sentre", Physical: "Lås", Other: "ikke relevant"}}
	a, err := db.NegotiateAgreement(ctx, rules, c, people[ctrl], people[proc])
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.StepAgreement(ctx, rules, a.ID, dpa.StepEnd, store.StepInput{Ending: &dpa.Ending{Reason: "Slutt.", Choice: dpa.ChoiceDelete}}, people[ctrl])
	if err != nil {
		t.Fatal(err)
	}
	due := rec.Ending.DeletionDue
	mails := func(org string) int {
		ms, err := db.MailTo(ctx, org, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	for _, c := range []struct {
		at               time.Time
		sent, proc, ctrl int
	}{
		{t0.Add(time.Hour), 0, 1, 0}, // the end's own notice
		{due.Add(-14*24*time.Hour + time.Minute), 1, 2, 0},
		{due.Add(-14*24*time.Hour + 2*time.Minute), 0, 2, 0}, // once
		{due.Add(-time.Hour), 1, 3, 0},                       // the 7-day one missed: only the latest
		{due.Add(time.Minute), 1, 3, 1},                      // overdue: the controller's contact, and the case worker apart
		{due.Add(time.Hour), 0, 3, 1},
	} {
		n, err := remindDeletions(ctx, db, dpa.DefaultDeletionReminders(), "https://deling.test", c.at)
		if err != nil {
			t.Fatal(err)
		}
		if n != c.sent || mails(proc) != c.proc || mails(ctrl) != c.ctrl {
			t.Fatalf("at %s: sent %d (want %d), processor %d (want %d), controller %d (want %d)", c.at, n, c.sent, mails(proc), c.proc, mails(ctrl), c.ctrl)
		}
	}
	// The case worker's copy is queued, but not among the controller's letters (its Brev page).
	ms, err := db.MailTo(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].To != "sb@register.test" {
		t.Fatalf("the case worker's copy: %+v", ms)
	}
	cms, err := db.MailTo(ctx, ctrl, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cms {
		if m.To == "sb@register.test" {
			t.Fatalf("the controller's letters show a case worker's address: %+v", m)
		}
	}
}

// The deletion reminder's note counts days in proper Norwegian (finding 14).
func TestDaysBefore(t *testing.T) {
	if got := daysBefore(1); got != "1 dag før fristen" {
		t.Errorf("daysBefore(1) = %q", got)
	}
	if got := daysBefore(7); got != "7 dager før fristen" {
		t.Errorf("daysBefore(7) = %q", got)
	}
}

// Rule SK-04: `delegation add` delegates under a signed agreement (by
// default all it covers, to its end), refuses one beyond the agreement's
// term in one English clause, and `delegation agreements` and `delegation
// list` show the agreement and what is delegated.
func TestDelegationAddCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctrl, proc := string(ident.SyntheticOrgnr(7011)), string(ident.SyntheticOrgnr(7012))
	if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: ctrl, Navn: "Kommune", Status: access.Active}, "test"); err != nil {
		t.Fatal(err)
	}
	people := map[string]store.DPAActor{}
	for _, org := range []string{ctrl, proc} {
		u, err := db.CreateUser(ctx, governance.User{Email: org + "@x.test", Navn: org}, "x", []governance.Membership{{Org: org, Role: governance.Rolleinnehaver}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		people[org] = store.DPAActor{UserID: u.ID, Name: org}
	}
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	validTo := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	c := dpa.Content{Controller: dpa.Party{Orgnr: ctrl, Navn: "Kommune"}, Processor: dpa.Party{Orgnr: proc, Navn: "Leverandør"},
		MainAgreement: "Avtale", MainAgreementDate: "2026-01-01", ValidTo: validTo,
		ControllerContact: dpa.Contact{Navn: "Kari", Stilling: "Rådgiver", Epost: "kari@kommune.test"},
		ProcessorContact:  dpa.Contact{Navn: "Per", Stilling: "Leder", Epost: "per@leverandor.test"},
		Channels:          []access.Channel{access.ChannelAPI}, Packages: []string{"grunnopplysninger@1"}, BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: dpa.Annex1{Purpose: "Formål.", Nature: "Drift.", SubjectCategories: "Ansatte", DataTypes: "Arbeidsforhold", Locations: []string{"Norge"}},
		Annex2: dpa.Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS", Confidentiality: "Tilgang", Integrity: "Logg",
			Availability: "Backup", Resilience: "To sentre", Physical: "Lås", Other: "ikke relevant"}}
	a, err := db.NegotiateAgreement(ctx, store.DPARules{Env: register.EnvTest, Cat: cat}, c, people[ctrl], people[proc])
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, stderr, err := runCmd(t, nil, "--data", dir, "delegation", "add", "--agreement", a.ID, "--valid-to", "2099-01-01")
	if err == nil || !strings.Contains(err.Error(), "beyond the agreement's term") || strings.Contains(err.Error(), "Databehandleravtalen") {
		t.Fatalf("a delegation beyond the term: %v %s", err, stderr)
	}
	out, stderr, err := runCmd(t, nil, "--data", dir, "delegation", "add", "--agreement", a.ID)
	if err != nil || !strings.Contains(out, proc+" may act for "+ctrl+" under agreement "+a.ID) {
		t.Fatalf("delegation add: %v %q %s", err, out, stderr)
	}
	if out, _, err = runCmd(t, nil, "--data", dir, "delegation", "agreements"); err != nil || !strings.Contains(out, a.ID) || !strings.Contains(out, validTo) {
		t.Fatalf("delegation agreements: %v %q", err, out)
	}
	out, _, err = runCmd(t, nil, "--data", dir, "delegation", "list", "--consumer", ctrl)
	if err != nil || !strings.Contains(out, a.ID) || !strings.Contains(out, "grunnopplysninger@1") || !strings.Contains(out, "active") {
		t.Fatalf("delegation list: %v %q", err, out)
	}
}
