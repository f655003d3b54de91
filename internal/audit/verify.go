package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Source is a stored log as Verify reads it.
type Source interface {
	// Size is the number of leaves the log says it has.
	Size(ctx context.Context) (uint64, error)
	// Records calls fn for each stored record in seq order; salt and record are
	// nil for a record erased by retention.
	Records(ctx context.Context, fn func(seq uint64, salt, record []byte) error) error
	// Nodes calls fn for each stored tree node of one level, in index order.
	// Level 0 is the leaf hashes.
	Nodes(ctx context.Context, level uint, fn func(idx uint64, hash []byte) error) error
	// Checkpoints is every stored signed checkpoint, in size order.
	Checkpoints(ctx context.Context) ([][]byte, error)
}

// Problem kinds Verify reports.
const (
	ProblemChanged    = "changed"    // the record's content does not match its leaf
	ProblemDeleted    = "deleted"    // the tree has a leaf whose record is gone
	ProblemInserted   = "inserted"   // a record has no leaf in the tree
	ProblemReordered  = "reordered"  // the record's content belongs to another index
	ProblemNode       = "node"       // a stored tree node does not match its children
	ProblemCheckpoint = "checkpoint" // a checkpoint is not signed by the log or does not match the tree
)

// Problem is one thing Verify found.
type Problem struct {
	Kind   string `json:"kind"`
	Index  uint64 `json:"index"`           // record index, or the checkpoint's size
	Level  uint   `json:"level,omitempty"` // for node problems
	Detail string `json:"detail"`
}

// Report is the outcome of Verify.
type Report struct {
	Size        uint64         `json:"size"`
	Records     uint64         `json:"records"`
	Erased      uint64         `json:"erased"`
	Checkpoints int            `json:"checkpoints"`
	Counts      map[string]int `json:"counts"`
	Problems    []Problem      `json:"problems"` // the first MaxProblems
}

// MaxProblems is how many problems a report lists in full; all are counted.
const MaxProblems = 1000

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Counts) == 0 }

func (r *Report) add(p Problem) {
	if r.Counts == nil {
		r.Counts = map[string]int{}
	}
	r.Counts[p.Kind]++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// Verify recomputes the log from storage: each record's leaf from its salt and
// content, every stored tree node from its children, and the root at every
// checkpoint, whose signature it checks with the log's verifier key. It names
// each record that was changed, deleted, inserted or reordered, each node that
// does not match, and each checkpoint that is not the log's. progress, if not
// nil, is called with records done out of the size as it goes.
//
// Memory is about 48 bytes per leaf (10 million records: under 500 MB).
func Verify(ctx context.Context, src Source, v note.Verifier, progress func(done, total uint64)) (Report, error) {
	var rep Report
	size, err := src.Size(ctx)
	if err != nil {
		return rep, err
	}
	rep.Size = size
	// The stored leaf hashes, by index.
	leaves := make([]byte, size*32)
	present := make([]bool, size)
	err = src.Nodes(ctx, 0, func(idx uint64, hash []byte) error {
		if idx >= size || len(hash) != 32 {
			rep.add(Problem{Kind: ProblemNode, Index: idx, Detail: "a leaf hash beyond the log's size or of the wrong length"})
			return nil
		}
		copy(leaves[idx*32:], hash)
		present[idx] = true
		return nil
	})
	if err != nil {
		return rep, err
	}
	// Records against their leaves.
	seen := make([]bool, size)
	mismatched := map[[32]byte]uint64{} // recomputed leaf hash → record seq
	err = src.Records(ctx, func(seq uint64, salt, record []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Records++
		if progress != nil && rep.Records%100_000 == 0 {
			progress(rep.Records, size)
		}
		if seq >= size || !present[seq] {
			rep.add(Problem{Kind: ProblemInserted, Index: seq, Detail: "record without a leaf in the tree"})
			return nil
		}
		seen[seq] = true
		if salt == nil && record == nil {
			rep.Erased++
			return nil
		}
		h := LeafHash(salt, record)
		if !bytes.Equal(h, leaves[seq*32:seq*32+32]) {
			mismatched[[32]byte(h)] = seq
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if progress != nil {
		progress(rep.Records, size)
	}
	moved := map[uint64]uint64{} // seq of a record → the index whose leaf it matches
	if len(mismatched) > 0 {
		for j := uint64(0); j < size; j++ {
			if i, ok := mismatched[[32]byte(leaves[j*32:j*32+32])]; ok && i != j {
				moved[i] = j
			}
		}
	}
	for seq := uint64(0); seq < size; seq++ {
		switch {
		case !present[seq]:
			rep.add(Problem{Kind: ProblemNode, Index: seq, Detail: "leaf hash missing from the tree"})
		case !seen[seq]:
			rep.add(Problem{Kind: ProblemDeleted, Index: seq, Detail: "the tree has this leaf but its record is gone"})
		}
	}
	for _, seq := range mismatched {
		if j, ok := moved[seq]; ok {
			rep.add(Problem{Kind: ProblemReordered, Index: seq, Detail: fmt.Sprintf("content belongs at index %d", j)})
		} else {
			rep.add(Problem{Kind: ProblemChanged, Index: seq, Detail: "content does not match its leaf hash"})
		}
	}
	// Every stored node above the leaves, level by level, from the stored leaves.
	level := leaves
	for l := uint(1); uint64(len(level)/32) >= 2; l++ {
		n := len(level) / 32 / 2
		next := make([]byte, n*32)
		for k := 0; k < n; k++ {
			copy(next[k*32:], rfc6962.DefaultHasher.HashChildren(level[2*k*32:2*k*32+32], level[(2*k+1)*32:(2*k+2)*32]))
		}
		storedAt := make([]bool, n)
		err := src.Nodes(ctx, l, func(idx uint64, hash []byte) error {
			if idx >= uint64(n) {
				rep.add(Problem{Kind: ProblemNode, Index: idx, Level: l, Detail: "a node beyond the tree"})
				return nil
			}
			storedAt[idx] = true
			if !bytes.Equal(hash, next[idx*32:idx*32+32]) {
				lo := idx << l
				rep.add(Problem{Kind: ProblemNode, Index: idx, Level: l, Detail: fmt.Sprintf("does not match its children (covers records %d–%d)", lo, lo+1<<l-1)})
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		for k, ok := range storedAt {
			if !ok {
				rep.add(Problem{Kind: ProblemNode, Index: uint64(k), Level: l, Detail: "node missing"})
			}
		}
		level = next
	}
	// The root at every checkpoint, from the stored leaves.
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = len(cps)
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	for _, signed := range cps {
		cp, err := OpenCheckpoint(signed, v)
		if err != nil {
			rep.add(Problem{Kind: ProblemCheckpoint, Detail: err.Error()})
			continue
		}
		if cp.Size > size {
			rep.add(Problem{Kind: ProblemCheckpoint, Index: cp.Size, Detail: "checkpoint is larger than the log: records were removed from its end"})
			continue
		}
		if cp.Size < rng.End() {
			rng = rf.NewEmptyRange(0)
		}
		for rng.End() < cp.Size {
			i := rng.End()
			if err := rng.Append(leaves[i*32:i*32+32], nil); err != nil {
				return rep, err
			}
		}
		root, err := rng.GetRootHash(nil)
		if err != nil {
			return rep, err
		}
		if cp.Size == 0 {
			root = rfc6962.DefaultHasher.EmptyRoot()
		}
		if !bytes.Equal(root, cp.Root) {
			rep.add(Problem{Kind: ProblemCheckpoint, Index: cp.Size, Detail: "the signed root does not match the tree: the log was changed before this size"})
		}
	}
	return rep, nil
}
