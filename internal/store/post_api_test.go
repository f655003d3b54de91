package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/post"
)

// The API review of issue 14: store-side fixes, each on both engines.

// quotaRefusalLetters are the pending letters telling of a refusal beyond the free volume.
func quotaRefusalLetters(t *testing.T, db *DB) []governance.Letter {
	t.Helper()
	mails, err := db.PendingMail(context.Background(), 100, 5)
	if err != nil {
		t.Fatal(err)
	}
	var out []governance.Letter
	for _, m := range mails {
		if strings.Contains(m.Subject, "avvist") {
			out = append(out, m)
		}
	}
	return out
}

// Rule DPV-10: a sender refused beyond its free volume is told, and the
// notice survives the refused (rolled back) request; once a year, not once
// a try.
func TestPostQuotaRefusalNoticeSurvives_DPV10(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		rules := post.QuotaRules{FreePerYear: 2, NoticeAt: 0}
		registerSender(t, db, postSenderFor(postSenderOrg))
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("a", postRecipA, postRecipB), rules); err != nil {
			t.Fatal(err)
		}
		before := postEvents(t, db, postSenderOrg)
		for i := range 3 {
			if _, err := initPost(t, db, self(postSenderOrg), postRequest("b", postRecipA), rules); problemCode(err) != post.CodeQuotaExceeded {
				t.Fatalf("try %d over the free volume: %v", i, err)
			}
		}
		if n := countCorrespondences(t, db); n != 2 {
			t.Fatalf("a refused request stored something: %d", n)
		}
		got := quotaRefusalLetters(t, db)
		if len(got) != 1 || got[0].To != "leder@example.no" || !strings.Contains(got[0].Body, "avvist") {
			t.Fatalf("refusal notices %+v, want one to the service lead", got)
		}
		if after := postEvents(t, db, postSenderOrg); after != before+1 {
			t.Fatalf("log events %d → %d, want the notice's one", before, after)
		}
		// The next year is a new period: a refusal there is told again.
		clock.t = time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
		rules.FreePerYear = 0
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("c", postRecipA), rules); problemCode(err) != post.CodeQuotaExceeded {
			t.Fatalf("next year: %v", err)
		}
		if got := quotaRefusalLetters(t, db); len(got) != 2 {
			t.Fatalf("%d refusal notices after a refusal in a new year, want 2", len(got))
		}
	})
}

// Rules DPV-09, DPV-10, DPV-11: a sender that leaves (its post deleted) and
// is registered again has no fresh free volume for the same year.
func TestPostQuotaSurvivesLeaving_DPV10(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		rules := post.QuotaRules{FreePerYear: 3, NoticeAt: 0}
		registerSender(t, db, postSenderFor(postSenderOrg))
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("a", postRecipA, postRecipB), rules); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PostSenderLeaves(ctx, postSenderOrg, "staff"); err != nil || n != 2 {
			t.Fatalf("leave: %d, %v", n, err)
		}
		clock.t = clock.t.Add(time.Hour)
		registerSender(t, db, postSenderFor(postSenderOrg))
		start, end := post.YearSpan(2026, oslo(t))
		if n, err := db.PostSent(ctx, postSenderOrg, start, end); err != nil || n != 2 {
			t.Fatalf("counted %d after registering again, %v; want the 2 sent before leaving", n, err)
		}
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("b", postRecipA, postRecipB), rules); problemCode(err) != post.CodeQuotaExceeded {
			t.Fatalf("2 + 2 of 3 after registering again: %v", err)
		}
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("c", postRecipA), rules); err != nil {
			t.Fatalf("2 + 1 of 3: %v", err)
		}
		// The next year starts afresh.
		clock.t = time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("d", postRecipA, postRecipB), rules); err != nil {
			t.Fatalf("a new year: %v", err)
		}
	})
}
