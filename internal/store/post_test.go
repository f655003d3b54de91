package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/register"
)

var (
	postSenderOrg = ident.SyntheticOrgnr(7001)
	postVendorOrg = ident.SyntheticOrgnr(7002)
	postRecipA    = ident.SyntheticOrgnr(7003)
	postRecipB    = ident.SyntheticOrgnr(7004)
)

// postClock is a clock a test moves.
type postClock struct{ t time.Time }

func (c *postClock) now() time.Time { return c.t }

// eachPostEngine is eachEngine with a clock the test moves.
func eachPostEngine(t *testing.T, f func(t *testing.T, db *DB, clock *postClock)) {
	open := func(t *testing.T, cfg Config) {
		clock := &postClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		cfg.Now = clock.now
		db, err := Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db, clock)
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel() // each engine has its own database
		open(t, Config{DataDir: newSQLiteDir(t)})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if pg == nil {
			t.Skip("PostgreSQL is not installed (CI=true makes this a failure)")
		}
		open(t, Config{URL: newPostgres(t)})
	})
}

func oslo(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func postSenderFor(org ident.Orgnr) post.Sender {
	return post.Sender{Orgnr: org, Name: "Testkommune", RegisteredBy: "saksbehandler", Basis: "kommune",
		ServiceLead: post.Contact{Name: "Leder", Email: "leder@example.no", Phone: "+4790000000"},
		Shared:      &post.Contact{Email: "post@example.no", Phone: "+4790000001"},
		Categories:  post.Categories()}
}

func registerSender(t *testing.T, db *DB, s post.Sender) {
	t.Helper()
	if err := db.RegisterPostSender(context.Background(), s, "staff"); err != nil {
		t.Fatal(err)
	}
}

func postRequest(ref string, recipients ...ident.Orgnr) *post.InitializeRequest {
	r := &post.InitializeRequest{Correspondence: post.Correspondence{
		ResourceID: post.CatAdministration.ResourceID(), SendersReference: ref,
		Content: &post.Content{Language: "nb", MessageTitle: "Vedtak", MessageBody: "Hei."}}}
	for _, o := range recipients {
		r.Recipients = append(r.Recipients, post.RecipientURN(o))
	}
	return r
}

func initPost(t *testing.T, db *DB, origin post.Origin, req *post.InitializeRequest, rules post.QuotaRules) (PostInitialized, error) {
	t.Helper()
	return db.InitializeCorrespondences(context.Background(), PostInit{Origin: origin, Request: req, Quota: rules, Loc: oslo(t)}, "test")
}

// keyRoleHolder gives org a portal user with the role holder's role and DAGL
// recorded: a key role holder who reads confidential post (Rule DPV-03,
// post.PortalRoles).
func keyRoleHolder(t *testing.T, db *DB, org ident.Orgnr) governance.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), governance.User{Email: "leder-" + string(org) + "@example.no", Navn: "Daglig leder"}, "",
		[]governance.Membership{{Org: string(org), Role: governance.Rolleinnehaver}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPostRoleCodes(context.Background(), u.ID, org, []post.RoleCode{"DAGL"}, "staff"); err != nil {
		t.Fatal(err)
	}
	return u
}

// Rule DPV-03 (1044): confidential post is refused whole when a recipient
// has nobody with a key role; nothing is stored.
func TestPostConfidentialNeedsKeyRole_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		registerSender(t, db, postSenderFor(postSenderOrg))
		keyRoleHolder(t, db, postRecipA)
		req := postRequest("taus", postRecipA, postRecipB)
		req.Correspondence.IsConfidential = true
		_, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		var p *post.Problem
		if !errors.As(err, &p) || p.Code != post.CodeConfidentialNoKeyRole {
			t.Fatalf("to an organisation without a key role holder: %v", err)
		}
		if n, _ := db.PostSent(context.Background(), postSenderOrg, clock.t.Add(-time.Hour), clock.t.Add(time.Hour)); n != 0 {
			t.Fatalf("%d stored after the refusal", n)
		}
		keyRoleHolder(t, db, postRecipB)
		if got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil || len(got.Correspondences) != 2 {
			t.Fatalf("with key role holders in both: %+v %v", got, err)
		}
	})
}

func self(org ident.Orgnr) post.Origin { return post.Origin{Technical: org, Actual: org} }

func problemCode(err error) int {
	var p *post.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return -1
}

func countCorrespondences(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM post_correspondences`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func postEvents(t *testing.T, db *DB, org ident.Orgnr) int {
	t.Helper()
	recs, err := db.StoredRecords(context.Background(), RecordQuery{Consumer: string(org), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Record.Kind == audit.KindPost {
			n++
		}
	}
	return n
}

// Rules DPV-01, DPV-09, DPV-11: only a registered, complete sender sends;
// leaving deletes its post, with a record in the log.
func TestPostSenders_DPV01_DPV09_DPV11(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		// Rule DPV-01: an unregistered organisation is refused, nothing stored.
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("r1", postRecipA), post.DefaultQuota()); problemCode(err) != post.CodeSenderNotEligible {
			t.Fatalf("unregistered sender: %v, want %d", err, post.CodeSenderNotEligible)
		}
		// Rule DPV-09: a registration without deputy or shared address is refused.
		bad := postSenderFor(postSenderOrg)
		bad.Shared = nil
		if err := db.RegisterPostSender(ctx, bad, "staff"); !errors.Is(err, ErrConflict) {
			t.Fatalf("incomplete sender registered: %v", err)
		}
		if _, err := db.PostSender(ctx, postSenderOrg); !errors.Is(err, ErrNotFound) {
			t.Fatalf("incomplete sender stored: %v", err)
		}
		registerSender(t, db, postSenderFor(postSenderOrg))
		got, err := initPost(t, db, self(postSenderOrg), postRequest("r1", postRecipA, postRecipB), post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Correspondences) != 2 || got.Correspondences[1].Recipient != postRecipB {
			t.Fatalf("one correspondence per recipient: %+v", got.Correspondences)
		}
		if n := countCorrespondences(t, db); n != 2 {
			t.Fatalf("%d stored, want 2", n)
		}
		// Rule DPV-11: leaving deletes the archived post and logs the deletion.
		before := postEvents(t, db, postSenderOrg)
		n, err := db.PostSenderLeaves(ctx, postSenderOrg, "staff")
		if err != nil || n != 2 {
			t.Fatalf("leave: %d, %v", n, err)
		}
		if n := countCorrespondences(t, db); n != 0 {
			t.Fatalf("%d left after the sender left", n)
		}
		if after := postEvents(t, db, postSenderOrg); after != before+1 {
			t.Fatalf("log events %d → %d, want one more", before, after)
		}
		if _, err := db.Correspondence(ctx, got.Correspondences[0].ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted correspondence still found: %v", err)
		}
		clock.t = clock.t.Add(time.Hour)
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("r2", postRecipA), post.DefaultQuota()); problemCode(err) != post.CodeSenderNotEligible {
			t.Fatalf("a sender that left sends: %v", err)
		}
	})
}

// Rule DPV-10: the free volume a year is counted per correspondence; beyond
// it the request is refused whole unless a full agreement is in force.
func TestPostQuota_DPV10(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		rules := post.QuotaRules{FreePerYear: 3, NoticeAt: 0.9}
		registerSender(t, db, postSenderFor(postSenderOrg))
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("a", postRecipA, postRecipB), rules); err != nil {
			t.Fatal(err)
		}
		// The request that crossed the notice share (90 % of 3) told the service lead.
		mails, err := db.PendingMail(ctx, 10, 5)
		if err != nil || len(mails) != 1 || mails[0].To != "leder@example.no" {
			t.Fatalf("notice to the service lead: %+v, %v", mails, err)
		}
		_, err = initPost(t, db, self(postSenderOrg), postRequest("b", postRecipA, postRecipB), rules)
		if problemCode(err) != post.CodeQuotaExceeded {
			t.Fatalf("over the free volume: %v", err)
		}
		if n := countCorrespondences(t, db); n != 2 {
			t.Fatalf("a refused request stored something: %d", n)
		}
		if n, err := db.PostSent(ctx, postSenderOrg, clock.t.Add(-time.Hour), clock.t.Add(time.Hour)); err != nil || n != 2 {
			t.Fatalf("counted %d, %v", n, err)
		}
		s := postSenderFor(postSenderOrg)
		s.Agreement = &post.Agreement{Reference: "avtale-1", From: clock.t.Add(-time.Hour), RecordedBy: "staff"}
		registerSender(t, db, s)
		if _, err := initPost(t, db, self(postSenderOrg), postRequest("b", postRecipA, postRecipB), rules); err != nil {
			t.Fatalf("with a full agreement: %v", err)
		}
	})
}

// Research §1.7: the same key and content replays; other content is 1034.
func TestPostIdempotency(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		registerSender(t, db, postSenderFor(postSenderOrg))
		key := "0b6f2b3e-5a8f-4c1e-9d3a-1f2e3d4c5b6a"
		req := postRequest("k", postRecipA)
		req.IdempotentKey = &key
		first, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		again, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil || !again.Replay || again.Correspondences[0].ID != first.Correspondences[0].ID {
			t.Fatalf("replay: %+v, %v", again, err)
		}
		other := postRequest("k-other", postRecipA)
		other.IdempotentKey = &key
		if _, err := initPost(t, db, self(postSenderOrg), other, post.DefaultQuota()); problemCode(err) != post.CodeDuplicateIdempotentKey {
			t.Fatalf("other content, same key: %v", err)
		}
		if n := countCorrespondences(t, db); n != 1 {
			t.Fatalf("%d stored, want 1", n)
		}
		id, err := db.CorrespondenceByKey(context.Background(), postSenderOrg, key)
		if err != nil || id != first.Correspondences[0].ID {
			t.Fatalf("by key: %s, %v", id, err)
		}
	})
}

// Rule DPV-04: a technical sender sends for an actual sender only under its
// delegation; both are stored, and the post counts against the actual sender.
func TestPostOnBehalf_DPV04(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("ob", postRecipA)
		req.Correspondence.PropertyList = map[string]string{post.PropertyActualSender: string(postSenderOrg)}
		dels, err := db.SenderDelegations(ctx, postVendorOrg)
		if err != nil {
			t.Fatal(err)
		}
		if _, p := post.ResolveOrigin(postVendorOrg, req, dels, clock.t); p == nil || p.Code != post.CodeNotDelegated {
			t.Fatalf("without a delegation: %v", p)
		}
		if err := db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: postSenderOrg, Technical: postVendorOrg, From: clock.t.Add(-time.Minute)}, "staff"); err != nil {
			t.Fatal(err)
		}
		dels, err = db.SenderDelegations(ctx, postVendorOrg)
		if err != nil {
			t.Fatal(err)
		}
		origin, p := post.ResolveOrigin(postVendorOrg, req, dels, clock.t)
		if p != nil {
			t.Fatal(p)
		}
		got, err := initPost(t, db, origin, req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Correspondence(ctx, got.Correspondences[0].ID)
		if err != nil || c.Sender != postSenderOrg || c.Technical != postVendorOrg {
			t.Fatalf("stored sender %s technical %s, %v", c.Sender, c.Technical, err)
		}
		if n, _ := db.PostSent(ctx, postSenderOrg, clock.t.Add(-time.Hour), clock.t.Add(time.Hour)); n != 1 {
			t.Fatalf("counted against the actual sender: %d", n)
		}
		// Both are logged.
		recs, err := db.StoredRecords(ctx, RecordQuery{Consumer: string(postSenderOrg), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		logged := slices.ContainsFunc(recs, func(r StoredRecord) bool {
			return r.Record.Kind == audit.KindPost && bytes.Contains(r.Canonical, []byte(`"technical":"`+string(postVendorOrg)+`"`)) &&
				bytes.Contains(r.Canonical, []byte(`"sender":"`+string(postSenderOrg)+`"`))
		})
		if !logged {
			t.Fatal("the log does not name both the technical and the actual sender")
		}
	})
}

// Research §1.5 and Rule DPV-03's record of reading: published, then
// Fetched, Read and Confirmed, in the history with Altinn's order rules.
func TestPostLifecycle(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("life", postRecipA)
		req.Correspondence.IsConfirmationNeeded = true
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		id := got.Correspondences[0].ID
		// Not yet published: the recipient cannot see it.
		if err := db.FetchCorrespondence(ctx, id, "leder"); problemCode(err) != post.CodeNotFound {
			t.Fatalf("fetch before publish: %v", err)
		}
		if n, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil || n != 1 {
			t.Fatalf("published %d, %v", n, err)
		}
		if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusRead, "leder"); problemCode(err) != post.CodeReadBeforeFetched {
			t.Fatalf("read before fetched: %v", err)
		}
		if err := db.ChangeCorrespondence(ctx, id, post.BySender, post.StatusPurgedByAltinn, "avsender"); problemCode(err) != post.CodeCantPurgePublished {
			t.Fatalf("sender purges published: %v", err)
		}
		if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusPurgedByRecipient, "leder"); problemCode(err) != post.CodePurgeBeforeConfirmed {
			t.Fatalf("purge before confirmed: %v", err)
		}
		for _, s := range []post.Status{post.StatusFetched, post.StatusRead, post.StatusConfirmed} {
			clock.t = clock.t.Add(time.Minute)
			if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, s, "leder"); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusConfirmed, "leder"); problemCode(err) != post.CodeAlreadyConfirmed {
			t.Fatalf("confirm twice: %v", err)
		}
		c, err := db.Correspondence(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, e := range c.History {
			seen = append(seen, e.Status.String())
		}
		want := "Initialized ReadyForPublish Published Fetched Read Confirmed"
		if strings.Join(seen, " ") != want || c.Status != post.StatusConfirmed {
			t.Fatalf("history %v, current %s; want %s", seen, c.Status, want)
		}
		if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusPurgedByRecipient, "leder"); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeCorrespondence(ctx, "0b6f2b3e-5a8f-4c1e-9d3a-000000000000", post.ByRecipient, post.StatusRead, "x"); problemCode(err) != post.CodeNotFound {
			t.Fatalf("unknown id: %v", err)
		}
	})
}

// Attachments are streamed in, checked against checksum and size, and a
// refused upload leaves nothing behind; the last one makes the
// correspondence ReadyForPublish.
func TestPostAttachments(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		data := bytes.Repeat([]byte("vedtak "), 100_000) // 700 kB: several chunks
		sum := md5.Sum(data)
		req := postRequest("att", postRecipA)
		req.Correspondence.Content.Attachments = []post.Attachment{{FileName: "vedtak.pdf", SendersReference: "v1", Checksum: hex.EncodeToString(sum[:])}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		cid, aid := got.Correspondences[0].ID, got.Correspondences[0].Attachments[0]
		if got.Correspondences[0].Status != post.StatusInitialized {
			t.Fatalf("with an attachment to upload: %s", got.Correspondences[0].Status)
		}
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data[:len(data)-1]), 1<<20, "avsender"); problemCode(err) != post.CodeChecksumMismatch {
			t.Fatalf("wrong bytes: %v", err)
		}
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data), 1000, "avsender"); problemCode(err) != post.CodeRequestTooLarge {
			t.Fatalf("too large: %v", err)
		}
		if a, err := db.PostAttachment(ctx, aid); err != nil || a.Uploaded {
			t.Fatalf("a refused upload was kept: %+v, %v", a, err)
		}
		if err := db.WriteAttachment(ctx, aid, &bytes.Buffer{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("download before upload: %v", err)
		}
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data), 1<<20, "avsender"); err != nil {
			t.Fatal(err)
		}
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data), 1<<20, "avsender"); problemCode(err) != 0 {
			t.Fatalf("second upload: %v", err)
		}
		var out bytes.Buffer
		if err := db.WriteAttachment(ctx, aid, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("download: %d bytes, %v", out.Len(), err)
		}
		c, err := db.Correspondence(ctx, cid)
		if err != nil || c.Status != post.StatusReadyForPublish || c.Attachments[0].Size != int64(len(data)) {
			t.Fatalf("after the last upload: %s %+v %v", c.Status, c.Attachments, err)
		}
	})
}

// Rule DPV-06: the recipient's addresses are told on publication, and again
// when confidential post stays unread for 7 days; never the content.
func TestPostNotifications_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		keyRoleHolder(t, db, postRecipA)
		req := postRequest("varsel", postRecipA)
		req.Correspondence.IsConfidential = true
		req.Correspondence.Content.MessageTitle = "Hemmelig tittel"
		req.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: "Email",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "varsel@example.no"}}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		mails := func() []string {
			ls, err := db.PendingMail(ctx, 100, 5)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range ls {
				if strings.Contains(l.Body+l.Subject, "Hemmelig") {
					t.Fatalf("a notification carries the content: %+v", l)
				}
				out = append(out, l.To+": "+l.Subject)
			}
			return out
		}
		if m := mails(); len(m) != 1 || !strings.HasPrefix(m[0], "varsel@example.no: Ny digital post") {
			t.Fatalf("on publication: %v", m)
		}
		clock.t = clock.t.Add(6 * 24 * time.Hour)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if m := mails(); len(m) != 1 {
			t.Fatalf("a reminder before 7 days: %v", m)
		}
		clock.t = clock.t.Add(2 * 24 * time.Hour)
		for range 2 { // the second run sends nothing new
			if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
				t.Fatal(err)
			}
		}
		if m := mails(); len(m) != 2 || !strings.Contains(m[1], "taushetsbelagt") {
			t.Fatalf("after 7 days unread: %v", m)
		}
		c, err := db.Correspondence(ctx, got.Correspondences[0].ID)
		if err != nil || len(c.NotificationsHistory) != 2 || !c.NotificationsHistory[1].IsReminder {
			t.Fatalf("notification history: %+v, %v", c.NotificationsHistory, err)
		}
	})
}

// Rule DPV-06: ordinary post is reminded of after 7 days unread only when
// the sender asked (sendReminder, kept as a column), never otherwise.
func TestPostReminderAsked_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		asked := postRequest("med-revarsel", postRecipA)
		asked.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: "Email", SendReminder: true,
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "a@example.no"}}}
		silent := postRequest("uten-revarsel", postRecipA)
		silent.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: "Email",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "b@example.no"}}}
		for _, req := range []*post.InitializeRequest{asked, silent} {
			if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(8 * 24 * time.Hour)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		ls, err := db.PendingMail(ctx, 100, 5)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range ls {
			got = append(got, l.To+": "+strings.SplitN(l.Subject, ":", 2)[0])
		}
		slices.Sort(got)
		want := []string{"a@example.no: Ny digital post fra " + string(postSenderOrg), "a@example.no: Påminnelse", "b@example.no: Ny digital post fra " + string(postSenderOrg)}
		if !slices.Equal(got, want) {
			t.Fatalf("mail %q, want %q", got, want)
		}
	})
}

// Rule DPV-05: bulk status by the sender's references, only the sender's own.
func TestPostBulkStatus_DPV05(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		registerSender(t, db, postSenderFor(postVendorOrg))
		for i := range 3 {
			if _, err := initPost(t, db, self(postSenderOrg), postRequest(fmt.Sprintf("ref-%d", i), postRecipA, postRecipB), post.DefaultQuota()); err != nil {
				t.Fatal(err)
			}
		}
		// Another sender's post with the same reference is not the caller's.
		if _, err := initPost(t, db, self(postVendorOrg), postRequest("ref-0", postRecipA), post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		resp, err := db.BulkStatus(ctx, postSenderOrg, []string{"ref-0", "ref-2", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Correspondences) != 4 || resp.LimitReached {
			t.Fatalf("%d correspondences, limit %v; want 4", len(resp.Correspondences), resp.LimitReached)
		}
		for _, b := range resp.Correspondences {
			if b.Status != post.StatusPublished || len(b.StatusChanges) != 3 || b.SendersReference == "ref-1" {
				t.Fatalf("bulk entry %+v", b)
			}
		}
		// Listing: newest first, the sender's own.
		ids, err := db.ListCorrespondences(ctx, postSenderOrg, post.ListQuery{Role: post.RoleSender, SendersReference: "ref-1"})
		if err != nil || len(ids) != 2 {
			t.Fatalf("list: %v, %v", ids, err)
		}
		ids, err = db.ListCorrespondences(ctx, postRecipA, post.ListQuery{Role: post.RoleRecipient})
		if err != nil || len(ids) != 4 {
			t.Fatalf("recipient list: %v, %v", ids, err)
		}
	})
}

// Rule DPV-03: Post/Arkiv delegations are kept and revoked; a viewer built
// from them reads ordinary post, and confidential post only when delegated.
func TestPostReadingDelegations_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		leader := post.PortalPerson(keyRoleHolder(t, db, postRecipA).ID)
		u, err := db.CreateUser(ctx, governance.User{Email: "ansatt@example.no", Navn: "Ansatt"}, "",
			[]governance.Membership{{Org: string(postRecipA), Role: governance.Oppslagsbruker}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		employee := post.PortalPerson(u.ID)
		id, err := db.DelegatePost(ctx, post.Delegation{Org: postRecipA, To: employee, Right: post.RightPostArkiv, By: leader}, "leder")
		if err != nil {
			t.Fatal(err)
		}
		dels, err := db.PostDelegationsTo(ctx, employee)
		if err != nil || len(dels) != 1 {
			t.Fatalf("delegations: %v, %v", dels, err)
		}
		v := post.Viewer{Party: employee, At: clock.t.Add(time.Second)}
		for _, d := range dels {
			v.Delegations = append(v.Delegations, d.Delegation)
		}
		ordinary := post.Readable{Recipient: postRecipA, Status: post.StatusPublished}
		confidential := post.Readable{Recipient: postRecipA, Status: post.StatusPublished, Confidential: true}
		if !post.MayRead(v, postRecipA, ordinary) || post.MayRead(v, postRecipA, confidential) {
			t.Fatal("Post/Arkiv reads ordinary post only")
		}
		clock.t = clock.t.Add(time.Minute)
		if err := db.RevokePostDelegation(ctx, postRecipA, id, "leder"); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokePostDelegation(ctx, postRecipB, id, "leder"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke through another organisation: %v", err)
		}
		dels, _ = db.PostDelegations(ctx, postRecipA)
		v = post.Viewer{Party: employee, At: clock.t.Add(time.Second)}
		for _, d := range dels {
			v.Delegations = append(v.Delegations, d.Delegation)
		}
		if post.MayRead(v, postRecipA, ordinary) {
			t.Fatal("reads after revocation")
		}
		// The log names the delegation, never the person.
		recs, err := db.StoredRecords(ctx, RecordQuery{Consumer: string(postRecipA), Limit: 100})
		var steps int
		for _, r := range recs {
			if r.Record.Kind == audit.KindPost {
				steps++
				if bytes.Contains(r.Canonical, []byte(employee.User)) {
					t.Fatalf("the log names the person: %s", r.Canonical)
				}
			}
		}
		if err != nil || steps != 2 {
			t.Fatalf("log: %d post records, %v", steps, err)
		}
	})
}

// The token server's post scopes: read for every active organisation,
// write only for a registered sender (Rule DPV-01) or one it delegated to (DPV-04).
func TestPostScopes_DPV01_DPV04(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		for _, o := range []ident.Orgnr{postSenderOrg, postVendorOrg, postRecipA} {
			if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: string(o), Navn: "Org", Status: access.Active}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		registerSender(t, db, postSenderFor(postSenderOrg))
		if err := db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: postSenderOrg, Technical: postVendorOrg, From: clock.t.Add(-time.Minute)}, "staff"); err != nil {
			t.Fatal(err)
		}
		sc := Scopes{DB: db, APIScope: "nav:aareg/v1/arbeidsforhold", Env: register.EnvTest}
		for org, want := range map[ident.Orgnr]bool{postSenderOrg: true, postVendorOrg: true, postRecipA: false} {
			got, err := sc.Scopes(ctx, string(org), string(org))
			if err != nil || !slices.Contains(got, post.ScopeRead) || slices.Contains(got, post.ScopeWrite) != want {
				t.Fatalf("%s: %v, %v; write %v", org, got, err, want)
			}
		}
		if _, err := db.PostSenderLeaves(ctx, postSenderOrg, "staff"); err != nil {
			t.Fatal(err)
		}
		if got, _ := sc.Scopes(ctx, string(postSenderOrg), string(postSenderOrg)); slices.Contains(got, post.ScopeWrite) {
			t.Fatalf("a sender that left writes: %v", got)
		}
	})
}

// Publication and its notification happen once when the job and requests
// run PublishDue at the same time (Rule DPV-06).
func TestPostPublishOnce_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		recips := make([]ident.Orgnr, 20)
		for i := range recips {
			recips[i] = ident.SyntheticOrgnr(300_000 + i)
		}
		req := postRequest("once", recips...)
		req.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: "Email",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "varsel@example.no"}}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				// A run that loses a race on PostgreSQL may fail; the others publish.
				db.PublishDue(ctx, post.DefaultNotify())
			})
		}
		wg.Wait()
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Correspondences {
			full, err := db.Correspondence(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range full.History {
				if e.Status == post.StatusPublished {
					n++
				}
			}
			if n != 1 || len(full.NotificationsHistory) != 1 {
				t.Fatalf("%s: published %d times, %d notifications", c.ID, n, len(full.NotificationsHistory))
			}
		}
		if mails, err := db.PendingMail(ctx, 100, 5); err != nil || len(mails) != 20 {
			t.Fatalf("%d mails, want 20: %v", len(mails), err)
		}
	})
}

// Issue 14 item 7, Rules DPV-03, DPV-06: a letter queued to an organisation
// — to each of its addresses — is one correspondence from the register in
// its inbox, published, its e-mails recorded as the notification so that
// publication sends none more; a post notification and a letter to no
// organisation are not post.
func TestPostLettersAreCorrespondences_DPV06(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		letter := governance.Letter{Consumer: string(postRecipA), Kind: governance.LetterSuspension, Subject: "Tilgangen er suspendert",
			Body: "Tilgangen er suspendert fordi vilkårene er brutt."}
		a, b := letter, letter
		a.To, b.To = "a@example.no", "b@example.no"
		if err := db.QueueMail(ctx, a, b,
			governance.Letter{Consumer: string(postRecipA), Kind: LetterPost, To: "a@example.no", Subject: "Ny digital post"},
			governance.Letter{Kind: governance.LetterActivation, To: "c@example.no", Subject: "Aktiver"}); err != nil {
			t.Fatal(err)
		}
		in, err := db.PostInbox(ctx, postRecipA)
		if err != nil || len(in) != 1 {
			t.Fatalf("inbox: %+v %v", in, err)
		}
		c := in[0]
		if c.Sender != RegisterSender || c.Body.Content.MessageTitle != letter.Subject || c.Status != post.StatusPublished || c.Read {
			t.Fatalf("the letter as post: %+v", c)
		}
		full, err := db.Correspondence(ctx, c.ID)
		if err != nil || len(full.NotificationsHistory) != 2 {
			t.Fatalf("its notifications: %+v %v", full.NotificationsHistory, err)
		}
		before, _ := db.PendingMail(ctx, 100, 5)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if after, _ := db.PendingMail(ctx, 100, 5); len(after) != len(before) {
			t.Fatalf("publication sent more mail: %d → %d", len(before), len(after))
		}
		if n := countCorrespondences(t, db); n != 1 {
			t.Fatalf("%d correspondences, want 1", n)
		}
	})
}
