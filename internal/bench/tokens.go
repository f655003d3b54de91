package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"deling/internal/token"
	"deling/internal/token/authserver"
)

// tokenSource holds one access token per client, renewed at half their lifetime.
type tokenSource struct {
	clients []token.ClientFile
	hc      *http.Client
	log     *slog.Logger
	toks    []atomic.Pointer[string]
	next    atomic.Uint64
}

// start gets every client's first token and renews them until ctx ends; wait waits for the renewers.
func (ts *tokenSource) start(ctx context.Context) (wait func(), err error) {
	ts.toks = make([]atomic.Pointer[string], len(ts.clients))
	for i, c := range ts.clients {
		t, err := authserver.RequestToken(ctx, c, ts.hc)
		if err != nil {
			return nil, fmt.Errorf("token for client %s: %w", c.ClientID, err)
		}
		ts.toks[i].Store(&t)
	}
	var wg sync.WaitGroup
	for i := range ts.clients {
		wg.Go(func() { ts.renew(ctx, i) })
	}
	return wg.Wait, nil
}

func (ts *tokenSource) renew(ctx context.Context, i int) {
	for {
		wait := time.Until(tokenExpiry(*ts.toks[i].Load())) / 2
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
		t, err := authserver.RequestToken(ctx, ts.clients[i], ts.hc)
		if err != nil {
			if ctx.Err() == nil {
				ts.log.Warn("bench: renewing a token failed; trying again", "client", ts.clients[i].ClientID, "err", err)
			}
			continue
		}
		ts.toks[i].Store(&t)
	}
}

// token is the next token, round-robin over the clients.
func (ts *tokenSource) token() string {
	return *ts.toks[(ts.next.Add(1)-1)%uint64(len(ts.toks))].Load()
}

// tokenExpiry reads a JWT's exp without checking it (the server does that);
// an unreadable token counts as living a minute.
func tokenExpiry(raw string) time.Time {
	parts := strings.Split(raw, ".")
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var c struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(b, &c) == nil && c.Exp > 0 {
				return time.Unix(c.Exp, 0)
			}
		}
	}
	return time.Now().Add(time.Minute)
}
