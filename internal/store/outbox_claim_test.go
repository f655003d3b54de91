package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
		// The lease runs out (the clock is fixed, so the lease is moved back instead).
		if _, err := one.write.ExecContext(ctx, `UPDATE mail_outbox SET claimed_until = $1`, micros(fixedNow())-1); err != nil {
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
