//go:build !unix

package store

import "os"

// lockFile opens path; without flock, the process leads alone (run one
// `deling serve` a data directory there).
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
