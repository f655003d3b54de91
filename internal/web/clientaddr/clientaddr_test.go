package clientaddr

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// Sign-in throttling and the public forms' limits key on the client: behind
// a trusted load balancer the forwarded address, from anyone else the
// connection's, whatever X-Forwarded-For says.
func TestClient(t *testing.T) {
	lb, err := Parse("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		proxies Proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxy trusted: the header is ignored", nil, "198.51.100.9:5000", []string{"203.0.113.5"}, "198.51.100.9"},
		{"a spoofed header from an untrusted peer is ignored", lb, "198.51.100.9:5000", []string{"203.0.113.5"}, "198.51.100.9"},
		{"from the load balancer: the client it saw", lb, "10.1.2.3:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"the client's own entries left of it are not believed", lb, "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
		{"a chain of trusted proxies", lb, "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.5, 192.0.2.7", "10.9.9.9"}, "203.0.113.5"},
		{"all trusted: the leftmost", lb, "10.1.2.3:5000", []string{"10.2.2.2"}, "10.2.2.2"},
		{"no header from the balancer: the balancer", lb, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"garbage stops at the last proxy trusted", lb, "10.1.2.3:5000", []string{"203.0.113.5, unknown"}, "10.1.2.3"},
		{"IPv6 with a port", lb, "10.1.2.3:5000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4 in IPv6", lb, "[::ffff:10.1.2.3]:5000", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
	} {
		got, ok := c.proxies.Client(c.peer, c.xff)
		if !ok || got != netip.MustParseAddr(c.want) {
			t.Errorf("%s: got %v %v, want %s", c.name, got, ok, c.want)
		}
	}
	if _, ok := lb.Client("not an address", []string{"203.0.113.5"}); ok {
		t.Error("a peer that is not an address gave a client")
	}
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0.0/8,nope"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if ps, err := Parse(" "); err != nil || len(ps) != 0 {
		t.Errorf("empty: %v %v", ps, err)
	}
}

// The handler over real HTTP on loopback: a request with a forged
// X-Forwarded-For from a peer not trusted reaches the next handler with the
// connection's address; trusted, with the forwarded client's.
func TestHandler(t *testing.T) {
	for _, c := range []struct {
		trust, want string
	}{{"", "127.0.0.1"}, {"192.0.2.0/24", "127.0.0.1"}, {"127.0.0.0/8", "203.0.113.5"}} {
		ps, err := Parse(c.trust)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(ps.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.RemoteAddr)
		})))
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.5")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if host, _, _ := strings.Cut(string(b), ":"); host != c.want {
			t.Errorf("trusting %q: the handler saw %s, want %s", c.trust, b, c.want)
		}
	}
}

// X-Forwarded-For is outside input: any header gives an address or none,
// never a panic, and a peer not trusted is never replaced.
func FuzzClient(f *testing.F) {
	f.Add("10.1.2.3:5000", "203.0.113.5, 10.0.0.1")
	f.Add("198.51.100.9:1", "[2001:db8::1]:4711,,unknown")
	ps := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		got, ok := ps.Client(peer, []string{xff})
		p, pok := parseAddr(peer)
		if ok != pok {
			t.Fatalf("peer %q: ok %v, parses %v", peer, ok, pok)
		}
		if ok && !ps.trusted(p) && got != p {
			t.Fatalf("untrusted peer %q replaced by %v", peer, got)
		}
	})
}
