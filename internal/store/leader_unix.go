//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFile opens path and takes an exclusive lock on it without waiting; it
// fails when another process holds the lock. Closing the file releases it,
// as does the process ending in any way.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
