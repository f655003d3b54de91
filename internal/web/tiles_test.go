package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"deling/internal/audit"
	"deling/internal/store"
)

// tilesClient is a C2SP tlog-tiles client written with golang.org/x/mod's
// tlog and note packages only, apart from deling's code: it reads the signed
// checkpoint and the hash tiles over HTTP, and tlog checks every tile it
// reads against the checkpoint's root.
type tilesClient struct {
	t      *testing.T
	prefix string // the log's prefix: …/audit
	vkey   string
	reads  int
}

func (c *tilesClient) get(path string) []byte {
	c.t.Helper()
	resp, err := http.Get(c.prefix + "/" + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// checkpoint is the log's signed checkpoint, verified: its size and root.
func (c *tilesClient) checkpoint() tlog.Tree {
	c.t.Helper()
	v, err := note.NewVerifier(c.vkey)
	if err != nil {
		c.t.Fatal(err)
	}
	n, err := note.Open(c.get("checkpoint"), note.VerifierList(v))
	if err != nil {
		c.t.Fatal(err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err1 := strconv.ParseInt(lines[1], 10, 64)
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if len(lines) < 3 || err1 != nil || err2 != nil || len(root) != 32 {
		c.t.Fatalf("checkpoint %q", n.Text)
	}
	return tlog.Tree{N: size, Hash: tlog.Hash(root)}
}

// tlog.TileReader: tlog's paths are tile/H/L/N…; C2SP tlog-tiles' are tile/L/N… with H = 8.
func (c *tilesClient) Height() int { return 8 }

func (c *tilesClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = c.get(strings.Replace(t.Path(), "tile/8/", "tile/", 1))
		c.reads++
	}
	return out, nil
}

func (c *tilesClient) SaveTiles([]tlog.Tile, [][]byte) {}

// Rules AA-16, AA-17 (issue 15): a standard tlog-tiles client follows the served tiles (GET
// /audit/tile/…, GET /audit/checkpoint) and verifies a known record's
// inclusion and the tree's growth between two checkpoints.
func TestTilesClientFollowsTheLog(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	appendLookups := func(n int) {
		for i := range n {
			if err := h.db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit,
				CorrelationID: fmt.Sprint(i), Returned: []string{h.persons[i%len(h.persons)].Ident}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendLookups(700) // two full leaf tiles and a partial one; two hashes at level 8
	h.checkpoint()
	c := &tilesClient{t: t, prefix: h.srv.URL + "/audit", vkey: h.vkey}
	tree1 := c.checkpoint()
	if tree1.N < 700 { // and the governance events of the harness's setup
		t.Fatalf("checkpoint size %d", tree1.N)
	}
	hr := tlog.TileHashReader(tree1, c)
	if root, err := tlog.TreeHash(tree1.N, hr); err != nil || root != tree1.Hash {
		t.Fatalf("tree hash from the tiles: %v", err)
	}
	// A known record: its leaf is SHA-256(0x00 ‖ salt ‖ record), in RFC 6962 as in tlog.
	recs, err := h.db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 300, int(tree1.N) - 1} {
		leaf := tlog.Hash(sha256.Sum256(append(append([]byte{0}, recs[i].Salt...), recs[i].Canonical...)))
		p, err := tlog.ProveRecord(tree1.N, int64(i), hr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, tree1.N, tree1.Hash, int64(i), leaf); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		wrong := leaf
		wrong[0] ^= 1
		if tlog.CheckRecord(p, tree1.N, tree1.Hash, int64(i), wrong) == nil {
			t.Fatalf("record %d: another leaf verified", i)
		}
	}
	if c.reads == 0 {
		t.Fatal("the client read no tiles")
	}
	// The log grows; the client proves the new checkpoint extends the old.
	appendLookups(300)
	h.checkpoint()
	tree2 := c.checkpoint()
	p, err := tlog.ProveTree(tree2.N, tree1.N, tlog.TileHashReader(tree2, c))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(p, tree2.N, tree2.Hash, tree1.N, tree1.Hash); err != nil {
		t.Fatal(err)
	}
	// Hashes only: no entry bundles; a tile the tree does not have yet, or a
	// path not in its canonical spelling, is not found.
	for _, path := range []string{"tile/entries/000", "tile/0/004", "tile/0/003.p/255", "tile/0/3", "tile/00/000", "tile/0/000.p/0", "tile/0/x000/000"} {
		resp, err := http.Get(c.prefix + "/" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET /audit/%s: %d, want 404", path, resp.StatusCode)
		}
	}
}
