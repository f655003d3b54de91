package bearer

import (
	"crypto/sha256"
	"sync"
	"time"

	"deling/internal/token"
)

// cache holds verified tokens by the SHA-256 of the raw token. It is
// bounded: when full it drops expired entries and, if still full, an
// arbitrary eighth of the rest, so the cost of eviction is spread out.
type cache struct {
	mu      sync.RWMutex
	max     int
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	claims token.Claims
	kid    string    // our signing key, "" for external tokens
	until  time.Time // use before this
}

func newCache(max int) *cache {
	return &cache{max: max, entries: make(map[[sha256.Size]byte]cacheEntry, min(max, 1024))}
}

func (c *cache) get(k [sha256.Size]byte) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	return e, ok
}

func (c *cache) remove(k [sha256.Size]byte) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

func (c *cache) put(k [sha256.Size]byte, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = e
}

// evict frees room.
func (c *cache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.max {
		return
	}
	drop := max(c.max/8, 1)
	for k := range c.entries { // map order is random enough
		if drop == 0 {
			break
		}
		delete(c.entries, k)
		drop--
	}
}

// sha256Key is the cache key of a raw token.
func sha256Key(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }
