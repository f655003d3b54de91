package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/post"
)

// Issue 14 item 7, Rule DPV-03: only the kinds of letter on the allow-list
// become post — never a password link, a reminder greeting one person by
// name, or a notification of post; a suspension or breach letter is
// confidential; the body is plain text that renders as written, so that
// another organisation's words in it become no link and line breaks stay.
func TestPostLetterKinds_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		to := string(postRecipA)
		if err := db.QueueMail(ctx,
			governance.Letter{Consumer: to, Kind: governance.LetterActivation, To: "a@example.no", Subject: "Sett passord", Body: "https://deling.example/aktiver/hemmelig"},
			governance.Letter{Consumer: to, Kind: governance.LetterReviewReminder, To: "a@example.no", Subject: "Påminnelse", Body: "Hei Kari,"},
			governance.Letter{Consumer: to, Kind: "some.future.kind", To: "a@example.no", Subject: "Ny slags", Body: "x"},
			governance.Letter{Consumer: to, Kind: LetterPost, To: "a@example.no", Subject: "Ny digital post"},
			governance.Letter{Consumer: to, Kind: LetterDPABreach, To: "a@example.no", Subject: "Avvik hos databehandler",
				Body: "Underleverandør: [Klikk her](https://evil.example)\nLinje to\n\nNytt avsnitt"},
			governance.Letter{Consumer: to, Kind: governance.LetterNotice, To: "a@example.no", Subject: "Driftsmelding", Body: "Vedlikehold."},
		); err != nil {
			t.Fatal(err)
		}
		in, err := db.PostInbox(ctx, postRecipA)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range in {
			got[c.Body.Content.MessageTitle] = c.Confidential
		}
		if len(in) != 2 || !got["Avvik hos databehandler"] || got["Driftsmelding"] {
			t.Fatalf("post made of letters (title: confidential): %v", got)
		}
		for _, c := range in {
			if c.Body.Content.MessageTitle != "Avvik hos databehandler" {
				continue
			}
			html, err := post.NewRenderer().Render(c.Body.Content.MessageBody)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(html), "<a ") || !strings.Contains(string(html), "[Klikk her](https://evil.example)<br") ||
				!strings.Contains(string(html), "<p>Nytt avsnitt</p>") {
				t.Fatalf("the letter rendered: %s", html)
			}
		}
	})
}

// Rule DPV-03 (review finding 13): a person's delegation over an
// organisation's post ends when their last membership of it is removed, or
// their account is closed; another role in the organisation keeps it.
func TestPostDelegationEndsWithMembership_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		org := string(postRecipA)
		termsConsumer(t, db, org)
		mk := func(email string, roles ...governance.Role) string {
			var ms []governance.Membership
			for _, r := range roles {
				ms = append(ms, governance.Membership{Org: org, Role: r})
			}
			u, err := db.CreateUser(ctx, governance.User{Email: email, Navn: email}, "x", ms, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		leader := mk("leder@a.example", governance.Rolleinnehaver)
		if err := db.SetPostRoleCodes(ctx, leader, postRecipA, []post.RoleCode{"DAGL"}, "staff"); err != nil {
			t.Fatal(err)
		}
		kari := mk("kari@a.example", governance.Oppslagsbruker, governance.Administrator)
		ola := mk("ola@a.example", governance.Oppslagsbruker)
		for _, u := range []string{kari, ola} {
			if _, err := db.DelegatePost(ctx, post.Delegation{Org: postRecipA, To: post.PortalPerson(u), Right: post.RightPostArkiv,
				By: post.PortalPerson(leader)}, "leder"); err != nil {
				t.Fatal(err)
			}
		}
		inForce := func(u string) bool {
			clock.t = clock.t.Add(time.Second)
			dels, err := db.PostDelegationsTo(ctx, post.PortalPerson(u))
			if err != nil {
				t.Fatal(err)
			}
			return len(dels) == 1 && dels[0].InForce(clock.t)
		}
		if err := db.RemoveMembership(ctx, kari, org, governance.Administrator, "leder"); err != nil {
			t.Fatal(err)
		}
		if !inForce(kari) {
			t.Fatal("removing one of two roles ended the delegation")
		}
		if err := db.RemoveMembership(ctx, kari, org, governance.Oppslagsbruker, "leder"); err != nil {
			t.Fatal(err)
		}
		if inForce(kari) {
			t.Fatal("the delegation outlives the membership")
		}
		if err := db.DisableUser(ctx, ola, "leder"); err != nil {
			t.Fatal(err)
		}
		if inForce(ola) {
			t.Fatal("the delegation outlives the account")
		}
	})
}

// Rule DPV-08 (with DPV-09; review finding 7): a notice of maintenance of
// the post service reaches the subscribed contacts and every sender's
// service lead and deputy or shared address; an interface change reaches
// the senders only; a sender that left gets neither.
func TestPostNoticesReachSenders_DPV08(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		termsConsumer(t, db, "310000001")
		termsContact(t, db, "310000001", "a1@a.example", true)
		for _, s := range []post.Sender{
			{Orgnr: postSenderOrg, Name: "Kommunen", Basis: "kommune", Categories: post.Categories(),
				ServiceLead: post.Contact{Name: "Leder", Email: "leder@kommune.example", Phone: "+4790000000"},
				Deputy:      &post.Contact{Name: "Nestleder", Email: "nest@kommune.example", Phone: "+4790000001"}},
			{Orgnr: postVendorOrg, Name: "Etaten", Basis: "stat", Categories: post.Categories(),
				ServiceLead: post.Contact{Name: "Leder", Email: "leder@etaten.example", Phone: "+4790000002"},
				Shared:      &post.Contact{Email: "post@etaten.example", Phone: "+4790000003"}},
			{Orgnr: postRecipA, Name: "Utmeldt", Basis: "stat", Categories: post.Categories(),
				ServiceLead: post.Contact{Name: "Leder", Email: "leder@utmeldt.example", Phone: "+4790000004"},
				Shared:      &post.Contact{Email: "post@utmeldt.example", Phone: "+4790000005"}},
		} {
			if err := db.RegisterPostSender(ctx, s, "staff"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PostSenderLeaves(ctx, postRecipA, "staff"); err != nil {
			t.Fatal(err)
		}
		senders := []string{"leder@etaten.example", "leder@kommune.example", "nest@kommune.example", "post@etaten.example"}
		start, end := fixedNow().AddDate(0, 0, 10), fixedNow().AddDate(0, 0, 10).Add(time.Hour)
		if _, err := db.PublishNotice(ctx, governance.Notice{Kind: governance.NoticePostMaintenance, Title: "Vedlikehold", Body: ".", Start: &start, End: &end},
			governance.Letter{Subject: "Vedlikehold av digital post", Body: "."}, "staff"); err != nil {
			t.Fatal(err)
		}
		if got := addresses(outbox(t, db), governance.LetterNotice); !slices.Equal(got, append([]string{"a1@a.example"}, senders...)) {
			t.Fatalf("maintenance to %v", got)
		}
		for _, m := range outbox(t, db) {
			if err := db.MarkMail(ctx, m.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
		sunset := fixedNow().AddDate(0, 7, 0)
		if _, err := db.PublishNotice(ctx, governance.Notice{Kind: governance.NoticePostInterface, Title: "Nytt felt", Body: ".", Sunset: &sunset},
			governance.Letter{Subject: "Endring i grensesnittet", Body: "."}, "staff"); err != nil {
			t.Fatal(err)
		}
		if got := addresses(outbox(t, db), governance.LetterNotice); !slices.Equal(got, senders) {
			t.Fatalf("interface change to %v", got)
		}
	})
}

// Review finding 12 (Rule DPV-03's inbox and archive): the inbox (unread)
// and the archive (read) are queried apart, each in pages newest first, so
// that many read messages never push an unread one out of the inbox.
func TestPostInboxPages_DPV03(t *testing.T) {
	eachPostEngine(t, func(t *testing.T, db *DB, clock *postClock) {
		ctx := context.Background()
		var ids []string // oldest first
		for i := range 5 {
			clock.t = clock.t.Add(time.Minute)
			if err := db.QueueMail(ctx, governance.Letter{Consumer: string(postRecipA), Kind: governance.LetterNotice, To: "a@example.no",
				Subject: fmt.Sprint("Melding ", i), Body: "."}); err != nil {
				t.Fatal(err)
			}
			in, _, err := db.PostInboxPage(ctx, postRecipA, InboxPage{Limit: 1})
			if err != nil || len(in) != 1 {
				t.Fatalf("inbox: %v %v", in, err)
			}
			ids = append(ids, in[0].ID)
		}
		clock.t = clock.t.Add(time.Minute)
		for _, id := range ids[2:] { // the three newest are read
			if err := db.FetchCorrespondence(ctx, id, "leder"); err != nil {
				t.Fatal(err)
			}
			if err := db.ChangeCorrespondence(ctx, id, post.ByRecipient, post.StatusRead, "leder"); err != nil {
				t.Fatal(err)
			}
		}
		pages := func(read bool) [][]string {
			var out [][]string
			var before *InboxCursor
			for range 10 {
				in, next, err := db.PostInboxPage(ctx, postRecipA, InboxPage{Read: read, Before: before, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				var page []string
				for _, e := range in {
					page = append(page, e.ID)
				}
				out = append(out, page)
				if before = next; next == nil {
					return out
				}
			}
			t.Fatal("no last page")
			return nil
		}
		if got := pages(false); fmt.Sprint(got) != fmt.Sprint([][]string{{ids[1], ids[0]}}) {
			t.Fatalf("inbox pages %v, ids %v", got, ids)
		}
		if got := pages(true); fmt.Sprint(got) != fmt.Sprint([][]string{{ids[4], ids[3]}, {ids[2]}}) {
			t.Fatalf("archive pages %v, ids %v", got, ids)
		}
	})
}
