package mail

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"deling/internal/governance"
	"deling/internal/mail/mailtest"
	"deling/internal/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newSink(t *testing.T) *mailtest.Sink {
	t.Helper()
	s, err := mailtest.NewSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "deling@localhost"
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pending(t *testing.T, db *store.DB) []governance.Letter {
	t.Helper()
	ms, err := db.PendingMail(context.Background(), 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Rule AA-20: notices reach the contacts by e-mail: the outbox is delivered over SMTP and marked sent.
func TestDeliver(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	sink := newSink(t)
	body := "Hei,\n\nplanlagt nedetid fra 01.12.2026 kl. 18:00 – «vedlikehold».\n.\nEn linje med punktum over.\n"
	if err := db.QueueMail(ctx,
		governance.Letter{Consumer: "310000001", Kind: "notice", To: "a@a.example", Subject: "Planlagt nedetid: øvelse\r\nBcc: x@evil.example", Body: body},
		governance.Letter{Consumer: "310000001", Kind: "notice", To: "b@a.example", Subject: "Nyhet", Body: "Kort."},
	); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, Config{Addr: sink.Addr, From: "deling@register.example"})
	n, err := s.Deliver(ctx, db, 50, 10)
	if err != nil || n != 2 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	if p := pending(t, db); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
	sent, _ := db.MailTo(ctx, "310000001", 10)
	for _, m := range sent {
		if m.SentAt == nil || m.Attempts != 1 {
			t.Fatalf("not marked sent: %+v", m)
		}
	}
	msgs := sink.Messages()
	if len(msgs) != 2 || msgs[0].From != "deling@register.example" || len(msgs[0].To) != 1 || msgs[0].To[0] != "a@a.example" {
		t.Fatalf("sink got %+v", msgs)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "Planlagt nedetid: øvelse Bcc: x@evil.example" {
		t.Fatalf("subject %q: %v", subject, err)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("To") != "a@a.example" || m.Header.Get("Message-Id") == "" {
		t.Fatalf("headers: %v", m.Header)
	}
	raw, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if got := strings.ReplaceAll(string(raw), "\r\n", "\n"); err != nil || got != body {
		t.Fatalf("body:\n%q\nwant\n%q (%v)", raw, body, err)
	}
	// Nothing to send: no connection.
	if n, err := s.Deliver(ctx, db, 50, 10); n != 0 || err != nil {
		t.Fatalf("empty outbox: %d %v", n, err)
	}
}

// A refusing server leaves the letters pending, with the attempt counted, until the maximum.
func TestDeliverRefused(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	sink := newSink(t)
	sink.Refuse("550 5.1.1 Ingen slik mottaker")
	if err := db.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.example", Subject: "S", Body: "B"},
		governance.Letter{Kind: "notice", To: "b@a.example", Subject: "S", Body: "B"}); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, Config{Addr: sink.Addr})
	for round := 1; round <= 2; round++ {
		n, err := s.Deliver(ctx, db, 50, 2)
		if err != nil || n != 0 {
			t.Fatalf("round %d: sent %d, %v", round, n, err)
		}
		p, _ := db.PendingMail(ctx, 100, 100)
		if len(p) != 2 || p[0].Attempts != round || p[1].Attempts != round || !strings.Contains(p[0].LastError, "550") {
			t.Fatalf("round %d: %+v", round, p)
		}
	}
	// With max attempts 2, they are not tried again.
	sink.Refuse("")
	if n, err := s.Deliver(ctx, db, 50, 2); n != 0 || err != nil || len(sink.Messages()) != 0 {
		t.Fatalf("tried after the maximum: %d %v", n, err)
	}
	// A higher maximum lets them through once the server accepts.
	if n, err := s.Deliver(ctx, db, 50, 10); n != 2 || err != nil {
		t.Fatalf("after the refusal ended: %d %v", n, err)
	}
}

// An unreachable server counts no attempts; a letter that cannot be sent does not stop the others.
func TestDeliverUnreachableAndBadLetter(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := db.QueueMail(ctx, governance.Letter{Kind: "notice", To: "ikke en adresse", Subject: "S", Body: "B"},
		governance.Letter{Kind: "notice", To: "b@a.example", Subject: "S", Body: "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := newSender(t, Config{Addr: closed}).Deliver(ctx, db, 50, 10); err == nil {
		t.Fatal("no error from an unreachable server")
	}
	for _, m := range pending(t, db) {
		if m.Attempts != 0 {
			t.Fatalf("attempt counted while unreachable: %+v", m)
		}
	}
	sink := newSink(t)
	if n, err := newSender(t, Config{Addr: sink.Addr}).Deliver(ctx, db, 50, 10); n != 1 || err != nil {
		t.Fatalf("sent %d: %v", n, err)
	}
	p := pending(t, db)
	if len(p) != 1 || p[0].To != "ikke en adresse" || p[0].Attempts != 1 || p[0].LastError == "" {
		t.Fatalf("bad letter: %+v", p)
	}
}

func TestDeliverWithAuth(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	sink := newSink(t)
	sink.RequireAuth("deling", "hemmelig")
	if err := db.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.example", Subject: "S", Body: "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := newSender(t, Config{Addr: sink.Addr, User: "deling", Password: "feil"}).Deliver(ctx, db, 50, 10); err == nil {
		t.Fatal("wrong password accepted")
	}
	if n, err := newSender(t, Config{Addr: sink.Addr, User: "deling", Password: "hemmelig"}).Deliver(ctx, db, 50, 10); n != 1 || err != nil {
		t.Fatalf("with the password: %d %v", n, err)
	}
	if _, err := NewSender(Config{Addr: "no-port", From: "deling@localhost"}); err == nil {
		t.Fatal("address without port accepted")
	}
	if _, err := NewSender(Config{Addr: "localhost:25", From: "Deling <deling@localhost>"}); err == nil {
		t.Fatal("sender with a display name accepted")
	}
}

// watchedOutbox is the real store, with a record of the deadlines MarkMail
// and ReleaseMail were given, and a ReleaseMail that fails when told to.
type watchedOutbox struct {
	*store.DB
	failRelease bool
	deadlines   []time.Duration // left until each call's deadline; -1 for none
}

func (o *watchedOutbox) left(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	return time.Until(d)
}

func (o *watchedOutbox) MarkMail(ctx context.Context, id string, sendErr error) error {
	o.deadlines = append(o.deadlines, o.left(ctx))
	return o.DB.MarkMail(ctx, id, sendErr)
}

func (o *watchedOutbox) ReleaseMail(ctx context.Context, ids ...string) error {
	o.deadlines = append(o.deadlines, o.left(ctx))
	if o.failRelease {
		return errors.New("the database went away")
	}
	return o.DB.ReleaseMail(ctx, ids...)
}

// Letters that could not be handed back are reported, not dropped; recording
// an attempt and handing back have a deadline well within the claim's lease,
// so that a node does not record on a letter whose lease ran out meanwhile.
func TestDeliverReleaseAndMarkBounded(t *testing.T) {
	ctx := context.Background()
	out := &watchedOutbox{DB: openStore(t), failRelease: true}
	if err := out.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.example", Subject: "S", Body: "B"},
		governance.Letter{Kind: "notice", To: "b@a.example", Subject: "S", Body: "B"}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, err = newSender(t, Config{Addr: closed}).Deliver(ctx, out, 50, 10)
	if err == nil || !strings.Contains(err.Error(), "2 letters not handed back: the database went away") {
		t.Fatalf("a failed release not reported: %v", err)
	}
	// A round that sends: each attempt recorded within the deadline.
	out = &watchedOutbox{DB: openStore(t), deadlines: out.deadlines}
	if err := out.QueueMail(ctx, governance.Letter{Kind: "notice", To: "a@a.example", Subject: "S", Body: "B"},
		governance.Letter{Kind: "notice", To: "b@a.example", Subject: "S", Body: "B"}); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t)
	if n, err := newSender(t, Config{Addr: sink.Addr}).Deliver(ctx, out, 50, 10); n != 2 || err != nil {
		t.Fatalf("sent %d: %v", n, err)
	}
	if len(out.deadlines) != 3 {
		t.Fatalf("%d calls, want a release and two marks", len(out.deadlines))
	}
	for _, d := range out.deadlines {
		if d <= 0 || d > markTimeout || markTimeout > store.MailLease/10 {
			t.Fatalf("deadline %v: want one within %v, well under the lease %v", d, markTimeout, store.MailLease)
		}
	}
}
