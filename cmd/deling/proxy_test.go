package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// serve --trusted-proxy (or $DELING_TRUSTED_PROXY) that is not a list of
// networks is refused with the flag named, before anything is made in the
// data directory.
func TestServeRefusesBadTrustedProxy(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
	}{{[]string{"--trusted-proxy", "10.0.0.0/8,lastbalanserer"}, ""}, {nil, "10.0.0.0/33"}} {
		data := t.TempDir()
		getenv := func(k string) string {
			if k == "DELING_TRUSTED_PROXY" {
				return c.env
			}
			return ""
		}
		args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, c.args...)
		err := run(context.Background(), args, getenv, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--trusted-proxy") {
			t.Fatalf("%v %q: %v", c.args, c.env, err)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Fatalf("%v %q: the data directory holds %d entries", c.args, c.env, len(entries))
		}
	}
}
