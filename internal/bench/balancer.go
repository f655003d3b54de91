package bench

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// RoundRobin is the bench's load balancer for a cluster run: a reverse proxy
// that hands each request to the next node in turn, as a plain HTTP load
// balancer in front of `deling serve` nodes would (docs/SCALING.md). A node
// that cannot be reached answers 502 for the requests sent to it; nothing is
// retried on another node, so a lookup is answered by exactly one node.
func RoundRobin(nodes []string) (http.Handler, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("load balancer: no nodes")
	}
	proxies := make([]*httputil.ReverseProxy, len(nodes))
	transport := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}
	for i, n := range nodes {
		u, err := url.Parse(n)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("load balancer: node %q is not a URL", n)
		}
		proxies[i] = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.Out.Host = r.In.Host // the nodes see the address the clients use (the token audience)
			},
			Transport: transport,
		}
	}
	var next atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[(next.Add(1)-1)%uint64(len(proxies))].ServeHTTP(w, r)
	}), nil
}
