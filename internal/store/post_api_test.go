package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/pgtest"
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

// Rules DPV-04, DPV-05 and research §1.7, §1.8: with other senders' rows
// under the same references in the tables, bulk status and the sender's
// listing answer the caller's own (as actual sender, and as technical
// sender under a delegation) and no other's; a technical sender finds by
// idempotentKey what it sent on another's behalf.
func TestPostSenderQueriesAmongOthers_DPV05(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		seedOtherSenders(t, db, 200)
		mine := seedBulk(t, db, postSenderOrg, 5)
		registerSender(t, db, postSenderFor(postSenderOrg))
		if err := db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: postSenderOrg, Technical: postVendorOrg, From: clock.t.Add(-time.Minute)}, "staff"); err != nil {
			t.Fatal(err)
		}
		key := "0b6f2b3e-5a8f-4c1e-9d3a-1f2e3d4c5b6a"
		req := postRequest("ref-1", postRecipA)
		req.IdempotentKey = &key
		onBehalf, err := initPost(t, db, post.Origin{Technical: postVendorOrg, Actual: postSenderOrg}, req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		vendorID := onBehalf.Correspondences[0].ID
		// The sender: its five and the one sent on its behalf, nothing of the others' 200 under the same references.
		resp, err := db.BulkStatus(ctx, postSenderOrg, mine)
		if err != nil || len(resp.Correspondences) != 6 {
			t.Fatalf("the sender's bulk status: %d, %v; want 6", len(resp.Correspondences), err)
		}
		for _, c := range resp.Correspondences {
			if len(c.StatusChanges) == 0 {
				t.Fatalf("no history for %s", c.CorrespondenceID)
			}
		}
		ids, err := db.ListCorrespondences(ctx, postSenderOrg, post.ListQuery{Role: post.RoleSender})
		if err != nil || len(ids) != 6 {
			t.Fatalf("the sender's listing: %d, %v; want 6", len(ids), err)
		}
		// The vendor: only what it sent on the sender's behalf.
		resp, err = db.BulkStatus(ctx, postVendorOrg, mine)
		if err != nil || len(resp.Correspondences) != 1 || resp.Correspondences[0].CorrespondenceID != vendorID {
			t.Fatalf("the vendor's bulk status: %+v, %v", resp.Correspondences, err)
		}
		ids, err = db.ListCorrespondences(ctx, postVendorOrg, post.ListQuery{Role: post.RoleSender, IdempotentKey: key})
		if err != nil || !slices.Equal(ids, []string{vendorID}) {
			t.Fatalf("the vendor's lookup by idempotentKey: %v, %v", ids, err)
		}
		ids, err = db.ListCorrespondences(ctx, postSenderOrg, post.ListQuery{Role: post.RoleSender, IdempotentKey: key})
		if err != nil || !slices.Equal(ids, []string{vendorID}) {
			t.Fatalf("the sender's lookup by idempotentKey: %v, %v", ids, err)
		}
		// Another sender does not find it by the key.
		if ids, err := db.ListCorrespondences(ctx, ident.SyntheticOrgnr(300_000), post.ListQuery{Role: post.RoleSender, IdempotentKey: key}); err != nil || len(ids) != 0 {
			t.Fatalf("another sender's lookup by the key: %v, %v", ids, err)
		}
		// The recipient and sender role together: what it sent and what it got, once each.
		ids, err = db.ListCorrespondences(ctx, postRecipA, post.ListQuery{Role: post.RoleRecipientAndSender})
		if err != nil || !slices.Contains(ids, vendorID) || len(ids) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
			t.Fatalf("recipient and sender: %v, %v", ids, err)
		}
		// Once the delegation ended, the vendor sees none of it (Rule DPV-04).
		ended := clock.t
		if err := db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: postSenderOrg, Technical: postVendorOrg, From: clock.t.Add(-time.Minute), Until: &ended}, "staff"); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(time.Second)
		if resp, err := db.BulkStatus(ctx, postVendorOrg, mine); err != nil || len(resp.Correspondences) != 0 {
			t.Fatalf("the vendor after its delegation ended: %d, %v", len(resp.Correspondences), err)
		}
		if ids, err := db.ListCorrespondences(ctx, postVendorOrg, post.ListQuery{Role: post.RoleSender}); err != nil || len(ids) != 0 {
			t.Fatalf("the vendor's listing after its delegation ended: %v, %v", ids, err)
		}
	})
}

// Rule DPV-06: a CustomMessage's own subject and body are the notification
// e-mail's, and the reminder's its own; deling's line on where to read stays,
// and the sender's name begins the subject (review of post1, finding 2).
func TestPostCustomNotificationTexts_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("tekst", postRecipA)
		req.Correspondence.Notification = &post.NotificationRequest{NotificationTemplate: post.TemplateCustomMessage,
			NotificationChannel: post.ChannelEmail, EmailSubject: "Vedtak i sak 12", EmailBody: "Hei.\r\nDere har fått vedtak.",
			SendReminder: true, ReminderEmailSubject: "Husk vedtaket", ReminderEmailBody: "Vedtaket er ikke lest.",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "varsel@example.no"}}}
		// Review of post1, finding 2: the subject always begins with the sender's name.
		req.Correspondence.MessageSender = "Testkommune"
		if ps := req.Validate(clock.t, post.DefaultLimits()); len(ps) > 0 {
			t.Fatalf("a valid custom message refused: %v", ps)
		}
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(8 * 24 * time.Hour)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		mails, err := db.PendingMail(ctx, 100, 5)
		if err != nil || len(mails) != 2 {
			t.Fatalf("mails %+v, %v; want the notification and the reminder", mails, err)
		}
		if m := mails[0]; m.Subject != "Testkommune: Vedtak i sak 12" || !strings.HasPrefix(m.Body, "Hei.\nDere har fått vedtak.\n\n") || !strings.Contains(m.Body, "Logg inn i portalen") {
			t.Fatalf("notification %q / %q", m.Subject, m.Body)
		}
		if m := mails[1]; m.Subject != "Testkommune: Husk vedtaket" || !strings.HasPrefix(m.Body, "Vedtaket er ikke lest.") {
			t.Fatalf("reminder %q / %q", m.Subject, m.Body)
		}
	})
}

// Review of issue 14: what an interrupted upload left (a .part file on
// SQLite, staged chunks on PostgreSQL) is swept by the publishing job once
// it has not been written to for StagedUploadAge; an upload in progress is
// not. Review of post1: on SQLite the files are in a staging directory of
// their own (finding 8); on PostgreSQL staged chunks without a staged_at are
// swept too, and the sweep works under a non-C collation (finding 1).
func TestPostStagedUploadsSwept(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		if db.engine == Postgres {
			checkStagedChunksSwept(t, db, clock)
			return
		}
		ctx := context.Background()
		left, fresh := "a1b2", "c3d4"
		dir := filepath.Join(db.dir, "post-attachments", "staging")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, age := range map[string]time.Duration{left: 2 * time.Hour, fresh: 10 * time.Minute} {
			f := filepath.Join(dir, name+".123.part")
			if err := os.WriteFile(f, []byte("halvveis"), 0o600); err != nil {
				t.Fatal(err)
			}
			at := clock.t.Add(-age)
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, left+".123.part")); !os.IsNotExist(err) {
			t.Errorf("a .part file left 2 hours ago is still there: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, fresh+".123.part")); err != nil {
			t.Errorf("an upload in progress was swept: %v", err)
		}
	})
	t.Run("postgres-collated", func(t *testing.T) {
		if pg == nil {
			t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
		}
		dsn, err := pg.NewCollatedDatabase(context.Background())
		if errors.Is(err, pgtest.ErrNoLocale) {
			t.Skip(err)
		} else if err != nil {
			t.Fatal(err)
		}
		clock := &postClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		db, err := Open(context.Background(), Config{URL: dsn, Now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkStagedChunksSwept(t, db, clock)
	})
}

func checkStagedChunksSwept(t *testing.T, db *DB, clock *postClock) {
	t.Helper()
	ctx := context.Background()
	left, fresh, untimed := "a1b2", "c3d4", "e5f6"
	now := clock.t
	for name, age := range map[string]time.Duration{left: 2 * time.Hour, fresh: 10 * time.Minute, untimed: 0} {
		clock.t = now.Add(-age)
		if _, err := db.streamToChunks(ctx, stagingPrefix+name+".1", strings.NewReader("halvveis"), md5.New()); err != nil {
			t.Fatal(err)
		}
	}
	// As staged before staged_at was recorded.
	if _, err := db.write.ExecContext(ctx, `UPDATE post_attachment_chunks SET staged_at = NULL WHERE attachment = $1`, stagingPrefix+untimed+".1"); err != nil {
		t.Fatal(err)
	}
	clock.t = now
	if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
		t.Fatal(err)
	}
	var staged []string
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT attachment FROM post_attachment_chunks ORDER BY attachment`)
	if staged, err = scanIDs(rows, err); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(staged, []string{stagingPrefix + fresh + ".1"}) {
		t.Fatalf("staged chunks after the sweep: %v, want the upload in progress only", staged)
	}
}

// Rule DPV-05: bulk status reads by index, never by a scan of the
// correspondences or the histories, however many other senders' rows there
// are: SQLite's plans, which keep a CROSS JOIN's order, show it.
// (PostgreSQL's planner chooses by statistics; BenchmarkPostBulkStatus10000Among200k measures it.)
func TestPostBulkStatusPlan_DPV05(t *testing.T) {
	db, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{db.bulkQuery(), db.bulkHistoryQuery()} {
		rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, "a", "[]", 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN c") || strings.HasPrefix(step, "SCAN s") || strings.HasPrefix(step, "SCAN post_") {
				t.Errorf("a scan in the plan: %q\n%s", step, strings.Join(plan, "\n"))
			}
			// A search by sender alone reads all the sender's rows, for each reference.
			if strings.HasPrefix(step, "SEARCH c") && !strings.Contains(step, "senders_reference=?") {
				t.Errorf("not by reference: %q\n%s", step, strings.Join(plan, "\n"))
			}
		}
		if !strings.Contains(strings.Join(plan, "\n"), "USING INDEX") {
			t.Errorf("no index in the plan:\n%s", strings.Join(plan, "\n"))
		}
	}
}

// Review of post1, finding 8 (Rule DPV-06): a sweep that fails does not hold
// back the notifications; its error is returned after them for the job's log.
// (SQLite: the staging directory is a file, so it cannot be listed.)
func TestPostSweepErrorKeepsNotifications_DPV06(t *testing.T) {
	clock := &postClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	db, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	registerSender(t, db, postSenderFor(postSenderOrg))
	req := postRequest("feil", postRecipA)
	req.Correspondence.Notification = &post.NotificationRequest{NotificationTemplate: post.TemplateGenericAltinnMessage,
		CustomRecipients: []post.CustomRecipient{{EmailAddress: "varsel@example.no"}}}
	if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(db.dir, "post-attachments"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db.stagingDir(), []byte("ikke en mappe"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PublishDue(ctx, post.DefaultNotify()); err == nil || !strings.Contains(err.Error(), "sweep staged uploads") {
		t.Fatalf("PublishDue with an unreadable staging directory: %v, want the sweep's error", err)
	}
	mails, err := db.PendingMail(ctx, 100, 5)
	if err != nil || len(mails) != 1 || mails[0].To != "varsel@example.no" {
		t.Fatalf("mails %+v, %v; want the notification sent despite the sweep's error", mails, err)
	}
}

// Rule DPV-11 (review of post1, finding 6): a sender that leaves loses its
// idempotent keys with its post; registered again, reusing a key makes new post.
func TestPostLeavingForgetsIdempotentKeys_DPV11(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		key := "3f0c6a2e-8d4b-4f7a-9c1e-2b5d7e9f0a11"
		req := func() *post.InitializeRequest {
			r := postRequest("nøkkel", postRecipA)
			r.IdempotentKey = &key
			return r
		}
		if _, err := initPost(t, db, self(postSenderOrg), req(), post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PostSenderLeaves(ctx, postSenderOrg, "staff"); err != nil {
			t.Fatal(err)
		}
		var keys int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM post_idempotency`).Scan(&keys); err != nil || keys != 0 {
			t.Fatalf("%d idempotent keys left after the sender left, %v", keys, err)
		}
		clock.t = clock.t.Add(time.Hour)
		registerSender(t, db, postSenderFor(postSenderOrg))
		got, err := initPost(t, db, self(postSenderOrg), req(), post.DefaultQuota())
		if err != nil || len(got.Correspondences) != 1 {
			t.Fatalf("the key reused after registering again: %+v, %v", got, err)
		}
		if _, err := db.Correspondence(ctx, got.Correspondences[0].ID); err != nil {
			t.Fatalf("the new correspondence: %v", err)
		}
	})
}

// defaultLogger serialises the tests that set slog's default logger.
var defaultLogger sync.Mutex

// Rule DPV-10 (review of post1, finding 9): a refusal notice that cannot be
// stored is logged, without the sender's number or its service lead's address.
func TestPostRefusalNoticeFailureLogged_DPV10(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		// The default logger is global, and the engines' subtests run in
		// parallel: one at a time, or one's lines land in the other's buffer.
		defaultLogger.Lock()
		defer defaultLogger.Unlock()
		var logged bytes.Buffer
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
		defer slog.SetDefault(prev)
		registerSender(t, db, postSenderFor(postSenderOrg))
		// The notice's table gone: storing the notice fails.
		if _, err := db.write.ExecContext(context.Background(), `DROP TABLE post_quota_refusals`); err != nil {
			t.Fatal(err)
		}
		rules := post.QuotaRules{FreePerYear: 1, NoticeAt: 0.9}
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("a", postRecipA, postRecipB), rules); problemCode(err) != post.CodeQuotaExceeded {
			t.Fatalf("2 of 1: %v, want the refusal", err)
		}
		out := logged.String()
		if !strings.Contains(out, "notice of a refusal") {
			t.Fatalf("the failed notice was not logged: %q", out)
		}
		if strings.Contains(out, string(postSenderOrg)) || strings.Contains(out, "leder@example.no") {
			t.Fatalf("the log names the sender: %q", out)
		}
	})
}

// Rule DPV-06 (review of post1, finding 5): a custom text stored before the
// checks of today (here: one Validate never saw, with a link written with an
// ideographic full stop) is not sent; deling's own text is.
func TestPostStoredTextRechecked_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("gammel", postRecipA)
		req.Correspondence.Notification = &post.NotificationRequest{NotificationTemplate: post.TemplateCustomMessage,
			NotificationChannel: post.ChannelEmail, EmailSubject: "Viktig", EmailBody: "Logg inn på evil\u3002com/deling",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "varsel@example.no"}}}
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		mails, err := db.PendingMail(ctx, 100, 5)
		if err != nil || len(mails) != 1 {
			t.Fatalf("mails %+v, %v; want the notification", mails, err)
		}
		if m := mails[0]; strings.Contains(m.Body, "evil") || !strings.HasPrefix(m.Subject, "Ny digital post fra ") {
			t.Fatalf("notification %q / %q, want deling's own text", m.Subject, m.Body)
		}
	})
}
