//go:build unix

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/store"
)

// TestClusterOnPostgreSQL runs two real `deling serve` processes on one
// PostgreSQL database, as two API nodes behind a load balancer, and proves:
// a grant suspended by a third process (`deling grant suspend`) is refused on
// node two's very next request although node two's access cache is warm
// (Rule AA-25); exactly one node leads the single-run jobs; when the leader is
// killed with SIGKILL, the other takes over.
func TestClusterOnPostgreSQL(t *testing.T) {
	dsn := postgresDSN(t, "builds the binary and runs two servers on a PostgreSQL of its own")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "deling")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DELING_") {
			env = append(env, kv)
		}
	}
	data := filepath.Join(tmp, "data")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, tmp // a default data directory would land in tmp, not in the source tree
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("deling %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	deling := func(args ...string) string { t.Helper(); return run(append(args, "--db", dsn, "--data", data)...) }
	deling("seed", "--persons", "100")
	orgnr := string(ident.SyntheticOrgnr(7_654_322))
	deling("consumer", "add", "--orgnr", orgnr, "--name", "Klyngeetaten")
	added := deling("grant", "add", "--consumer", orgnr, "--rate", "100000", "--query-kinds", "arbeidstaker",
		"--legal-basis", "aa-registerforskriften § 10", "--processing-basis", "GDPR art. 6 nr. 1 e", "--purpose", "klyngetest")
	grantID := regexp.MustCompile(`grant ([0-9a-f-]{36}):`).FindStringSubmatch(added)
	if grantID == nil {
		t.Fatalf("no grant id in %q", added)
	}

	type node struct {
		cmd           *exec.Cmd
		base, metrics string
		exited        chan struct{}
	}
	urls := regexp.MustCompile(`(?s)metrics on (http://[0-9.:]+)/metrics.*listening on (http://[0-9.:]+)`)
	issuer := ""
	serve := func() *node {
		t.Helper()
		args := []string{"serve", "--db", dsn, "--data", data, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}
		if issuer != "" {
			args = append(args, "--issuer", issuer)
		}
		n := &node{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
		var stdout, stderr syncBuffer
		n.cmd.Env, n.cmd.Stdout, n.cmd.Stderr = env, &stdout, &stderr
		n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { n.cmd.Wait(); close(n.exited) }()
		t.Cleanup(func() { n.cmd.Process.Kill(); <-n.exited })
		waitUntil(t, "deling serve listening", func() bool {
			select {
			case <-n.exited:
				t.Fatalf("deling serve stopped: %v\n%s", n.cmd.ProcessState, stderr.String())
			default:
			}
			if m := urls.FindStringSubmatch(stdout.String()); m != nil {
				n.metrics, n.base = m[1], m[2]
				return true
			}
			return false
		})
		return n
	}
	one := serve()
	issuer = one.base + "/"
	two := serve()

	clientFile := filepath.Join(tmp, "client.json")
	deling("client", "add", "--orgnr", orgnr, "--id", "klyngeetaten-1", "--new-key", clientFile, "--issuer", issuer)
	tok := strings.TrimSpace(deling("token", "--client", clientFile))
	db, err := store.Open(context.Background(), store.Config{URL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	people, err := db.SampleArbeidstakere(context.Background(), "0", 1)
	db.Close()
	if err != nil || len(people) == 0 {
		t.Fatalf("no person with arbeidsforhold to look up: %v", err)
	}
	lookup := func(n *node) int {
		t.Helper()
		req, _ := http.NewRequest("GET", n.base+"/api/v2/arbeidstaker/arbeidsforhold", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Nav-Personident", people[0])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 { // the second is answered from node two's access cache
		if code := lookup(two); code != http.StatusOK {
			t.Fatalf("node two before the suspension: %d", code)
		}
	}
	run("grant", "suspend", "--db", dsn, "--data", data, "--reason", "klyngetest", grantID[1])
	if code := lookup(two); code != http.StatusForbidden {
		t.Fatalf("node two right after the suspension: %d, want 403", code)
	}

	// Exactly one node leads; kill it, and the other takes over.
	leading := func(n *node) bool {
		resp, err := http.Get(n.metrics + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`(?m)^deling_jobs_leader 1$`).Match(b)
	}
	waitUntil(t, "a leader", func() bool { return leading(one) || leading(two) })
	time.Sleep(3 * leaderInterval) // let the other node try a few times
	old, other := one, two
	if leading(two) {
		old, other = two, one
	}
	if !leading(old) || leading(other) {
		t.Fatal("not exactly one leader")
	}
	if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-old.exited
	waitUntil(t, "the other node to lead after the leader was killed", func() bool { return leading(other) })
}

// waitUntil polls cond until it holds, failing after a generous bound (a wait for an event, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
