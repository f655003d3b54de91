package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"deling/internal/bench"
)

// With --nodes N (N > 1) the bench runs N `deling serve` processes of its own
// executable on one PostgreSQL, each on its own loopback port, behind its
// load balancer: as operators run a cluster (docs/SCALING.md), and so that
// one node can be killed alone (--kill-node-after). The children are killed
// when the bench ends, also on an error or Ctrl-C; on Linux they also get
// SIGKILL if the bench itself is killed (procAttr).

// nodeProc is one `deling serve` child.
type nodeProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File // its standard error and, once it listens, its standard output
}

func (p *nodeProc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop asks the node to shut down and kills it if it has not within 10 s.
func (p *nodeProc) stop() {
	if !p.dead() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
	p.log.Close()
}

// serveListening is what `deling serve` prints once it listens.
var serveListening = regexp.MustCompile(`is listening on (http://[0-9.:]+) `)

// startProcs starts the node processes and the load balancer in front.
// Node 1 starts first (it makes the log's key and the staff token in the
// data directory on first start); the others then start together.
func (b *benchRun) startProcs(ctx context.Context) (*benchNodes, error) {
	c := &benchNodes{}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c, err
	}
	c.stops = append(c.stops, func() { front.Close() })
	c.base = "http://" + front.Addr().String()
	exe, err := os.Executable()
	if err != nil {
		return c, fmt.Errorf("bench: the nodes run this executable: %w", err)
	}
	c.nodes = make([]*benchNode, b.o.nodes)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	start := func(i int) {
		n, err := b.startProc(ctx, exe, c.base+"/", i+1)
		mu.Lock()
		defer mu.Unlock()
		if n != nil {
			c.nodes[i] = n
			c.stops = append(c.stops, n.proc.stop)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
		}
	}
	start(0)
	if len(errs) == 0 {
		for i := 1; i < b.o.nodes; i++ {
			wg.Go(func() { start(i) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	var bases []string
	for _, n := range c.nodes {
		bases = append(bases, n.base)
		c.metrics = append(c.metrics, n.metricsURL)
	}
	h, err := bench.RoundRobin(bases)
	if err != nil {
		return c, err
	}
	c.lb = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(b.log.Handler(), slog.LevelWarn)}
	go c.lb.Serve(front)
	fmt.Fprintf(b.stderr, "bench: %d `deling serve` processes on one PostgreSQL (%v; logs in %s) behind a round-robin load balancer on %s\n",
		len(bases), bases, filepath.Join(b.g.data, "bench-node-N.log"), c.base)
	return c, nil
}

// startProc starts node number and waits until it listens.
func (b *benchRun) startProc(ctx context.Context, exe, issuer string, number int) (*benchNode, error) {
	logFile, err := os.Create(filepath.Join(b.g.data, fmt.Sprintf("bench-node-%d.log", number)))
	if err != nil {
		return nil, err
	}
	cmd := b.nodeCmd(exe, issuer)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &nodeProc{cmd: cmd, exited: make(chan struct{}), log: logFile}
	n := &benchNode{number: number, proc: p}
	urls := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var metrics string
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if m, ok := strings.CutPrefix(line, "metrics on "); ok {
				metrics = m
			}
			if m := serveListening.FindStringSubmatch(line); m != nil {
				urls <- [2]string{m[1], metrics}
				break
			}
		}
		io.Copy(logFile, stdout)
		cmd.Wait()
		close(p.exited)
	}()
	select {
	case u := <-urls:
		n.base, n.metricsURL = u[0], u[1]
		return n, nil
	case <-p.exited:
		return n, fmt.Errorf("deling serve stopped (%v); see %s", cmd.ProcessState, logFile.Name())
	case <-time.After(2 * time.Minute):
		return n, fmt.Errorf("deling serve did not listen within 2 minutes; see %s", logFile.Name())
	case <-ctx.Done():
		return n, ctx.Err()
	}
}

// nodeCmd is the command of a node process. The PostgreSQL URL, which may
// hold a password, is in its environment (DELING_DB), never in its
// arguments: any user of the machine can read those (/proc/PID/cmdline, ps).
func (b *benchRun) nodeCmd(exe, issuer string) *exec.Cmd {
	args := []string{"serve", "--data", b.g.data, "--env", string(b.env), "--log-level", b.g.logLevel,
		"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--issuer", issuer, "--rate-block", b.rateBlock().String()}
	// Argument 0 "deling": the test binary runs main for it (TestMain).
	return &exec.Cmd{Path: exe, Args: append([]string{"deling"}, args...), Env: b.nodeEnv(), SysProcAttr: procAttr()}
}

// nodeEnv is the nodes' environment: the bench's, with only the deling
// settings the bench itself was given (the database's URL, the log's key,
// the staff token).
func (b *benchRun) nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DELING_") {
			env = append(env, kv)
		}
	}
	if b.g.db != "" {
		env = append(env, "DELING_DB="+b.g.db)
	}
	for _, k := range []string{"DELING_LOG_KEY", "DELING_ADMIN_TOKEN"} {
		if v := b.getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// nodeLeads reports whether a node's /metrics say it leads the single-run jobs.
func nodeLeads(ctx context.Context, hc *http.Client, metricsURL string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "deling_jobs_leader 1" {
			return true
		}
	}
	return false
}
