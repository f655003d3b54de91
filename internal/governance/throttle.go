package governance

import (
	"net/netip"
	"time"
)

// Sign-in throttling (NIST SP 800-63B §5.2.2, OWASP's authentication cheat
// sheet): failed password attempts slow down whoever makes them, and never
// lock the account itself, so that nobody can keep its owner out by guessing
// wrong on purpose.
//
//   - per account and source address: after PairFree failures, each next
//     attempt from that pair waits Base·2^k (k = failures − PairFree), at most Cap;
//   - per source address, over every account: the same after SourceFree failures
//     (one address guessing across many accounts);
//   - a global ceiling: when more than GlobalCeiling attempts failed in the
//     current minute across all sources, the free failures drop to none — every
//     source that has failed waits — while a source with no failures still gets
//     its attempt, so the owner signs in from their own address even then.
//
// A correct password resets the pair's count only: a source's count is not
// reset by its own success (one valid account must not launder guesses at
// others). Counts older than Window are forgotten. The rule is this pure
// function; the counts live in the database, shared by every node and kept
// over restarts.
type Throttle struct {
	PairFree, SourceFree int
	Base, Cap            time.Duration
	GlobalCeiling        int
	Window               time.Duration
}

// DefaultThrottle is the sign-in throttle's numbers.
var DefaultThrottle = Throttle{PairFree: 3, SourceFree: 20, Base: time.Second, Cap: 5 * time.Minute, GlobalCeiling: 300, Window: 24 * time.Hour}

// Failures is a count of failed attempts and when the last one was.
type Failures struct {
	Count int
	Last  time.Time
}

// SignInAttempts is what is known of an attempt's keys when it arrives.
type SignInAttempts struct {
	Pair, Source Failures
	// GlobalMinute is how many attempts failed in the current minute, from every source.
	GlobalMinute int
}

// Wait is how long the attempt must wait before it is tried: 0 to try it now.
func (t Throttle) Wait(a SignInAttempts, now time.Time) time.Duration {
	pairFree, sourceFree := t.PairFree, t.SourceFree
	if a.GlobalMinute > t.GlobalCeiling {
		pairFree, sourceFree = 0, 0
	}
	return max(t.wait(a.Pair, pairFree, now), t.wait(a.Source, sourceFree, now))
}

func (t Throttle) wait(f Failures, free int, now time.Time) time.Duration {
	if f.Count == 0 || f.Count < free || now.Sub(f.Last) > t.Window {
		return 0
	}
	delay := t.Cap
	if k := f.Count - free; k < 30 {
		delay = min(t.Base<<k, t.Cap)
	}
	return max(0, f.Last.Add(delay).Sub(now))
}

// SourcePrefix is the part of a source address that may be logged: an IPv4
// address's /24, an IPv6 address's /48 — never the whole address.
func SourcePrefix(addr netip.Addr) string {
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}

// SourceKey is the address throttled as one source: an IPv4 address, or an
// IPv6 address's /64 (what one host or one customer usually holds).
func SourceKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return "unknown"
	}
	return p.String()
}
