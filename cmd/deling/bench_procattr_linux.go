package main

import "syscall"

// procAttr makes a bench node process get SIGKILL when the bench dies, even
// by kill -9: no orphan nodes.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
