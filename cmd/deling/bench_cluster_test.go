package main

import (
	"path/filepath"
	"strings"
	"testing"

	"deling/internal/bench"
)

// Issue 15, item 5: `deling bench --db postgres://… --nodes 2` runs two nodes
// on one PostgreSQL behind the bench's load balancer, drives the workload
// through it with real tokens, and reports that every answer has its record
// in the one log and that exactly one node leads the single-run jobs.
func TestBenchCluster(t *testing.T) {
	dsn := postgresDSN(t, "runs the load generator against two nodes on a PostgreSQL of its own")
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, err := runCmd(t, nil, "bench", "--data", t.TempDir(), "--db", dsn, "--nodes", "2", "--persons", "300",
		"--rate", "100", "--duration", "2s", "--consumers", "2", "--baseline=false", "--timeout", "2m", "--json", file)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	for _, want := range []string{"cluster: 2 nodes on one PostgreSQL", "records written = answers given"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	rep := readBenchReport(t, file)
	if rep.Mode != bench.ModeCluster || rep.Cluster == nil || rep.Cluster.Nodes != 2 || len(rep.Cluster.Leaders) != 1 {
		t.Fatalf("mode %q, cluster %+v", rep.Mode, rep.Cluster)
	}
	total := rep.Result.Total
	// The load generator falls a little behind its pace on a loaded machine: ask for most of the 200.
	if total.Requests < 150 || total.SuccessRatio != 1 {
		t.Fatalf("%d requests, success ratio %v, codes %v", total.Requests, total.SuccessRatio, total.StatusCodes)
	}
	// Both nodes answered (their /metrics are summed) and each answer left one record.
	if s := rep.Server; s == nil || s.APIRequests != int64(total.Requests) || s.AuditRecords == nil || *s.AuditRecords != int64(total.Successful) {
		t.Errorf("server counts %+v for %d requests (%d successful)", rep.Server, total.Requests, total.Successful)
	}
}
