package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// leaves is a stored log's leaf hashes, as CheckExtends reads them.
type leaves [][]byte

func (l leaves) Size(context.Context) (uint64, error) { return uint64(len(l)), nil }
func (l leaves) Tiles(_ context.Context, level uint, fn func(uint64, []byte) error) error {
	for i := 0; level == 0 && i < len(l); i += TileWidth {
		if err := fn(uint64(i/TileWidth), bytes.Join(l[i:min(len(l), i+TileWidth)], nil)); err != nil {
			return err
		}
	}
	return nil
}

// TestTrustedCheckpoint (Rule AA-16): a log that extends a trusted checkpoint
// passes; one cut below it is truncated; one with a changed leaf before it is forked.
func TestTrustedCheckpoint(t *testing.T) {
	tree := testonly.New(rfc6962.DefaultHasher)
	var log leaves
	for i := 0; i < 40; i++ {
		tree.AppendData([]byte(fmt.Sprint(i)))
		log = append(log, tree.LeafHash(uint64(i)))
	}
	trusted := Checkpoint{Origin: "o", Size: 30, Root: tree.HashAt(30)}
	ctx := context.Background()
	if err := CheckExtends(ctx, log, trusted); err != nil {
		t.Fatalf("extension: %v", err)
	}
	if err := CheckExtends(ctx, log[:30], trusted); err != nil {
		t.Fatalf("the same size: %v", err)
	}
	if err := CheckExtends(ctx, log[:29], trusted); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: got %v", err)
	}
	forked := append(leaves{}, log...)
	forked[7] = rfc6962.DefaultHasher.HashLeaf([]byte("other"))
	if err := CheckExtends(ctx, forked, trusted); !errors.Is(err, ErrForked) {
		t.Fatalf("forked: got %v", err)
	}
	if err := CheckExtends(ctx, forked, Checkpoint{Origin: "o", Size: 5, Root: tree.HashAt(5)}); err != nil {
		t.Fatalf("a change after the trusted size is not a fork of it: %v", err)
	}
}

// The add-checkpoint body of c2sp.org/tlog-witness round-trips.
func TestAddCheckpointWire(t *testing.T) {
	a := AddCheckpoint{OldSize: 20852014, Proof: [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)}, Checkpoint: []byte("o\n3\nroot\n\n— o sig\n")}
	b := a.Marshal()
	want := "old 20852014\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n\no\n3\nroot\n\n— o sig\n"
	if string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
	got, err := ParseAddCheckpoint(b)
	if err != nil || got.OldSize != a.OldSize || len(got.Proof) != 2 || !bytes.Equal(got.Checkpoint, a.Checkpoint) {
		t.Fatalf("parse: %v %+v", err, got)
	}
	if a, err := ParseAddCheckpoint([]byte("old 0\n\nx")); err != nil || a.OldSize != 0 || a.Proof != nil {
		t.Fatalf("old 0: %v %+v", err, a)
	}
}

// Security review, item 2: a witness that cosigned nothing holds the empty
// tree, so the size-0 checkpoint of an empty log (the empty tree's root) is
// cosigned, not refused as a fork; a size-0 checkpoint with any other root is
// a bad checkpoint. A repeat of the checkpoint last cosigned must come with
// an empty proof, as RFC 6962 proves a tree consistent with itself.
func TestCheckAddEmptyTreeAndRepeats(t *testing.T) {
	empty := rfc6962.DefaultHasher.EmptyRoot()
	none := Checkpoint{Origin: "o"}
	zero := Checkpoint{Origin: "o", Size: 0, Root: empty}
	if err := CheckAdd(AddCheckpoint{}, zero, none); err != nil {
		t.Fatalf("the empty log's first checkpoint: %v", err)
	}
	if err := CheckAdd(AddCheckpoint{}, zero, zero); err != nil {
		t.Fatalf("the empty log's checkpoint again: %v", err)
	}
	bad := Checkpoint{Origin: "o", Size: 0, Root: bytes.Repeat([]byte{1}, 32)}
	if err := CheckAdd(AddCheckpoint{}, bad, none); !errors.Is(err, ErrBadProof) {
		t.Fatalf("a size-0 checkpoint with another root: %v", err)
	}
	tree := testonly.New(rfc6962.DefaultHasher)
	for i := 0; i < 7; i++ {
		tree.AppendData([]byte(fmt.Sprint(i)))
	}
	seven := Checkpoint{Origin: "o", Size: 7, Root: tree.Hash()}
	if err := CheckAdd(AddCheckpoint{OldSize: 0}, seven, zero); err != nil {
		t.Fatalf("from the empty tree: %v", err)
	}
	if err := CheckAdd(AddCheckpoint{OldSize: 7}, seven, seven); err != nil {
		t.Fatalf("the same checkpoint again: %v", err)
	}
	if err := CheckAdd(AddCheckpoint{OldSize: 7, Proof: [][]byte{bytes.Repeat([]byte{2}, 32)}}, seven, seven); !errors.Is(err, ErrBadProof) {
		t.Fatalf("the same checkpoint again with a proof: %v", err)
	}
}
