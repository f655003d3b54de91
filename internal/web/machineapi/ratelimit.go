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
// PostgreSQL) the requests a second are counted across the cluster, and a
// block one node makes holds on every node (store.BlockRate).
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
	// blockErr is why a block could not be shared with the other nodes
	// (this node blocks all the same).
	blockErr error
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
		ok, wait, err := l.shared.allow(ctx, consumer, perSecond, now)
		l.mu.Lock()
		if err != nil {
			return verdict{err: err}
		}
		if ok {
			return verdict{ok: true}
		}
		if wait > time.Second {
			// Another node blocked the consumer (a spent budget frees one
			// request within 1/limit): blocked here too, for what is left.
			c.blockedUntil = now.Add(wait)
			return verdict{retryAfter: wait}
		}
	}
	if now.Sub(c.windowStart) > l.strikeWindow {
		c.windowStart, c.rejected = now, 0
	}
	c.rejected++
	if c.rejected <= perSecond {
		return verdict{retryAfter: time.Second / time.Duration(perSecond)}
	}
	c.blockedUntil = now.Add(l.blockFor)
	c.rejected = 0
	v := verdict{retryAfter: l.blockFor, newlyBlocked: true}
	if l.shared != nil {
		// Rule AA-15: the block holds on every node on the database.
		l.mu.Unlock()
		v.blockErr = l.shared.block(ctx, consumer, l.blockFor)
		l.mu.Lock()
	}
	return v
}

// sharedBudget counts a consumer's requests across every node on the
// database (store.TakeRate: a token bucket on the database's clock with a
// burst of one second's worth), and shares blocks (store.BlockRate). A node
// claims claimSize(limit) requests at a time and admits them from memory
// until they are used, so only one request in that many asks the database;
// a claim is paid for when it is taken, so the cluster admits at most the
// limit and one claim per node more, and a consumer paced at its limit is
// always admitted.
type sharedBudget struct {
	take    func(ctx context.Context, consumer string, n, limit int) (int, time.Duration, error)
	block   func(ctx context.Context, consumer string, d time.Duration) error
	mu      sync.Mutex
	budgets map[string]*nodeBudget // consumer → this node's claim
}

type nodeBudget struct {
	mu    sync.Mutex
	left  int       // claimed and not yet admitted
	retry time.Time // the cluster's budget was spent, or the consumer blocked: no claim before then
}

func newSharedBudget(take func(ctx context.Context, consumer string, n, limit int) (int, time.Duration, error),
	block func(ctx context.Context, consumer string, d time.Duration) error) *sharedBudget {
	return &sharedBudget{take: take, block: block, budgets: map[string]*nodeBudget{}}
}

// claimSize is how many requests a node claims at a time: a fiftieth of the
// limit, so that what a node holds unused stays within a few percent.
func claimSize(limit int) int { return max(1, limit/50) }

// spentPause is how long a node waits after the cluster's budget was spent
// before it asks again: the bucket frees a claim's worth (a fiftieth of the
// limit) in a fiftieth of a second.
const spentPause = time.Second / 50

// allow admits one request of consumer from this node's claim, claiming
// more when it is used up; refused, wait is how long until the cluster's
// budget has room again (longer than a second: the consumer is blocked).
func (b *sharedBudget) allow(ctx context.Context, consumer string, limit int, now time.Time) (ok bool, wait time.Duration, err error) {
	b.mu.Lock()
	w := b.budgets[consumer]
	if w == nil {
		w = &nodeBudget{}
		b.budgets[consumer] = w
	}
	b.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.left == 0 && !now.Before(w.retry) {
		n, wait, err := b.take(ctx, consumer, claimSize(limit), limit)
		if err != nil {
			return false, 0, err
		}
		w.left = n
		if n == 0 {
			w.retry = now.Add(max(spentPause, wait))
		}
	}
	if w.left == 0 {
		return false, w.retry.Sub(now), nil
	}
	w.left--
	return true, 0, nil
}
