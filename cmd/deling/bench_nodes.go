package main

import (
	"context"
	"fmt"
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

// benchNodes are the platforms an in-process bench runs: one node, or with
// --nodes N several, each with its own connections to one PostgreSQL and its
// own jobs and leadership attempt, as N `deling serve` processes have,
// behind the bench's round-robin load balancer.
type benchNodes struct {
	base    string   // what the load generator and the tokens' audience use
	metrics []string // each node's /metrics
	nodes   []*benchNode
	lb      *http.Server
	stops   []func() // in reverse order at stop
}

type benchNode struct {
	base, metricsURL string
	p                *platform
}

// startNodes starts b.o.nodes platforms on loopback ports; the first uses db,
// the others open the same database anew. stop must be called even on error.
func (b *benchRun) startNodes(ctx context.Context, db *store.DB) (*benchNodes, error) {
	c := &benchNodes{}
	var front net.Listener
	if b.o.nodes > 1 {
		var err error
		if front, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return c, err
		}
		c.stops = append(c.stops, func() { front.Close() })
	}
	var bases []string
	for i := range b.o.nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return c, err
		}
		base := "http://" + ln.Addr().String()
		issuer := base + "/"
		if front != nil {
			issuer = "http://" + front.Addr().String() + "/"
		}
		ndb := db
		if i > 0 {
			if ndb, err = b.g.open(ctx); err != nil {
				ln.Close()
				return c, fmt.Errorf("node %d: %w", i+1, err)
			}
			c.stops = append(c.stops, func() { ndb.Close() })
		}
		n, stop, err := b.startNode(ctx, ndb, ln, issuer, i+1)
		c.stops = append(c.stops, stop)
		if err != nil {
			return c, fmt.Errorf("node %d: %w", i+1, err)
		}
		n.base = base
		c.nodes = append(c.nodes, n)
		bases = append(bases, base)
	}
	for _, n := range c.nodes {
		c.metrics = append(c.metrics, n.metricsURL)
	}
	if front == nil {
		c.base = bases[0]
		return c, nil
	}
	h, err := bench.RoundRobin(bases)
	if err != nil {
		return c, err
	}
	c.lb = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(b.log.Handler(), slog.LevelWarn)}
	go c.lb.Serve(front)
	c.base = "http://" + front.Addr().String()
	fmt.Fprintf(b.stderr, "bench: %d nodes on one PostgreSQL (%v) behind a round-robin load balancer on %s\n", len(bases), bases, c.base)
	return c, nil
}

// startNode builds one platform, serves it on ln with its metrics on a
// listener of their own, and starts its jobs; stop undoes it all.
func (b *benchRun) startNode(ctx context.Context, db *store.DB, ln net.Listener, issuer string, number int) (*benchNode, func(), error) {
	log := b.log
	if b.o.nodes > 1 {
		log = log.With("node", number)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, func() {}, err
	}
	po := platformOptions{issuer: issuer, rateBlockFor: time.Minute, tokenLifetime: 120 * time.Second, logMinRetention: DefaultLogMinRetention}
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
func (c *benchNodes) info() *bench.ClusterInfo {
	if len(c.nodes) < 2 {
		return nil
	}
	ci := &bench.ClusterInfo{Nodes: len(c.nodes), LoadBalancer: "round-robin reverse proxy (net/http/httputil) on " + c.base}
	for i, n := range c.nodes {
		if n.p.leader.Leading() {
			ci.Leaders = append(ci.Leaders, i+1)
		}
	}
	return ci
}
