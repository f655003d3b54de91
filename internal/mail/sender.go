// Package mail delivers the store's outbox over SMTP: notices to subscribed
// contacts, reminders, and the written notices a consumer gets when its
// access changes (governance.Letter). Letters are queued in the transaction
// of the change they tell of; a job here takes them from an Outbox (the
// store), sends them and marks each sent, or counts the failed attempt. Tests
// send to mailtest.Sink, a small SMTP server.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"deling/internal/governance"
)

// Config says how to reach the SMTP server.
type Config struct {
	Addr     string // host:port
	User     string // AUTH PLAIN user; empty sends no AUTH
	Password string
	From     string // the envelope and header sender, e.g. deling@example.no
	// Hello is the name given in EHLO; default "localhost".
	Hello string
	// TLS configures STARTTLS, used whenever the server offers it; nil verifies the server's name.
	TLS *tls.Config
	// Timeout bounds a whole delivery round on one connection; default one minute.
	Timeout time.Duration
}

// Outbox is where the letters wait; *store.DB is one. Declared here so that
// mail needs nothing of the store but these methods. ClaimMail hands out
// each letter to one sender at a time, for a lease that MarkMail or
// ReleaseMail ends.
type Outbox interface {
	ClaimMail(ctx context.Context, limit, maxAttempts int) ([]governance.Letter, error)
	MarkMail(ctx context.Context, id string, sendErr error) error
	ReleaseMail(ctx context.Context, ids ...string) error
}

// Sender delivers letters from an outbox.
type Sender struct {
	cfg Config
}

// NewSender checks cfg and makes a Sender.
func NewSender(cfg Config) (*Sender, error) {
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("smtp address %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || from.Address != cfg.From {
		return nil, fmt.Errorf("sender address %q: want a plain address", cfg.From)
	}
	if cfg.Hello == "" {
		cfg.Hello = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	return &Sender{cfg: cfg}, nil
}

// markTimeout bounds recording an attempt (MarkMail) and handing letters back
// (ReleaseMail): well under the claim's lease (store.MailLease, ten minutes),
// so that a node never records on a letter whose lease has run out while it
// waited for the database.
const markTimeout = 30 * time.Second

// Deliver sends up to batch pending letters with fewer than maxAttempts tries
// over one connection. Each letter is marked sent, or its failed attempt is
// counted with the server's answer (it stays pending until maxAttempts).
// When the server cannot be reached at all, no attempt is counted: the
// letters wait for the next round. It returns how many were sent.
func (s *Sender) Deliver(ctx context.Context, out Outbox, batch, maxAttempts int) (sent int, err error) {
	ms, err := out.ClaimMail(ctx, batch, maxAttempts)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	// Letters not tried when the round ends early are handed back at once,
	// not left claimed until the lease runs out. A failure to hand them back
	// is returned (the job logs it): they wait for the lease.
	tried := 0
	defer func() {
		if tried == len(ms) {
			return
		}
		var ids []string
		for _, m := range ms[tried:] {
			ids = append(ids, m.ID)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		defer cancel()
		if rerr := out.ReleaseMail(rctx, ids...); rerr != nil {
			err = errors.Join(err, fmt.Errorf("%d letters not handed back: %w", len(ids), rerr))
		}
	}()
	c, err := s.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	for _, m := range ms {
		// Between letters, not during one: a round whose node stopped leading
		// ends here, and the next leader sends the rest.
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		sendErr := s.send(c, m)
		tried++
		// A letter sent is marked sent even if ctx ended meanwhile: unmarked,
		// the next round would send it again. A letter another node claimed
		// after this node's lease ran out is left to it: the round ends.
		if err := s.mark(ctx, out, m.ID, sendErr); err != nil {
			return sent, fmt.Errorf("mark mail %s: %w", m.ID, err)
		}
		if sendErr == nil {
			sent++
			continue
		}
		if errors.Is(sendErr, errBadLetter) {
			continue // nothing was sent for it
		}
		// A refusal (an SMTP reply) leaves the connection usable after RSET; anything else ends the round.
		var reply *textproto.Error
		if !errors.As(sendErr, &reply) || c.Reset() != nil {
			return sent, fmt.Errorf("smtp: %w", sendErr)
		}
	}
	if err := c.Quit(); err != nil {
		return sent, fmt.Errorf("smtp quit: %w", err)
	}
	return sent, nil
}

// mark records an attempt, within markTimeout, even if ctx has ended.
func (s *Sender) mark(ctx context.Context, out Outbox, id string, sendErr error) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	return out.MarkMail(mctx, id, sendErr)
}

// dial connects, says EHLO, starts TLS when offered and authenticates when configured.
func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	conn, err := (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	conn.SetDeadline(time.Now().Add(s.cfg.Timeout))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smtp: %w", err)
	}
	fail := func(err error) (*smtp.Client, error) {
		c.Close()
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if err := c.Hello(s.cfg.Hello); err != nil {
		return fail(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := s.cfg.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tc); err != nil {
			return fail(err)
		}
	}
	if s.cfg.User != "" {
		// PlainAuth refuses to send the password over an unencrypted connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, host)); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// errBadLetter is a letter that cannot be sent as it is.
var errBadLetter = errors.New("bad letter")

// send sends one letter on an open connection.
func (s *Sender) send(c *smtp.Client, m governance.Letter) error {
	msg, err := s.Message(m)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadLetter, err)
	}
	if err := c.Mail(s.cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// Message is a letter as an RFC 5322 message: UTF-8 plain text, quoted-printable.
func (s *Sender) Message(m governance.Letter) ([]byte, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return nil, fmt.Errorf("recipient %q is not a plain address", m.To)
	}
	subject := strings.Join(strings.Fields(m.Subject), " ") // no line breaks: no header injection
	domain := s.cfg.From[strings.LastIndexByte(s.cfg.From, '@')+1:]
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", (&mail.Address{Name: "Aa-registeret", Address: s.cfg.From}).String())
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", m.CreatedAt.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+m.ID+"@"+domain+">")
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
