package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"deling/internal/bench"
	"deling/internal/job"
	"deling/internal/store"
)

// benchNodes are the platforms a bench runs: one node in the bench's own
// process, or with --nodes N (N > 1) N `deling serve` processes on one
// PostgreSQL behind the bench's load balancer (bench_procs.go).
type benchNodes struct {
	base    string   // what the load generator and the tokens' audience use
	metrics []string // each node's /metrics
	nodes   []*benchNode
	lb      *http.Server
	stops   []func() // in reverse order at stop
}

// benchNode is one node: in process (p), or a child process (proc).
type benchNode struct {
	number           int // from 1
	base, metricsURL string
	p                *platform
	proc             *nodeProc
}

// startNodes starts the platform: in process on db, or as node processes.
// stop must be called even on error.
func (b *benchRun) startNodes(ctx context.Context, db *store.DB) (*benchNodes, error) {
	if b.o.nodes > 1 {
		return b.startProcs(ctx)
	}
	c := &benchNodes{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c, err
	}
	base := "http://" + ln.Addr().String()
	n, stop, err := b.startNode(ctx, db, ln, base+"/")
	c.stops = append(c.stops, stop)
	if err != nil {
		return c, err
	}
	n.base, n.number = base, 1
	c.nodes, c.base, c.metrics = []*benchNode{n}, base, []string{n.metricsURL}
	return c, nil
}

// startNode builds the in-process platform, serves it on ln with its metrics
// on a listener of their own, and starts its jobs; stop undoes it all.
func (b *benchRun) startNode(ctx context.Context, db *store.DB, ln net.Listener, issuer string) (*benchNode, func(), error) {
	log := b.log
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, func() {}, err
	}
	po := platformOptions{issuer: issuer, rateBlockFor: b.rateBlock(), tokenLifetime: 120 * time.Second, logMinRetention: DefaultLogMinRetention}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	reg := prometheus.NewRegistry()
	p, err := buildPlatform(srvCtx, db, b.env, log, reg, po, b.getenv, b.g.data)
	if err != nil {
		ln.Close()
		mln.Close()
		stopSrv()
		return nil, func() {}, err
	}
	waitJobs := job.Start(srvCtx, log, p.jobs...)
	hs := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go hs.Serve(ln)
	// The platform's metrics on a listener of their own, as `deling serve` has them.
	ms := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), ReadHeaderTimeout: 10 * time.Second}
	go ms.Serve(mln)
	n := &benchNode{p: p, metricsURL: "http://" + mln.Addr().String() + "/metrics"}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		ms.Close()
		stopSrv()
		waitJobs()
		p.stopLeading() // after the jobs, as serve does
		<-p.leader.Done()
	}
	return n, stop, nil
}

// rateBlock is how long the nodes block a consumer that keeps exceeding its
// limit: in the rate-limit check 1 ms, which measures the token bucket
// shared across the nodes alone. The check drives its consumer at twice its
// limit, so a block of the default minute — shared by every node through
// the database (store.BlockRate) — refuses it everywhere within seconds, by
// design, and leaves no rate to measure; the shared block has tests of its
// own (TestRateBlockSharedAcrossNodes). Not 0: the API takes 0 as its
// default of a minute.
func (b *benchRun) rateBlock() time.Duration {
	if b.o.rateCheck > 0 {
		return time.Millisecond
	}
	return time.Minute
}

// stop stops the load balancer and the nodes.
func (c *benchNodes) stop() {
	if c.lb != nil {
		c.lb.Close()
	}
	for i := len(c.stops) - 1; i >= 0; i-- {
		c.stops[i]()
	}
}

// info is the cluster's part of the report: which nodes lead now.
func (c *benchNodes) info(ctx context.Context, hc *http.Client) *bench.ClusterInfo {
	if len(c.nodes) < 2 {
		return nil
	}
	ci := &bench.ClusterInfo{Nodes: len(c.nodes), LoadBalancer: "round-robin reverse proxy (net/http/httputil) with passive health checks on " + c.base}
	ci.Leaders = c.leaders(ctx, hc)
	return ci
}

// leaders are the live nodes (from 1) whose /metrics say they lead the single-run jobs.
func (c *benchNodes) leaders(ctx context.Context, hc *http.Client) []int {
	var out []int
	for _, n := range c.nodes {
		if n.proc != nil && n.proc.dead() {
			continue
		}
		if nodeLeads(ctx, hc, n.metricsURL) {
			out = append(out, n.number)
		}
	}
	return out
}
