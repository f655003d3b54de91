package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
)

// Rule AA-27: reminders of a due review go at most once per interval, until the review is done.
func TestReviewReminders(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clock := lifeMovableClock(db)
		const org = "310000041"
		every, remind := 180*24*time.Hour, 7*24*time.Hour
		u, err := db.CreateUser(ctx, governance.User{Email: "admin@org.test", Navn: "Admin"}, "x", []governance.Membership{{Org: org, Role: governance.Administrator}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, governance.User{Email: "staff@register.test", Navn: "Staff"}, "x", []governance.Membership{{Org: governance.AuthorityOrg, Role: governance.Saksbehandler}}, "test"); err != nil {
			t.Fatal(err)
		}
		due := func() []ReviewDue {
			ds, err := db.ReviewsDue(ctx, governance.ReviewCutoff(clock.now(), every))
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due at once: %+v", ds)
		}
		clock.advance(every)
		if ds := due(); len(ds) != 1 || ds[0].Org != org || ds[0].Users != 1 {
			t.Fatalf("due after the interval: %+v (the register's staff are not reviewed by a consumer)", ds)
		}
		letter := governance.Letter{To: "admin@org.test", Subject: "Gjennomgang", Body: "Gå gjennom brukerne."}
		for i, want := range []bool{true, false} {
			sent, err := db.RemindReview(ctx, org, remind, letter)
			if err != nil || sent != want {
				t.Fatalf("reminder %d: sent %v, want %v (%v)", i, sent, want, err)
			}
		}
		clock.advance(remind - time.Second)
		if sent, _ := db.RemindReview(ctx, org, remind, letter); sent {
			t.Fatal("reminded again within the interval")
		}
		clock.advance(time.Second)
		if sent, _ := db.RemindReview(ctx, org, remind, letter); !sent {
			t.Fatal("not reminded again after the interval")
		}
		if last, _ := db.LastReviewReminder(ctx, org); !last.Equal(clock.now()) {
			t.Fatalf("last reminder %v", last)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		if len(mails) != 2 || mails[0].Kind != governance.LetterReviewReminder {
			t.Fatalf("letters %+v", mails)
		}
		// Each reminder sent is in the log, as every letter to a consumer is; a reminder not sent is not.
		if ev := lifeEvents(t, db, org, KindLetter); len(ev) != 2 || !strings.Contains(string(ev[0].Event), governance.LetterReviewReminder) || ev[0].Actor != "deling" {
			t.Fatalf("letter events %+v", ev)
		}
		// The review done, nothing is due.
		if err := db.ConfirmMemberships(ctx, u.ID, org, "user:"+u.ID); err != nil {
			t.Fatal(err)
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due after the review: %+v", ds)
		}
	})
}
