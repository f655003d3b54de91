package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// Tests of the fixes to the review of the digital post core (issue 14).

// storedBodyBytes is how many bytes of correspondence JSON are stored for
// sendersReference ref, in the correspondences and the shared bodies.
func storedBodyBytes(t *testing.T, db *DB, ref string) (own, shared int64) {
	t.Helper()
	ctx := context.Background()
	if err := db.read.queryRow(ctx, `SELECT COALESCE(SUM(LENGTH(body)), 0) FROM post_correspondences WHERE senders_reference = $1`, ref).Scan(&own); err != nil {
		t.Fatal(err)
	}
	if err := db.read.queryRow(ctx, `SELECT COALESCE(SUM(LENGTH(b.body)), 0) FROM post_bodies b
		WHERE b.id IN (SELECT body_id FROM post_correspondences WHERE senders_reference = $1)`, ref).Scan(&shared); err != nil {
		t.Fatal(err)
	}
	return own, shared
}

// Rule DPV-10 (and review finding 1): a request to many recipients stores
// its body once, not once per recipient; each recipient's correspondence
// still reads it whole.
func TestPostBodyStoredOncePerRequest(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("once", postRecipA, postRecipB, ident.SyntheticOrgnr(7005))
		req.Correspondence.Content.MessageBody = strings.Repeat("Lang tekst. ", 2000)
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		own, shared := storedBodyBytes(t, db, "once")
		if own != 0 || shared < 24000 || shared > 2*24000 {
			t.Errorf("stored body bytes: %d in correspondences, %d shared; want 0 and one body of ~24,000", own, shared)
		}
		for _, ic := range got.Correspondences {
			c, err := db.Correspondence(ctx, ic.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Body.Content == nil || c.Body.Content.MessageBody != req.Correspondence.Content.MessageBody {
				t.Errorf("%s: the body does not read back", ic.ID)
			}
		}
	})
}

// Rule DPV-06 (review finding 1): what a request made ready is published on
// the request's path (PublishReady), but the notifications are the job's
// (PublishDue): the request queues no e-mail.
func TestPostPublishReadyQueuesNoMail(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		saveContact(t, db, postRecipA, "post@mottaker.example", true)
		got, err := initPost(t, db, self(postSenderOrg), postRequest("ready", postRecipA), post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		other, err := initPost(t, db, self(postSenderOrg), postRequest("other", postRecipB), post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		id := got.Correspondences[0].ID
		if err := db.PublishReady(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
		st, err := db.PostStatuses(ctx, []string{id, other.Correspondences[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if st[id] != post.StatusPublished || st[other.Correspondences[0].ID] != post.StatusReadyForPublish {
			t.Errorf("statuses after PublishReady of one: %v; want that one Published, the other ReadyForPublish", st)
		}
		if n := len(pendingPostMail(t, db)); n != 0 {
			t.Errorf("PublishReady queued %d e-mails, want none", n)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if n := len(pendingPostMail(t, db)); n != 1 {
			t.Errorf("the job queued %d notifications, want 1", n)
		}
	})
}

func saveContact(t *testing.T, db *DB, org ident.Orgnr, email string, varsler bool) {
	t.Helper()
	if _, err := db.SaveContact(context.Background(), governance.Contact{Consumer: string(org), Navn: "Kontakt " + email, Epost: email,
		Rolle: governance.ContactAdministrative, Varsler: varsler}, "test"); err != nil {
		t.Fatal(err)
	}
}

func pendingPostMail(t *testing.T, db *DB) []governance.Letter {
	t.Helper()
	ls, err := db.PendingMail(context.Background(), 100000, 5)
	if err != nil {
		t.Fatal(err)
	}
	var out []governance.Letter
	for _, l := range ls {
		if l.Kind == LetterPost {
			out = append(out, l)
		}
	}
	return out
}

// firstRead reports on ready when the upload first reads its body: it has
// passed its checks.
type firstRead struct {
	io.Reader
	ready chan struct{}
	once  bool
}

func (f *firstRead) Read(p []byte) (int, error) {
	if !f.once {
		f.once = true
		close(f.ready)
	}
	return f.Reader.Read(p)
}

// Review finding 2: of two uploads of one attachment, the loser answers 409
// and leaves the winner's bytes in place, on both engines: the first
// streams (to its file, or its staged chunks) while the second runs to the
// end; the first then finds the bytes in.
func TestPostConcurrentUploadKeepsWinner(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		data := []byte("%PDF-1.4 vedtak\n")
		sum := md5.Sum(data)
		req := postRequest("race", postRecipA)
		req.Correspondence.Content.Attachments = []post.Attachment{{FileName: "v.pdf", SendersReference: "v1", Checksum: hex.EncodeToString(sum[:])}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		aid := got.Correspondences[0].Attachments[0]
		pr, pw := io.Pipe()
		first := &firstRead{Reader: pr, ready: make(chan struct{})}
		firstErr := make(chan error, 1)
		go func() { firstErr <- db.UploadAttachment(ctx, aid, first, 1<<20, "first") }()
		<-first.ready
		// The second runs to the end while the first streams: the second wins.
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data), 1<<20, "second"); err != nil {
			t.Fatalf("second upload: %v", err)
		}
		pw.Write(data)
		pw.Close()
		loser := <-firstErr
		var p *post.Problem
		if !errors.As(loser, &p) || p.Status != 409 {
			t.Errorf("losing upload: %v, want a 409 problem", loser)
		}
		var out bytes.Buffer
		if err := db.WriteAttachment(ctx, aid, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Errorf("after the race the attachment reads %q, %v; want the winner's bytes", out.Bytes(), err)
		}
	})
}

// Rule DPV-06 (review finding 3): correspondences that will never be
// notified again (read, then an attachment downloaded, a week on) do not
// fill the notification run's batch: a new publication is notified.
func TestPostNotifyNotStarvedByReadPost(t *testing.T) {
	old := notifyBatch
	t.Cleanup(func() { notifyBatch = old }) // after the engines' parallel subtests, unlike defer
	notifyBatch = 5
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		var recips []ident.Orgnr
		for i := range 2 * notifyBatch {
			recips = append(recips, ident.SyntheticOrgnr(100000+i))
		}
		req := postRequest("old", recips...)
		req.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: post.ChannelEmail, EmailSubject: "s", EmailBody: "b", SendReminder: true}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // each run notifies a batch
			if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range got.Correspondences {
			for _, st := range []post.Status{post.StatusFetched, post.StatusRead, post.StatusAttachmentsDownloaded} {
				if err := db.ChangeCorrespondence(ctx, c.ID, post.ByRecipient, st, "r"); err != nil {
					t.Fatal(err)
				}
			}
		}
		clock.t = clock.t.Add(8 * 24 * time.Hour)
		saveContact(t, db, postRecipA, "post@mottaker.example", true)
		fresh, err := initPost(t, db, self(postSenderOrg), postRequest("new", postRecipA), post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		// Published on the request's path and read before the job ran: its
		// arrival notice is still due, and it sorts after the old ones in any plan.
		id := fresh.Correspondences[0].ID
		if err := db.PublishReady(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
		for _, st := range []post.Status{post.StatusFetched, post.StatusRead, post.StatusAttachmentsDownloaded} {
			if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, st, "r"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		c, err := db.Correspondence(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.NotificationsHistory) != 1 {
			t.Errorf("a new publication behind %d read ones got %d notifications, want 1", len(recips), len(c.NotificationsHistory))
		}
	})
}

// Rule DPV-06 (review finding 4): only the recipient's contacts who want
// notices (varsler) are notified, none when the sender overrides them; the
// sender sees its own custom addresses but only the organisation for the
// recipient's contacts.
func TestPostNotifyHonoursVarslerAndHidesContacts(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		saveContact(t, db, postRecipA, "vil.ha@mottaker.example", true)
		saveContact(t, db, postRecipA, "vil.ikke@mottaker.example", false)
		saveContact(t, db, postRecipB, "b@mottaker.example", true)
		plain := postRequest("plain", postRecipA)
		plain.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: post.ChannelEmail, EmailSubject: "s", EmailBody: "b",
			CustomRecipients: []post.CustomRecipient{{EmailAddress: "saksbehandler@avsender.example"}}}
		over := postRequest("override", postRecipB)
		over.Correspondence.Notification = &post.NotificationRequest{NotificationChannel: post.ChannelEmail, EmailSubject: "s", EmailBody: "b",
			OverrideRegisteredContactInformation: true, CustomRecipients: []post.CustomRecipient{{EmailAddress: "egen@avsender.example"}}}
		for _, r := range []*post.InitializeRequest{plain, over} {
			if _, err := initPost(t, db, self(postSenderOrg), r, post.DefaultQuota()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, l := range pendingPostMail(t, db) {
			to = append(to, l.To)
		}
		want := []string{"egen@avsender.example", "saksbehandler@avsender.example", "vil.ha@mottaker.example"}
		if fmt.Sprint(sorted(to)) != fmt.Sprint(want) {
			t.Errorf("notified %v, want %v", sorted(to), want)
		}
		resp, err := db.BulkStatus(ctx, postSenderOrg, []string{"plain"})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, n := range resp.Correspondences[0].Notifications {
			seen = append(seen, n.Recipient)
		}
		wantSeen := []string{"saksbehandler@avsender.example", post.RecipientURN(postRecipA)}
		if fmt.Sprint(sorted(seen)) != fmt.Sprint(sorted(wantSeen)) {
			t.Errorf("the sender sees notification recipients %v, want %v", seen, wantSeen)
		}
		c, err := db.Correspondence(ctx, resp.Correspondences[0].CorrespondenceID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.NotificationsHistory {
			if strings.Contains(n.Recipient, "mottaker.example") {
				t.Errorf("the correspondence's notifications show the contact address %q", n.Recipient)
			}
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Review finding 8: a purge deletes the content: the body at once, the
// attachment's bytes (file or chunks) once no recipient of the request
// that shares them is left; another recipient keeps both until then.
func TestPostPurgeDeletesContent(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		data := []byte("hemmelig vedlegg")
		req := postRequest("purge", postRecipA, postRecipB)
		req.Correspondence.Content.Attachments = []post.Attachment{{FileName: "v.pdf", SendersReference: "v1"}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		aid := got.Correspondences[0].Attachments[0]
		if err := db.UploadAttachment(ctx, aid, bytes.NewReader(data), 1<<20, "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		purged, kept := got.Correspondences[0], got.Correspondences[1]
		if err := db.ChangeCorrespondence(ctx, purged.ID, post.ByRecipient, post.StatusPurgedByRecipient, "r"); err != nil {
			t.Fatal(err)
		}
		if c, err := db.Correspondence(ctx, purged.ID); err != nil || c.Body.Content != nil {
			t.Errorf("purged correspondence's content: %+v, %v; want none", c.Body.Content, err)
		}
		k, err := db.Correspondence(ctx, kept.ID)
		if err != nil || k.Body.Content == nil || k.Body.Content.MessageBody != "Hei." {
			t.Fatalf("the other recipient's content after the purge: %+v, %v", k.Body.Content, err)
		}
		var out bytes.Buffer
		if err := db.WriteAttachment(ctx, aid, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Errorf("the other recipient's attachment: %q, %v", out.Bytes(), err)
		}
		// The last purge drops the shared body and the bytes.
		if err := db.ChangeCorrespondence(ctx, kept.ID, post.ByRecipient, post.StatusPurgedByRecipient, "r"); err != nil {
			t.Fatal(err)
		}
		if own, shared := storedBodyBytes(t, db, "purge"); shared != 0 || own > 10 {
			t.Errorf("after both purges %d bytes own and %d shared body are stored", own, shared)
		}
		if err := db.WriteAttachment(ctx, aid, io.Discard); !errors.Is(err, ErrNotFound) {
			t.Errorf("download after purge: %v, want ErrNotFound", err)
		}
		if a, err := db.PostAttachment(ctx, aid); err != nil || !a.Purged {
			t.Errorf("attachment after purge: %+v, %v; want Purged", a, err)
		}
		var chunks int
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM post_attachment_chunks WHERE attachment = $1`, aid).Scan(&chunks); err != nil || chunks != 0 {
			t.Errorf("%d chunks left after purge (%v)", chunks, err)
		}
		if db.engine == SQLite {
			if _, err := os.Stat(db.attachmentPath(aid)); !os.IsNotExist(err) {
				t.Errorf("the attachment's file is still there after purge: %v", err)
			}
		}
	})
}

// Rule DPV-04 (review finding 9): a technical sender sees what it sent on
// behalf of another only while that sender's delegation is in force.
func TestPostTechnicalSenderAccessEndsWithDelegation(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		until := clock.t.Add(time.Hour)
		if err := db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: postSenderOrg, Technical: postVendorOrg,
			From: clock.t.Add(-time.Minute), Until: &until}, "staff"); err != nil {
			t.Fatal(err)
		}
		origin := post.Origin{Technical: postVendorOrg, Actual: postSenderOrg}
		if _, err := initPost(t, db, origin, postRequest("vendor", postRecipA), post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		count := func() (listed, bulk int) {
			ids, err := db.ListCorrespondences(ctx, postVendorOrg, post.ListQuery{Role: post.RoleSender})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := db.BulkStatus(ctx, postVendorOrg, []string{"vendor"})
			if err != nil {
				t.Fatal(err)
			}
			return len(ids), len(resp.Correspondences)
		}
		if l, b := count(); l != 1 || b != 1 {
			t.Fatalf("under the delegation the vendor lists %d and bulk-reads %d, want 1 and 1", l, b)
		}
		clock.t = until.Add(time.Minute)
		if l, b := count(); l != 0 || b != 0 {
			t.Errorf("after the delegation ended the vendor lists %d and bulk-reads %d, want none", l, b)
		}
		if ids, err := db.ListCorrespondences(ctx, postSenderOrg, post.ListQuery{Role: post.RoleSender}); err != nil || len(ids) != 1 {
			t.Errorf("the actual sender lists %d, %v; want 1", len(ids), err)
		}
	})
}

// Review finding 5: an attachment is the request's, one id shared by every
// recipient's correspondence as in Altinn 3: one upload makes them all
// ready and each recipient reads the same bytes; a purge by one leaves the
// others'. A correspondence whose attachment never came fails after
// UploadWindow.
func TestPostAttachmentSharedByRequest(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("shared", postRecipA, postRecipB)
		req.Correspondence.Content.Attachments = []post.Attachment{{FileName: "v.pdf", SendersReference: "v1"}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		a, b := got.Correspondences[0], got.Correspondences[1]
		if len(a.Attachments) != 1 || fmt.Sprint(a.Attachments) != fmt.Sprint(b.Attachments) {
			t.Fatalf("attachment ids %v and %v, want one shared", a.Attachments, b.Attachments)
		}
		if err := db.UploadAttachment(ctx, a.Attachments[0], strings.NewReader("vedlegg"), 1<<20, "s"); err != nil {
			t.Fatal(err)
		}
		st, err := db.PostStatuses(ctx, []string{a.ID, b.ID})
		if err != nil || st[a.ID] != post.StatusReadyForPublish || st[b.ID] != post.StatusReadyForPublish {
			t.Fatalf("after one upload: %v, %v; want both ReadyForPublish", st, err)
		}
		if ids, err := db.AttachmentCorrespondences(ctx, a.Attachments[0]); err != nil || fmt.Sprint(ids) != fmt.Sprint(sorted([]string{a.ID, b.ID})) {
			t.Errorf("AttachmentCorrespondences: %v, %v", ids, err)
		}
		for _, id := range []string{a.ID, b.ID} {
			c, err := db.Correspondence(ctx, id)
			if err != nil || len(c.Attachments) != 1 || c.Attachments[0].ID != a.Attachments[0] || !c.Attachments[0].Uploaded {
				t.Errorf("%s: attachments %+v, %v", id, c.Attachments, err)
			}
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeCorrespondence(ctx, a.ID, post.ByRecipient, post.StatusPurgedByRecipient, "r"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := db.WriteAttachment(ctx, a.Attachments[0], &out); err != nil || out.String() != "vedlegg" {
			t.Errorf("after one recipient's purge the other reads %q, %v", out.String(), err)
		}

		// Never uploaded: Failed after UploadWindow, not Initialized for ever.
		late := postRequest("never", postRecipA)
		late.Correspondence.Content.Attachments = []post.Attachment{{FileName: "v.pdf", SendersReference: "v1"}}
		never, err := initPost(t, db, self(postSenderOrg), late, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		id := never.Correspondences[0].ID
		clock.t = clock.t.Add(UploadWindow - time.Minute)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if st, _ := db.PostStatuses(ctx, []string{id}); st[id] != post.StatusInitialized {
			t.Errorf("within the upload window: %s, want Initialized", st[id])
		}
		clock.t = clock.t.Add(2 * time.Minute)
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		if st, _ := db.PostStatuses(ctx, []string{id}); st[id] != post.StatusFailed {
			t.Errorf("after the upload window: %s, want Failed", st[id])
		}
		if err := db.UploadAttachment(ctx, never.Correspondences[0].Attachments[0], strings.NewReader("x"), 1<<20, "s"); problemStatus(err) != 409 {
			t.Errorf("upload to a failed correspondence: %v, want 409", err)
		}
	})
}

func problemStatus(err error) int {
	var p *post.Problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}

// Review finding 7: while an upload waits for the client's bytes it holds
// no lock on the correspondence (PostgreSQL: no row lock in pg_locks, so no
// transaction and connection held; SQLite streamed to a file already), and
// the upload completes.
func TestPostUploadHoldsNoLockWhileReading(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("slow", postRecipA)
		req.Correspondence.Content.Attachments = []post.Attachment{{FileName: "v.pdf", SendersReference: "v1"}}
		got, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		aid := got.Correspondences[0].Attachments[0]
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- db.UploadAttachment(ctx, aid, pr, 1<<22, "s") }()
		chunk := bytes.Repeat([]byte("x"), attachmentChunk)
		pw.Write(chunk) // returns once the upload has read it: it is mid-stream
		if db.engine == Postgres {
			var locks int
			if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
				WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND c.relname = 'post_correspondences'
				AND l.pid <> pg_backend_pid()`).Scan(&locks); err != nil {
				t.Fatal(err)
			}
			if locks != 0 {
				t.Errorf("mid-upload, %d locks are held on post_correspondences", locks)
			}
		}
		pw.Write(chunk[:10])
		pw.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		a, err := db.PostAttachment(ctx, aid)
		if err != nil || !a.Uploaded || a.Size != attachmentChunk+10 {
			t.Errorf("after upload: %+v, %v", a, err)
		}
		var staged int
		if err := db.read.queryRow(ctx, `SELECT COUNT(*) FROM post_attachment_chunks WHERE attachment <> $1`, aid).Scan(&staged); err != nil || staged != 0 {
			t.Errorf("%d staged chunks left (%v)", staged, err)
		}
	})
}

// Rule DPV-02 (review finding 10): post sent under an alias of a category's
// resource (4255/10) is stored by the category's resource id and listed by
// any of its names, for sender and recipient.
func TestPostListingFindsResourceAliases(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		req := postRequest("alias", postRecipA)
		req.Correspondence.ResourceID = post.CatAdministration.ServiceEdition()
		if _, err := initPost(t, db, self(postSenderOrg), req, post.DefaultQuota()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{post.CatAdministration.ResourceID(), post.CatAdministration.ServiceEdition(), string(post.CatAdministration)} {
			for role, org := range map[post.ListRole]ident.Orgnr{post.RoleSender: postSenderOrg, post.RoleRecipient: postRecipA} {
				ids, err := db.ListCorrespondences(ctx, org, post.ListQuery{Role: role, ResourceID: name})
				if err != nil || len(ids) != 1 {
					t.Errorf("%s lists %d with resourceId=%s (%v), want 1", role, len(ids), name, err)
				}
			}
		}
	})
}

// Rule DPV-03 (review finding 17): reading is recorded, but a recipient
// that opens a correspondence again and again records Fetched at most once
// per FetchInterval.
func TestPostFetchedRecordedOncePerInterval(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		registerSender(t, db, postSenderFor(postSenderOrg))
		got, err := initPost(t, db, self(postSenderOrg), postRequest("poll", postRecipA), post.DefaultQuota())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDue(ctx, post.DefaultNotify()); err != nil {
			t.Fatal(err)
		}
		id := got.Correspondences[0].ID
		fetched := func() int {
			c, err := db.Correspondence(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range c.History {
				if e.Status == post.StatusFetched {
					n++
				}
			}
			return n
		}
		for range 5 {
			if err := db.FetchCorrespondence(ctx, id, "r"); err != nil {
				t.Fatal(err)
			}
		}
		if n := fetched(); n != 1 {
			t.Errorf("five fetches in a row recorded %d Fetched, want 1", n)
		}
		clock.t = clock.t.Add(FetchInterval)
		if err := db.FetchCorrespondence(ctx, id, "r"); err != nil {
			t.Fatal(err)
		}
		if n := fetched(); n != 2 {
			t.Errorf("a fetch an interval later: %d Fetched, want 2", n)
		}
	})
}
