//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// inGroup makes cmd the leader of a process group of its own, and its
// cancellation (its context's end) kill the whole group: a shell command's
// children and grandchildren too, not just the shell.
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
