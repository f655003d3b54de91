package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"deling/internal/governance"
)

// The deprecations of API versions are kept in memory: apiHeaders runs on
// every request and must not query the database each time. They are loaded at
// most every deprecationRefresh (a notice published on another node shows
// within that), and at once when this process publishes one.
const deprecationRefresh = 10 * time.Second

type deprecationCache struct {
	set atomic.Pointer[deprecationSet]
	mu  sync.Mutex // held while loading
}

type deprecationSet struct {
	loaded time.Time
	list   []governance.Deprecation
}

func (s *Server) deprecationCache() *deprecationCache { return &s.deprecations }

// apiHeaders sets headers every answer under a deprecated API version carries:
// Deprecation and Sunset while the old version lives its last months (Rule AA-23).
// It runs on every request, so it must not touch the database each time.
func (s *Server) apiHeaders(w http.ResponseWriter, r *http.Request) {
	c := s.deprecationCache()
	now := s.now()
	set := c.set.Load()
	if set == nil || now.Sub(set.loaded) >= deprecationRefresh || now.Before(set.loaded) {
		// One request reloads; the others go on with what is there.
		if c.mu.TryLock() {
			set = s.loadDeprecations(r.Context(), now)
			c.mu.Unlock()
		}
	}
	if set == nil {
		return
	}
	for _, d := range set.list {
		if d.Covers(r.URL.Path) && now.Before(d.Sunset) {
			h := w.Header()
			// RFC 9745: when the version was deprecated, as a structured-field date.
			h.Set("Deprecation", "@"+strconv.FormatInt(d.Since.Unix(), 10))
			// RFC 8594: when it goes.
			h.Set("Sunset", d.Sunset.UTC().Format(http.TimeFormat))
			h.Add("Link", `</driftsmeldinger#`+d.NoticeID+`>; rel="deprecation"`)
			return
		}
	}
}

// reloadDeprecations loads the deprecations now, after this process published a change.
func (s *Server) reloadDeprecations(ctx context.Context) {
	c := s.deprecationCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	s.loadDeprecations(ctx, s.now())
}

// loadDeprecations reads the deprecations into the cache (c.mu held). On a
// failure the old list stays and the next load is tried after deprecationRefresh.
func (s *Server) loadDeprecations(ctx context.Context, now time.Time) *deprecationSet {
	c := s.deprecationCache()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	next := &deprecationSet{loaded: now}
	ns, err := s.db.DeprecationNotices(ctx)
	if err != nil {
		s.log.Warn("load API deprecations", "err", err)
		if old := c.set.Load(); old != nil {
			next.list = old.list
		}
	} else {
		next.list = governance.Deprecations(ns, now)
	}
	c.set.Store(next)
	return next
}
