// Package mailtest is for tests only: a small real SMTP server (Sink) that
// keeps the letters it accepts, so that tests of package mail and of the
// command can send real mail without a mail server. It is kept out of package
// mail so that no production binary carries a mail server.
package mailtest

import (
	"encoding/base64"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Sink is a small real SMTP server for tests (RFC 5321, as much as net/smtp
// speaks: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT). It
// listens on 127.0.0.1 and keeps every letter it accepts.
type Sink struct {
	// Addr is where it listens, host:port.
	Addr string

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	msgs  []Message
	conns map[net.Conn]bool
	done  bool

	refuse string // the reply to every RCPT, when set
	auth   string // "\x00user\x00password" when AUTH PLAIN is required
}

// Message is a letter the sink accepted.
type Message struct {
	From string
	To   []string
	Data []byte // the message as sent, dot-unstuffed, with \n line ends
}

// NewSink starts a sink on 127.0.0.1 on a free port. Close stops it.
func NewSink() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Refuse makes the sink answer every RCPT with reply, e.g. "550 5.1.1 Mailbox unavailable"; "" accepts again.
func (s *Sink) Refuse(reply string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = reply
}

// RequireAuth makes the sink offer AUTH PLAIN and refuse MAIL until a client authenticates as user.
func (s *Sink) RequireAuth(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = "\x00" + user + "\x00" + password
}

// Messages are the letters accepted so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops listening, ends open sessions and waits for them.
func (s *Sink) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.session(c)
		}()
	}
}

// session speaks SMTP on one connection until QUIT or an error.
func (s *Sink) session(c net.Conn) {
	c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			if tp.PrintfLine("%s", l) != nil {
				return false
			}
		}
		return true
	}
	s.mu.Lock()
	needAuth := s.auth != ""
	s.mu.Unlock()
	authed := false
	var from string
	var to []string
	inMail := false
	if !reply("220 deling-sink ESMTP") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-deling-sink", "250-8BITMIME"}
			if needAuth {
				lines = append(lines, "250-AUTH PLAIN")
			}
			if !reply(append(lines, "250 HELP")...) {
				return
			}
		case "HELO":
			reply("250 deling-sink")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 5.5.4 Unrecognized authentication type")
				continue
			}
			if resp == "" {
				reply("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			got, err := base64.StdEncoding.DecodeString(resp)
			s.mu.Lock()
			ok := err == nil && needAuth && string(got) == s.auth
			s.mu.Unlock()
			if ok {
				authed = true
				reply("235 2.7.0 Authentication successful")
			} else {
				reply("535 5.7.8 Authentication credentials invalid")
			}
		case "MAIL":
			addr, err := pathArg(arg, "FROM:")
			switch {
			case needAuth && !authed:
				reply("530 5.7.0 Authentication required")
			case err != nil:
				reply("501 5.5.4 Syntax: MAIL FROM:<address>")
			default:
				from, to, inMail = addr, nil, true
				reply("250 2.1.0 OK")
			}
		case "RCPT":
			addr, err := pathArg(arg, "TO:")
			s.mu.Lock()
			refuse := s.refuse
			s.mu.Unlock()
			switch {
			case !inMail:
				reply("503 5.5.1 MAIL first")
			case err != nil:
				reply("501 5.5.4 Syntax: RCPT TO:<address>")
			case refuse != "":
				reply(refuse)
			default:
				to = append(to, addr)
				reply("250 2.1.5 OK")
			}
		case "DATA":
			if !inMail || len(to) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			if !reply("354 End data with <CR><LF>.<CR><LF>") {
				return
			}
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, Message{From: from, To: to, Data: data})
			s.mu.Unlock()
			from, to, inMail = "", nil, false
			reply("250 2.0.0 OK: queued")
		case "RSET":
			from, to, inMail = "", nil, false
			reply("250 2.0.0 OK")
		case "NOOP":
			reply("250 2.0.0 OK")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognized")
		}
	}
}

// pathArg reads "FROM:<addr> [params]" or "TO:<addr>".
func pathArg(arg, prefix string) (string, error) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", errors.New("syntax")
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", errors.New("syntax")
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", errors.New("syntax")
	}
	return rest[1:end], nil
}
