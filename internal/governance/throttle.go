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
// An attempt is "known" when its account has signed in successfully from the
// same source (SourceKey) within KnownFor, or from the same device (a device
// cookie remembered for that account). Counted attempts, each within Window:
//
//   - per account and source (or, for a known device, account and device):
//     after PairFree failures, each next attempt waits Base·2^k
//     (k = failures − free), at most Cap. This applies to every attempt;
//   - per source network (NetworkKey), over every account: the same after
//     SourceFree failures (one address guessing across many accounts);
//   - per account, over every source: the same after AccountFree failures
//     (many addresses guessing at one account);
//   - a global ceiling: when more than GlobalCeiling attempts were counted in
//     the current minute across all sources, the pair's and the network's
//     free failures drop to none, and every attempt waits at least for the
//     next minute (a global limit on guesses from strangers).
//
// The network, account and ceiling rules do not apply to known attempts: a
// stranger behind the owner's NAT, or a botnet guessing at the owner's
// account, cannot keep the owner out where they have signed in before.
//
// An attempt is counted (reserved) before its password is checked, so that
// parallel attempts cannot share the free ones. A correct password forgets
// the pair's count, takes back its own reservation from the others (a
// source's success does not launder its guesses at other accounts) and makes
// the pair (and device) known. The rule is this pure function; the counts
// live in the database, shared by every node and kept over restarts.
type Throttle struct {
	PairFree, SourceFree, AccountFree int
	Base, Cap                         time.Duration
	GlobalCeiling                     int
	Window                            time.Duration
	// KnownFor is how long a successful sign-in makes its pair and device known.
	KnownFor time.Duration
}

// DefaultThrottle is the sign-in throttle's numbers.
var DefaultThrottle = Throttle{PairFree: 3, SourceFree: 20, AccountFree: 100, Base: time.Second, Cap: 5 * time.Minute,
	GlobalCeiling: 300, Window: 24 * time.Hour, KnownFor: 90 * 24 * time.Hour}

// Failures is a count of failed attempts and when the last one was.
type Failures struct {
	Count int
	Last  time.Time
}

// SignInAttempts is what is known of an attempt's keys when it arrives, before it is counted.
type SignInAttempts struct {
	Pair, Source, Account Failures
	// GlobalMinute is how many attempts were counted in the current minute, from every source.
	GlobalMinute int
	// Known is whether the account signed in successfully from this source or device before.
	Known bool
}

// Wait is how long the attempt must wait before it is tried: 0 to try it now.
func (t Throttle) Wait(a SignInAttempts, now time.Time) time.Duration {
	if a.Known {
		return t.wait(a.Pair, t.PairFree, now)
	}
	pairFree, sourceFree := t.PairFree, t.SourceFree
	var ceiling time.Duration
	if a.GlobalMinute > t.GlobalCeiling {
		pairFree, sourceFree = 0, 0
		ceiling = now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	}
	return max(ceiling, t.wait(a.Pair, pairFree, now), t.wait(a.Source, sourceFree, now), t.wait(a.Account, t.AccountFree, now))
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

// SourceKey is the address an account's attempts are counted and known by:
// an IPv4 address, or an IPv6 address's /64 (what one host or one customer
// usually holds).
func SourceKey(addr netip.Addr) string { return sourceKey(addr, 64) }

// NetworkKey is the address counted over every account: an IPv4 address, or
// an IPv6 address's /48 (a site's allocation, so that one customer's 65,536
// /64s are one source).
func NetworkKey(addr netip.Addr) string { return sourceKey(addr, 48) }

func sourceKey(addr netip.Addr, v6bits int) string {
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(v6bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}
