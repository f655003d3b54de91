package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// downFor is how long the balancer skips a node that refused a connection
// (a passive health check, as nginx's max_fails/fail_timeout).
const downFor = 2 * time.Second

// maxProxiedBody is the largest request body the balancer keeps to send again
// to another node when the first refused the connection (the API's bodies
// are small searches).
const maxProxiedBody = 1 << 20

// RoundRobin is the bench's load balancer for a cluster run: a reverse proxy
// that hands each request to the next node in turn, as a plain HTTP load
// balancer in front of `deling serve` nodes would (docs/SCALING.md), with a
// passive health check. A node that refuses the connection (killed, not yet
// listening) is skipped for downFor, and the request goes to the next node:
// safe, as it never reached a server. A request that reached a node and
// failed there (the node died mid-answer, or answered an error) is never
// retried: it may have been logged, so a lookup is answered by at most one
// node. It answers 502 when no node takes the connection.
func RoundRobin(nodes []string) (http.Handler, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("load balancer: no nodes")
	}
	lb := &balancer{backends: make([]backend, len(nodes))}
	transport := &http.Transport{MaxIdleConnsPerHost: 256, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		Proxy: noResend}
	for i, n := range nodes {
		u, err := url.Parse(n)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("load balancer: node %q is not a URL", n)
		}
		lb.backends[i].proxy = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.Out.Host = r.In.Host // the nodes see the address the clients use (the token audience)
			},
			Transport: transport,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if f, ok := r.Context().Value(failureKey{}).(*failure); ok {
					f.err = err
					return // the balancer decides: another node, or 502
				}
				w.WriteHeader(http.StatusBadGateway)
			},
		}
	}
	return lb, nil
}

type balancer struct {
	backends []backend
	next     atomic.Uint64
}

type backend struct {
	proxy     *httputil.ReverseProxy
	downUntil atomic.Int64 // Unix nanoseconds: skipped until then
}

type failureKey struct{}

// failure is where a backend's proxy leaves its error instead of answering,
// and whether the request was ever written to a node.
type failure struct {
	err   error
	wrote atomic.Bool
}

func (lb *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxProxiedBody+1))
		if err != nil || len(b) > maxProxiedBody {
			http.Error(w, "request body unreadable or too large for the load balancer", http.StatusBadGateway)
			return
		}
		body = b
	}
	// The nodes in turn from the next one, those marked down last (tried
	// only when every node before them refused).
	n := len(lb.backends)
	start := int(lb.next.Add(1)-1) % n
	now := time.Now().UnixNano()
	order := make([]*backend, 0, n)
	for _, down := range []bool{false, true} {
		for k := range n {
			if be := &lb.backends[(start+k)%n]; (be.downUntil.Load() > now) == down {
				order = append(order, be)
			}
		}
	}
	for _, be := range order {
		f := &failure{}
		// Written once is reached (noResend).
		ctx := httptrace.WithClientTrace(context.WithValue(r.Context(), failureKey{}, f),
			&httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { f.wrote.Store(true) }})
		req := r.Clone(ctx)
		if body != nil {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		be.proxy.ServeHTTP(w, req)
		if f.err == nil {
			return
		}
		if f.wrote.Load() || !refused(f.err) {
			// It reached the node: never sent again.
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		be.downUntil.Store(time.Now().Add(downFor).UnixNano())
	}
	w.WriteHeader(http.StatusBadGateway)
}

// errResent is noResend's error.
var errResent = errors.New("load balancer: the request was written to a node: not sent again")

// noResend is the balancer's Transport.Proxy (no proxy): http.Transport asks
// it before each attempt of a request, and it refuses an attempt after the
// request was written. The Transport itself sends a GET again on a new
// connection when a kept-alive one closes after the request was written to
// it (Request.isReplayable: a GET always is, whatever its headers), and the
// node may have answered and logged it.
func noResend(r *http.Request) (*url.URL, error) {
	if f, ok := r.Context().Value(failureKey{}).(*failure); ok && f.wrote.Load() {
		return nil, errResent
	}
	return nil, nil
}

// refused tells an error of connecting (the request never reached a server)
// from one after the connection was made.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
