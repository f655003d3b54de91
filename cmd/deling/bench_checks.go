package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"

	"deling/internal/audit"
	"deling/internal/bench"
	"deling/internal/store"
)

// The checks of a cluster run: every answer has its record (by correlation
// id), the log verifies after the run, and what a kill -9 of the leading
// node or a restart of PostgreSQL under load does.

// pollEvery is how often the disruptions look for a new leader and a new checkpoint.
const pollEvery = 100 * time.Millisecond

// disruptions are the --kill-node-after and --restart-db-after disruptions.
func (b *benchRun) disruptions(db *store.DB, c *benchNodes) []bench.Disruption {
	var ds []bench.Disruption
	if b.o.killAfter > 0 {
		ds = append(ds, bench.Disruption{Name: "kill -9 of the leading node", After: b.o.killAfter,
			Do: func(ctx context.Context) bench.DisruptionOutcome { return b.killLeader(ctx, db, c) }})
	}
	if b.o.restartAfter > 0 {
		ds = append(ds, bench.Disruption{Name: "restart of PostgreSQL (" + b.o.restartCmd + ")", After: b.o.restartAfter,
			Do: func(ctx context.Context) bench.DisruptionOutcome { return b.restartDB(ctx, db, c) }})
	}
	return ds
}

// killLeader kills the node leading the single-run jobs (integration,
// checkpoints) with SIGKILL — the hard case: the tree and the checkpoints
// stop until another node leads — and measures the takeover.
func (b *benchRun) killLeader(ctx context.Context, db *store.DB, c *benchNodes) bench.DisruptionOutcome {
	leaders := c.leaders(ctx, b.hc)
	if len(leaders) != 1 {
		return bench.DisruptionOutcome{Err: fmt.Sprintf("not exactly one node leads (%v): nothing killed", leaders)}
	}
	n := c.nodes[leaders[0]-1]
	before := latestCheckpoint(ctx, db)
	if err := n.proc.cmd.Process.Kill(); err != nil {
		return bench.DisruptionOutcome{Err: err.Error()}
	}
	at := time.Now()
	<-n.proc.exited
	out := bench.DisruptionOutcome{Notes: []string{fmt.Sprintf("killed node %d (pid %d), which led", n.number, n.proc.cmd.Process.Pid)},
		Values: map[string]float64{"killed_node": float64(n.number)}}
	b.takeover(ctx, db, c, at, before, &out)
	return out
}

// restartTimeout is how long --db-restart-cmd may take.
const restartTimeout = 2 * time.Minute

// restartDB runs --db-restart-cmd and measures how the nodes come back.
func (b *benchRun) restartDB(ctx context.Context, db *store.DB, c *benchNodes) bench.DisruptionOutcome {
	before, ledBefore := latestCheckpoint(ctx, db), c.leaders(ctx, b.hc)
	at := time.Now()
	err := runShell(ctx, b.o.restartCmd, restartTimeout)
	took := time.Since(at)
	out := bench.DisruptionOutcome{Notes: []string{fmt.Sprintf("node %v led before it; the command took %.2f s", ledBefore, took.Seconds())},
		Values: map[string]float64{"command_seconds": took.Seconds()}}
	if err != nil {
		out.Err = err.Error()
		return out
	}
	b.takeover(ctx, db, c, at, before, &out)
	return out
}

// runShell runs command with sh -c in a process group of its own, and
// kills the group — the command and whatever it started — when ctx ends
// (Ctrl-C) or after timeout.
func runShell(ctx context.Context, command string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	inGroup(cmd)
	cmd.WaitDelay = 5 * time.Second // for output pipes held open by what the group left
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%q did not finish within %v: killed, with what it started", command, timeout)
	case err != nil:
		return fmt.Errorf("%q: %v: %s", command, err, strings.TrimSpace(output.String()))
	}
	return nil
}

// takeover waits (up to a minute) for a live node to lead and for a
// checkpoint newer than before, and notes how long after at each came.
// Method: the nodes' /metrics (deling_jobs_leader) and the newest stored
// checkpoint's size (store.LatestCheckpoint), polled every pollEvery by the
// bench. A node's gauge is its own view, updated each leader round (2 s): a
// leader that lost its session in a database restart may show 1 for a round,
// so the node named is the one leading when the new checkpoint was seen
// (only the leader signs them).
func (b *benchRun) takeover(ctx context.Context, db *store.DB, c *benchNodes, at time.Time, before uint64, out *bench.DisruptionOutcome) {
	var leaders []int
	var leaderAfter, checkpointAfter time.Duration
	for deadline := at.Add(time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(pollEvery) {
		l := c.leaders(ctx, b.hc)
		if leaderAfter == 0 && len(l) > 0 {
			leaderAfter = time.Since(at)
		}
		if latestCheckpoint(ctx, db) > before {
			checkpointAfter, leaders = time.Since(at), l
			break
		}
	}
	const method = "polled every 100 ms by the bench"
	if leaderAfter == 0 {
		out.Notes = append(out.Notes, "no node led within a minute")
	} else {
		out.Notes = append(out.Notes, fmt.Sprintf("a live node leads %.2f s after it (deling_jobs_leader in the nodes' /metrics, %s)", leaderAfter.Seconds(), method))
		out.Values["leader_after_seconds"] = leaderAfter.Seconds()
	}
	if checkpointAfter == 0 {
		out.Notes = append(out.Notes, "no new checkpoint within a minute")
		return
	}
	out.Notes = append(out.Notes, fmt.Sprintf("the first checkpoint after it was stored %.2f s after it (the newest checkpoint's size in the database, %s); node %v leading then",
		checkpointAfter.Seconds(), method, leaders))
	out.Values["checkpoint_after_seconds"] = checkpointAfter.Seconds()
	if len(leaders) == 1 {
		out.Values["leader_node"] = float64(leaders[0])
	}
}

// latestCheckpoint is the size of the newest signed checkpoint; 0 when none
// or when the database cannot be read (it is restarting).
func latestCheckpoint(ctx context.Context, db *store.DB) uint64 {
	size, _, err := db.LatestCheckpoint(ctx)
	if err != nil {
		return 0
	}
	return size
}

// checkRecords finds each answered correlation id's record in the lookup
// log. It waits (up to a minute) for the leader to integrate every record
// into the tree, then reads the records of the log's one consistent
// snapshot (store.LogSnapshot) one by one from seq from on, keeping only
// the ids not yet found.
func checkRecords(ctx context.Context, db *store.DB, from uint64, answered map[string]struct{}) (*bench.RecordCheck, error) {
	rc := &bench.RecordCheck{Answered: len(answered)}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(pollEvery) {
		tree, err1 := db.TreeSize(ctx)
		all, err2 := db.LogSize(ctx)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if tree >= all {
			break
		}
		if time.Now().After(deadline) {
			rc.Note = fmt.Sprintf("the tree had not caught up within a minute: %d records waiting for integration were not read", all-tree)
			break
		}
	}
	snap, err := db.LogSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	err = snap.RecordsFrom(ctx, from, func(seq uint64, _, record, _ []byte) error {
		var r struct {
			CorrelationID string `json:"correlationId"`
		}
		canonical, err := audit.UnpackRecord(record)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		if err := json.Unmarshal(canonical, &r); err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		delete(answered, r.CorrelationID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rc.Missing = len(answered)
	for id := range answered {
		rc.Examples = append(rc.Examples, id)
	}
	slices.Sort(rc.Examples)
	rc.Examples = rc.Examples[:min(10, len(rc.Examples))]
	return rc, nil
}

// verifyLog is `deling audit verify` on the log after the run: its verdict's last line, or why it failed.
func (b *benchRun) verifyLog(ctx context.Context) string {
	var out bytes.Buffer
	err := runAudit(ctx, b.g, []string{"verify"}, b.getenv, nil, &out, io.Discard)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err != nil {
		return "FAILED: " + err.Error()
	}
	return "ok: " + lines[0] + "; " + lines[len(lines)-1]
}
