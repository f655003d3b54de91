package bench

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// refusingURL is the address of a port nothing listens on.
func refusingURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// A node that refuses connections (killed) is passed over: every request,
// with its body, is answered by the other node.
func TestRoundRobinSkipsRefusingNode(t *testing.T) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer up.Close()
	lb, err := RoundRobin([]string{refusingURL(t), up.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	for i := range 6 {
		resp, err := http.Post(front.URL+"/x", "application/json", strings.NewReader(`{"side":"2"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != `{"side":"2"}` {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
	}
	if hits.Load() != 6 {
		t.Fatalf("the live node got %d requests, want 6", hits.Load())
	}
}

// A request that reached a node and failed there (the node died mid-answer)
// is answered 502 and never sent to another node: it may have been logged.
func TestRoundRobinNeverRetriesReachedNode(t *testing.T) {
	var hits, dying atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer up.Close()
	dies := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dying.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no answer: as a node killed while answering
		}
	}))
	defer dies.Close()
	lb, err := RoundRobin([]string{dies.URL, up.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	codes := map[int]int{}
	for range 4 {
		resp, err := http.Get(front.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusBadGateway] != 2 || codes[http.StatusOK] != 2 || hits.Load() != 2 || dying.Load() != 2 {
		t.Fatalf("codes %v; the live node got %d, the dying one %d (want 2 and 2: no retries)", codes, hits.Load(), dying.Load())
	}
}

// A request written on a kept-alive connection that the node then closes
// without an answer is answered 502 and reaches the node once: http.Transport
// would send a GET again on a new connection (it takes a GET for replayable),
// and the node would answer, and log, the lookup twice.
func TestRoundRobinNoResendOnReusedConnection(t *testing.T) {
	var hits atomic.Int64
	node := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) != 2 {
			w.Write([]byte("ok"))
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack() // the second request: on the reused connection
		if err == nil {
			conn.Close()
		}
	}))
	var conns atomic.Int64
	node.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	node.Start()
	defer node.Close()
	lb, err := RoundRobin([]string{node.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	var codes []int
	for range 2 {
		resp, err := http.Get(front.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != http.StatusOK || codes[1] != http.StatusBadGateway || hits.Load() != 2 || conns.Load() != 1 {
		t.Fatalf("codes %v; the node got %d requests on %d connections, want 200 then 502, 2 requests on 1 (reused, never resent)",
			codes, hits.Load(), conns.Load())
	}
}
