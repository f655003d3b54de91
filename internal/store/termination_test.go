package store

import (
	"context"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// Rule AA-26: ending a consumer's access ends every grant and delegation at once, and the API's inputs show it on the next request.
func TestEndConsumerAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, proc = "310000011", "310000012"
		lifeConsumer(t, db, org, proc, "a@kommune.test", "b@kommune.test", "A@kommune.test")
		if d := lifeDecide(t, db, org, proc); !d.Permit {
			t.Fatalf("before: %v", d.Reason)
		}
		res, err := db.EndConsumerAccess(ctx, org, ReasonTerminated, "user:x", governance.Letter{Subject: "Kvittering", Body: "Tilgangen er avsluttet."})
		if err != nil {
			t.Fatal(err)
		}
		// Three grants (two active, one suspended), one delegation, two distinct contact addresses.
		if res.Grants != 3 || res.Delegations != 1 || res.Letters != 2 {
			t.Fatalf("result %+v, want 3 grants, 1 delegation, 2 letters", res)
		}
		grants, _ := db.Grants(ctx, org)
		for _, g := range grants {
			if g.Status != access.Ended || g.StatusReason != ReasonTerminated {
				t.Fatalf("grant %s: %s %q", g.ID, g.Status, g.StatusReason)
			}
		}
		dels, _ := db.Delegations(ctx, org)
		if len(dels) != 1 || dels[0].Status != access.Ended {
			t.Fatalf("delegations %+v", dels)
		}
		if d := lifeDecide(t, db, org, ""); d.Permit || d.Reason != access.DenyGrantEnded {
			t.Fatalf("after, consumer: permit %v reason %v", d.Permit, d.Reason)
		}
		if d := lifeDecide(t, db, org, proc); d.Permit || d.Reason != access.DenyNoDelegation {
			t.Fatalf("after, processor: permit %v reason %v", d.Permit, d.Reason)
		}
		ended := lifeEvents(t, db, org, audit.KindConsumerEnded)
		if len(ended) != 1 || !strings.Contains(string(ended[0].Event), ReasonTerminated) || ended[0].Actor != "user:x" {
			t.Fatalf("consumer.ended events: %+v", ended)
		}
		mails, _ := db.MailTo(ctx, org, 10)
		if len(mails) != 2 || mails[0].Kind != governance.LetterTermination {
			t.Fatalf("letters %+v", mails)
		}
		// Ending again ends nothing and is no error.
		if res, err := db.EndConsumerAccess(ctx, org, ReasonTerminated, "user:x"); err != nil || res.Grants != 0 {
			t.Fatalf("again: %+v %v", res, err)
		}
	})
}
