package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/mail"
	"deling/internal/mail/mailtest"
)

// Issue 15: two nodes delivering the one outbox at once — as when leadership
// moves while a round is in flight — send each letter once, to a real SMTP
// server.
func TestOutboxTwoSendersEachLetterOnce(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		const letters = 60
		for i := range letters {
			if err := one.QueueMail(ctx, governance.Letter{Kind: "notice", To: fmt.Sprintf("l%d@a.test", i), Subject: "S", Body: "B"}); err != nil {
				t.Fatal(err)
			}
		}
		sink, err := mailtest.NewSink()
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		sender, err := mail.NewSender(mail.Config{Addr: sink.Addr, From: "deling@register.test"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		sent := make([]int, 2)
		for i, node := range []*DB{one, two} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 { // small batches, so that the two rounds interleave
					n, err := sender.Deliver(ctx, node, 3, 5)
					if err != nil {
						t.Error(err)
						return
					}
					sent[i] += n
				}
			}()
		}
		wg.Wait()
		got := map[string]int{}
		for _, m := range sink.Messages() {
			got[m.To[0]]++
		}
		for i := range letters {
			if to := fmt.Sprintf("l%d@a.test", i); got[to] != 1 {
				t.Errorf("%s received %d times, want once", to, got[to])
			}
		}
		if sent[0]+sent[1] != letters || len(sink.Messages()) != letters {
			t.Fatalf("sent %d + %d, sink holds %d; want %d", sent[0], sent[1], len(sink.Messages()), letters)
		}
		if p, _ := one.PendingMail(ctx, 100, 5); len(p) != 0 {
			t.Fatalf("still pending: %d", len(p))
		}
	})
}

// Issue 15: letters claimed by a node that died are not sent by another node
// while the claim's lease runs, and are sent once it has run out; letters a
// node could not try (no SMTP server) are handed back at once.
func TestOutboxClaimLease(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		if err := one.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.test", Subject: "S", Body: "B"},
			governance.Letter{Kind: "notice", To: "b@a.test", Subject: "S", Body: "B"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := one.ClaimMail(ctx, 10, 5) // and then node one dies
		if err != nil || len(claimed) != 2 || claimed[0].To != "a@a.test" {
			t.Fatalf("claimed %+v: %v", claimed, err)
		}
		if again, err := two.ClaimMail(ctx, 10, 5); err != nil || len(again) != 0 {
			t.Fatalf("claimed under another node's lease: %d, %v", len(again), err)
		}
		// Another node cannot release what it does not hold.
		if err := two.ReleaseMail(ctx, claimed[0].ID); err != nil {
			t.Fatal(err)
		}
		if again, _ := two.ClaimMail(ctx, 10, 5); len(again) != 0 {
			t.Fatalf("released by a node that did not claim it: %d", len(again))
		}
		// The lease runs out (moved back rather than waited for).
		if _, err := one.write.ExecContext(ctx, `UPDATE mail_outbox SET claimed_until = 1`); err != nil {
			t.Fatal(err)
		}
		// Node two's SMTP server is unreachable: its claim is handed back, no attempt counted.
		down, err := mail.NewSender(mail.Config{Addr: "127.0.0.1:1", From: "deling@register.test"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := down.Deliver(ctx, two, 10, 5); n != 0 || err == nil {
			t.Fatalf("delivered %d through no server: %v", n, err)
		}
		sink, err := mailtest.NewSink()
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		up, err := mail.NewSender(mail.Config{Addr: sink.Addr, From: "deling@register.test"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := up.Deliver(ctx, two, 10, 5); n != 2 || err != nil || len(sink.Messages()) != 2 {
			t.Fatalf("after the lease: sent %d (%d in the sink): %v", n, len(sink.Messages()), err)
		}
		if ms, _ := one.MailTo(ctx, "", 10); len(ms) != 2 || ms[0].Attempts != 1 || ms[1].Attempts != 1 {
			t.Fatalf("attempts after one failed dial and one round: %+v", ms)
		}
	})
}

// Issue 15: the lease runs on the database's clock. A node whose own clock
// runs an hour ahead took letters under another node's lease when each node
// set and checked the lease by its own clock.
func TestOutboxLeaseOnDatabaseClock(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		one.now = func() time.Time { return time.Now().Add(-time.Hour) }
		two.now = func() time.Time { return time.Now().Add(time.Hour) }
		if err := one.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.test", Subject: "S", Body: "B"}); err != nil {
			t.Fatal(err)
		}
		if claimed, err := one.ClaimMail(ctx, 10, 5); err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %d: %v", len(claimed), err)
		}
		if again, err := two.ClaimMail(ctx, 10, 5); err != nil || len(again) != 0 {
			t.Fatalf("a node with its clock ahead claimed %d under another's lease: %v", len(again), err)
		}
	})
}

// Issue 15: a node whose lease ran out while another node claimed the letter
// neither records its attempt nor ends the other's claim (MarkMail), nor
// hands it back (ReleaseMail); several letters are handed back at once; and
// a claim keeps its limit (on PostgreSQL a claim of one took every letter).
func TestMarkMailAfterLeaseLost(t *testing.T) {
	twoNodes(t, func(t *testing.T, one, two *DB) {
		ctx := context.Background()
		for _, to := range []string{"a@a.test", "b@a.test", "c@a.test"} {
			if err := one.QueueMail(ctx, governance.Letter{Kind: "notice", To: to, Subject: "S", Body: "B"}); err != nil {
				t.Fatal(err)
			}
		}
		claimed, err := one.ClaimMail(ctx, 1, 5)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %d: %v", len(claimed), err)
		}
		id := claimed[0].ID
		if _, err := one.write.ExecContext(ctx, `UPDATE mail_outbox SET claimed_until = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err) // node one's lease runs out
		}
		if got, err := two.ClaimMail(ctx, 1, 5); err != nil || len(got) != 1 || got[0].ID != id {
			t.Fatalf("node two claimed %+v: %v", got, err)
		}
		claim := func() (by string, until int64) {
			t.Helper()
			if err := one.read.QueryRowContext(ctx, `SELECT claimed_by, claimed_until FROM mail_outbox WHERE id = $1`, id).Scan(&by, &until); err != nil {
				t.Fatal(err)
			}
			return by, until
		}
		for _, sendErr := range []error{nil, errors.New("550 no")} {
			if err := one.MarkMail(ctx, id, sendErr); !errors.Is(err, ErrMailClaimLost) {
				t.Fatalf("node one marked a letter node two holds (send error %v): %v", sendErr, err)
			}
		}
		if err := one.ReleaseMail(ctx, id); err != nil {
			t.Fatal(err)
		}
		if by, until := claim(); by != two.claimant || until <= 1 {
			t.Fatalf("node two's claim ended by node one: by %q until %d", by, until)
		}
		if ms, _ := one.MailTo(ctx, "", 10); len(ms) != 3 || ms[0].Attempts+ms[1].Attempts+ms[2].Attempts != 0 {
			t.Fatalf("attempts recorded by the node that lost the lease: %+v", ms)
		}
		if err := two.MarkMail(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
		// The other two, claimed and handed back in one statement.
		rest, err := one.ClaimMail(ctx, 10, 5)
		if err != nil || len(rest) != 2 {
			t.Fatalf("claimed %d: %v %+v", len(rest), err, rest)
		}
		if err := one.ReleaseMail(ctx, rest[0].ID, rest[1].ID); err != nil {
			t.Fatal(err)
		}
		if again, err := two.ClaimMail(ctx, 10, 5); err != nil || len(again) != 2 {
			t.Fatalf("after the release node two claimed %d: %v", len(again), err)
		}
	})
}
