package machineapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter enforces each consumer's requests per second (Rule AA-15: default
// 200/s with a burst of one second's worth). A consumer that keeps exceeding
// its limit — more rejected requests within strikeWindow than its limit per
// second — is blocked for blockFor. State is per process: behind a load
// balancer each node enforces the limit on its share.
type limiter struct {
	mu           sync.Mutex
	consumers    map[string]*consumerLimit
	blockFor     time.Duration
	strikeWindow time.Duration
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
}

func (l *limiter) allow(consumer string, perSecond int, now time.Time) verdict {
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
	if c.bucket.AllowN(now, 1) {
		return verdict{ok: true}
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
