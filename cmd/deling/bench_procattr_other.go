//go:build !linux

package main

import "syscall"

// procAttr: outside Linux a bench node process is stopped by the bench when
// it ends (also on an error or Ctrl-C), not when the bench is killed.
func procAttr() *syscall.SysProcAttr { return nil }
