// Package clientaddr finds the address of the client behind trusted
// proxies (a load balancer, docs/SCALING.md): what sign-in throttling and
// the public forms' limits key on. Only a connection from a trusted proxy
// is believed about X-Forwarded-For; from anyone else the header is ignored,
// so that a client cannot choose the address it is counted under. No proxy
// is trusted unless configured (serve --trusted-proxy).
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the networks of the trusted proxies; none trusts no one.
type Proxies []netip.Prefix

// Parse reads "CIDR[,CIDR…]" (a bare address is a network of one). Empty is
// no proxy.
func Parse(s string) (Proxies, error) {
	var out Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q: want a network such as 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client is the client's address of a request that came from peer
// (r.RemoteAddr) with the X-Forwarded-For headers xff: the peer itself
// unless it is a trusted proxy; from a trusted proxy, the rightmost
// forwarded address that is not itself a trusted proxy (each proxy appends
// the address it was reached from, so the addresses to the left of it are
// the client's to write). An entry that is not an address stops the walk at
// the last proxy trusted. ok is false when peer is not an address.
func (ps Proxies) Client(peer string, xff []string) (addr netip.Addr, ok bool) {
	addr, ok = parseAddr(peer)
	if !ok || len(ps) == 0 {
		return addr, ok
	}
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && ps.trusted(addr); i-- {
		next, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		addr = next
	}
	return addr, true
}

// parseAddr reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:4711", "[2001:db8::1]:4711", "2001:db8::1").
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		host, _, serr := net.SplitHostPort(s)
		if serr != nil {
			return netip.Addr{}, false
		}
		if a, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, false
		}
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Handler passes requests on to next with RemoteAddr set to the client's
// address (port 0) when they came through a trusted proxy, so that
// everything keyed on RemoteAddr counts the client, not the proxy. With no
// proxy trusted it is next itself.
func (ps Proxies) Handler(next http.Handler) http.Handler {
	if len(ps) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := ps.Client(r.RemoteAddr, r.Header.Values("X-Forwarded-For")); ok {
			r = r.WithContext(r.Context())
			r.RemoteAddr = netip.AddrPortFrom(a, 0).String()
		}
		next.ServeHTTP(w, r)
	})
}
