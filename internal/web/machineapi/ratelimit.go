package machineapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter enforces each consumer's requests per second (Rule AA-15: default
// 200/s with a burst of one second's worth). A consumer that keeps exceeding
// its limit — more rejected requests within strikeWindow than its limit per
// second — is blocked for blockFor. With shared (several nodes on one
// PostgreSQL) the requests a second are counted across the cluster; the
// blocks are each node's own.
type limiter struct {
	mu           sync.Mutex
	consumers    map[string]*consumerLimit
	blockFor     time.Duration
	strikeWindow time.Duration
	shared       *sharedBudget // nil: this process alone counts (SQLite: the one process)
}

type consumerLimit struct {
	perSecond    int
	bucket       *rate.Limiter
	windowStart  time.Time
	rejected     int
	blockedUntil time.Time
}

func newLimiter(blockFor time.Duration) *limiter {
	return &limiter{consumers: map[string]*consumerLimit{}, blockFor: blockFor, strikeWindow: 10 * time.Second}
}

// verdict is the limiter's answer for one request.
type verdict struct {
	ok         bool
	retryAfter time.Duration
	// newlyBlocked is true for the request that caused a block, so it is logged once.
	newlyBlocked bool
	err          error // the shared budget could not be read: refuse (deny by default)
}

func (l *limiter) allow(ctx context.Context, consumer string, perSecond int, now time.Time) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.consumers[consumer]
	if c == nil || c.perSecond != perSecond {
		c = &consumerLimit{perSecond: perSecond, bucket: rate.NewLimiter(rate.Limit(perSecond), perSecond), windowStart: now}
		if old := l.consumers[consumer]; old != nil {
			c.blockedUntil = old.blockedUntil
		}
		l.consumers[consumer] = c
	}
	if now.Before(c.blockedUntil) {
		return verdict{retryAfter: c.blockedUntil.Sub(now)}
	}
	if l.shared == nil {
		if c.bucket.AllowN(now, 1) {
			return verdict{ok: true}
		}
	} else {
		l.mu.Unlock() // a claim may ask the database: other consumers need not wait for it
		ok, err := l.shared.allow(ctx, consumer, perSecond, now)
		l.mu.Lock()
		if err != nil {
			return verdict{err: err}
		}
		if ok {
			return verdict{ok: true}
		}
	}
	if now.Sub(c.windowStart) > l.strikeWindow {
		c.windowStart, c.rejected = now, 0
	}
	c.rejected++
	if c.rejected > perSecond {
		c.blockedUntil = now.Add(l.blockFor)
		c.rejected = 0
		return verdict{retryAfter: l.blockFor, newlyBlocked: true}
	}
	return verdict{retryAfter: time.Second / time.Duration(perSecond)}
}

// sharedBudget counts a consumer's requests in one-second windows across every
// node on the database (store.TakeRate). A node claims claimSize(limit)
// requests at a time and admits them from memory, so only one request in
// that many asks the database; a claim a node does not use before its window
// ends is lost, so the cluster admits at most the limit and at least the limit
// less one claim per node.
type sharedBudget struct {
	take    func(ctx context.Context, consumer string, window int64, n, limit int) (int, error)
	mu      sync.Mutex
	windows map[string]*budgetWindow // consumer → this node's share of the current window
}

type budgetWindow struct {
	mu    sync.Mutex
	start int64 // Unix second
	left  int   // claimed and not yet admitted
	spent bool  // the cluster has used the whole window: no more claims in it
}

func newSharedBudget(take func(ctx context.Context, consumer string, window int64, n, limit int) (int, error)) *sharedBudget {
	return &sharedBudget{take: take, windows: map[string]*budgetWindow{}}
}

// claimSize is how many requests a node claims at a time: a fiftieth of the
// limit, so that the budget lost to unused claims stays within a few percent.
func claimSize(limit int) int { return max(1, limit/50) }

func (b *sharedBudget) allow(ctx context.Context, consumer string, limit int, now time.Time) (bool, error) {
	b.mu.Lock()
	w := b.windows[consumer]
	if w == nil {
		w = &budgetWindow{}
		b.windows[consumer] = w
	}
	b.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	// Only forward: a request that read the time before waiting for the lock
	// counts in the window that is current, never resets to an older one.
	if sec := now.Unix(); sec > w.start {
		w.start, w.left, w.spent = sec, 0, false
	}
	if w.left == 0 && !w.spent {
		n, err := b.take(ctx, consumer, w.start, claimSize(limit), limit)
		if err != nil {
			return false, err
		}
		w.left, w.spent = n, n == 0
	}
	if w.left == 0 {
		return false, nil
	}
	w.left--
	return true, nil
}
