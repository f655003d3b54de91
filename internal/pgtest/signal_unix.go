//go:build unix

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Signal sends sig to the server's postmaster and to each of its child
// processes (backends, the WAL receiver, the startup process): SIGSTOP
// makes a server that hangs rather than one that refuses connections,
// SIGCONT lets it go on. The children are found in /proc (Linux). Not for a
// TEST_PG_DSN server.
func (s *Server) Signal(sig syscall.Signal) error {
	if s.dir == "" {
		return errors.New("pgtest: Signal needs a cluster pgtest started")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("pgtest: the postmaster's PID: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pm <= 1 {
		return fmt.Errorf("pgtest: postmaster.pid holds no PID: %q", first)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("pgtest: listing the postmaster's children needs /proc: %w", err)
	}
	pids := []int{pm}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pgtest: signal %d: %w", pid, err)
		}
	}
	return nil
}
