//go:build !linux

package main

import (
	"errors"
	"os/exec"
	"syscall"
)

func setProcAttr(cmd *exec.Cmd, isolated bool) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func loopbackUp() error { return errors.New("no network namespaces here") }
