package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows how far a long job has come: a bar redrawn in place on a
// terminal, or a plain line every 10 % (and at most every few seconds) when
// the output is a file or a pipe.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	what      string
	total     int64
	done      int64
	start     time.Time
	last      time.Time
	lastTenth int64
}

func newProgress(w io.Writer, what string, total int64) *progress {
	return &progress{w: w, tty: isTerminal(w), what: what, total: total, start: time.Now(), lastTenth: -1}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add records n more units done.
func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) >= 200*time.Millisecond || p.done == p.total {
			p.last = now
			fmt.Fprintf(p.w, "\r%s", p.line(now))
		}
		return
	}
	if p.total > 0 {
		tenth := p.done * 10 / p.total
		if tenth > p.lastTenth && (now.Sub(p.last) >= 2*time.Second || tenth == 10 || p.lastTenth < 0) {
			p.lastTenth, p.last = tenth, now
			fmt.Fprintln(p.w, p.line(now))
		}
	}
}

// Finish ends the bar's line.
func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\n", p.line(time.Now()))
	}
}

func (p *progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	if p.total <= 0 {
		return fmt.Sprintf("%s: %s in %s", p.what, thousands(p.done), elapsed.Round(time.Second))
	}
	frac := float64(p.done) / float64(p.total)
	const width = 30
	bar := strings.Repeat("█", int(frac*width)) + strings.Repeat("░", width-int(frac*width))
	eta := ""
	if p.done > 0 && p.done < p.total {
		left := time.Duration(float64(elapsed) * (1/frac - 1))
		eta = ", " + left.Round(time.Second).String() + " left"
	}
	return fmt.Sprintf("%s %s %3.0f%% %s/%s (%s%s)", p.what, bar, frac*100, thousands(p.done), thousands(p.total), elapsed.Round(time.Second), eta)
}

// count writes n with the noun's singular or plural form: "1 record",
// "1,234 records".
func count[N int | int64 | uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(int64(n)) + " " + many
}

// thousands writes 1234567 as 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
