package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Source is a stored log as Verify reads it: one consistent snapshot (a log
// read while appends go on would show records without their leaves).
type Source interface {
	// Size is the number of leaves the log says it has.
	Size(ctx context.Context) (uint64, error)
	// Records calls fn for each stored record in seq order, as stored (plain
	// canonical or packed, PackRecord), with the subjects
	// blob kept beside it (EncodeSubjects; nil for none); salt, record and
	// subjects are nil for a record erased by retention.
	Records(ctx context.Context, fn func(seq uint64, salt, record, subjects []byte) error) error
	// Index calls fn for each entry of the insight index (a record's seq and
	// a person it returned), in any order.
	Index(ctx context.Context, fn func(seq uint64, ident string) error) error
	// Tiles calls fn for each stored tile of one tile level (its hashes
	// joined), in index order. Level 0 is the leaf hashes.
	Tiles(ctx context.Context, level uint, fn func(idx uint64, hashes []byte) error) error
	// Checkpoints is every stored signed checkpoint, in size order.
	Checkpoints(ctx context.Context) ([]StoredCheckpoint, error)
}

// StoredCheckpoint is a signed checkpoint and the size it is stored under.
type StoredCheckpoint struct {
	Size   uint64
	Signed []byte
}

// Problem kinds Verify reports.
const (
	ProblemChanged    = "changed"    // the record's content does not match its leaf
	ProblemDeleted    = "deleted"    // the tree has a leaf whose record is gone
	ProblemInserted   = "inserted"   // a record has no leaf in the tree
	ProblemReordered  = "reordered"  // the record's content belongs to another index
	ProblemSubjects   = "subjects"   // the subjects kept beside a version-2 record, or its insight index entries, do not match its commitments
	ProblemUnreadable = "unreadable" // the stored record does not unpack to a record, or its salt is not a salt: no reader can open it
	ProblemNode       = "node"       // a stored tree node (a leaf hash too) does not match
	ProblemCheckpoint = "checkpoint" // a checkpoint is not signed by the log or does not match the tree
)

// Problem is one thing Verify found.
type Problem struct {
	Kind   string `json:"kind"`
	Index  uint64 `json:"index"`           // record index, node index at Level, or the checkpoint's stored size
	Level  uint   `json:"level,omitempty"` // for node problems
	Detail string `json:"detail"`
}

// position is where a problem is in log order: the first record it concerns.
func (p Problem) position() uint64 {
	if p.Kind == ProblemNode {
		return p.Index << p.Level
	}
	return p.Index
}

var kindOrder = map[string]int{ProblemInserted: 0, ProblemDeleted: 1, ProblemReordered: 2, ProblemChanged: 3, ProblemUnreadable: 4, ProblemSubjects: 5,
	ProblemNode: 6, ProblemCheckpoint: 7}

func compareProblems(a, b Problem) int {
	if c := cmpU(a.position(), b.position()); c != 0 {
		return c
	}
	if c := kindOrder[a.Kind] - kindOrder[b.Kind]; c != 0 {
		return c
	}
	if a.Level != b.Level {
		return int(a.Level) - int(b.Level)
	}
	if c := cmpU(a.Index, b.Index); c != 0 {
		return c
	}
	return bytes.Compare([]byte(a.Detail), []byte(b.Detail))
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Report is the outcome of Verify.
type Report struct {
	Size        uint64         `json:"size"`
	Records     uint64         `json:"records"`
	Erased      uint64         `json:"erased"`
	Checkpoints int            `json:"checkpoints"`
	Counts      map[string]int `json:"counts"`
	// Problems are the first MaxProblems in log order (by the first record
	// each concerns), the same on every run; Omitted counts the rest.
	Problems []Problem `json:"problems"`
	Omitted  int       `json:"omitted,omitempty"`
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
	r.Problems = append(r.Problems, p)
	if len(r.Problems) >= 4*MaxProblems {
		r.trim()
	}
}

// trim keeps the first MaxProblems in log order.
func (r *Report) trim() {
	slices.SortFunc(r.Problems, compareProblems)
	if len(r.Problems) > MaxProblems {
		r.Problems = slices.Clip(r.Problems[:MaxProblems])
	}
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	r.Omitted = n - len(r.Problems)
}

// Verify recomputes the log from one snapshot of its storage: each record's
// leaf from its salt and content, every stored tree node from its children,
// and the root at every checkpoint, whose signature it checks with the log's
// verifier key. It names each record that was changed, deleted, inserted or
// reordered, each node that does not match (a leaf hash changed apart from
// its record is a bad node: the tree above still holds the record's), and
// each checkpoint that is not the log's, by its stored size. Records of
// version 1 and 2 alike: the leaf covers the canonical bytes either way.
// For each version-2 record whose content matches its leaf, it checks what
// is kept beside it (checkSubjects): every commitment opened by exactly one
// stored subject, no stored subject extra, and its insight index entries the
// persons it returned; a mismatch is a subjects problem, named by the
// record's index only. progress, if not nil, is called with records done out
// of the size as it goes.
//
// Memory is about 56 bytes per leaf (10 million records: under 600 MB).
func Verify(ctx context.Context, src Source, v note.Verifier, progress func(done, total uint64)) (Report, error) {
	rep, err := verify(ctx, src, v, progress)
	rep.trim()
	return rep, err
}

func verify(ctx context.Context, src Source, v note.Verifier, progress func(done, total uint64)) (Report, error) {
	var rep Report
	size, err := src.Size(ctx)
	if err != nil {
		return rep, err
	}
	rep.Size = size
	// The stored leaf hashes, by index.
	leaves := make([]byte, size*32)
	present := make([]bool, size)
	err = eachTileHash(ctx, src, 0, &rep, func(idx uint64, hash []byte) {
		if idx >= size {
			rep.add(Problem{Kind: ProblemNode, Index: idx, Detail: "a leaf hash beyond the log's size"})
			return
		}
		copy(leaves[idx*32:], hash)
		present[idx] = true
	})
	if err != nil {
		return rep, err
	}
	leaf := func(i uint64) []byte { return leaves[i*32 : i*32+32] }
	// The insight index, as one keyed digest of its persons per record: one
	// scan, 8 bytes a record, compared with each record's returned subjects
	// in the scan of the records (no query per record).
	seed := maphash.MakeSeed()
	indexed := make([]uint64, size)
	err = src.Index(ctx, func(seq uint64, ident string) error {
		if seq >= size {
			rep.add(Problem{Kind: ProblemSubjects, Index: seq, Detail: "an insight index entry for a record beyond the log"})
			return nil
		}
		indexed[seq] += maphash.String(seed, ident)
		return nil
	})
	if err != nil {
		return rep, err
	}
	// Records against their leaves.
	seen := make([]bool, size)
	mismatched := map[uint64][32]byte{} // record seq → its recomputed leaf hash
	subjectsOff := map[uint64]string{}  // a mismatched record's subjects problem, reported if the leaf hash is what changed
	err = src.Records(ctx, func(seq uint64, salt, record, subjects []byte) error {
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
			// Retention removes an erased record's insight entries with its
			// content (Rule AA-17): one left would show a person a lookup
			// whose record says nothing any more.
			if indexed[seq] != 0 {
				rep.add(Problem{Kind: ProblemSubjects, Index: seq, Detail: "an insight index entry for an erased record"})
			}
			return nil
		}
		// The stored form (PackRecord) unpacked. A stored value must be one
		// every reader opens, whatever its leaf hash says: the leaf covers
		// salt ‖ record with no length between them, so bytes moved from
		// the record's start to the salt's end keep the leaf and leave a
		// record no one can read. A salt is 16 or 32 bytes (SaltSize, and
		// before issue 15 32); the record unpacks (UnpackRecord) and decodes
		// as a Record. Anything else is unreadable, and is still checked
		// against its leaf as it is.
		var rec *Record
		if canonical, err := UnpackRecord(record); err == nil {
			record = canonical
			var r Record
			if err := json.Unmarshal(record, &r); err == nil {
				rec = &r
			} else {
				rep.add(Problem{Kind: ProblemUnreadable, Index: seq, Detail: "the record does not decode: " + err.Error()})
			}
		} else {
			rep.add(Problem{Kind: ProblemUnreadable, Index: seq, Detail: err.Error()})
		}
		if len(salt) != 16 && len(salt) != 32 {
			rep.add(Problem{Kind: ProblemUnreadable, Index: seq, Detail: fmt.Sprintf("a salt of %d bytes", len(salt))})
		}
		h := LeafHash(salt, record)
		detail := checkSubjects(rec, subjects, indexed[seq], seed)
		if !bytes.Equal(h, leaf(seq)) {
			mismatched[seq] = [32]byte(h)
			if detail != "" {
				subjectsOff[seq] = detail
			}
			return nil
		}
		if detail != "" {
			rep.add(Problem{Kind: ProblemSubjects, Index: seq, Detail: detail})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if progress != nil {
		progress(rep.Records, size)
	}
	for seq := uint64(0); seq < size; seq++ {
		switch {
		case !present[seq]:
			rep.add(Problem{Kind: ProblemNode, Index: seq, Detail: "leaf hash missing from the tree"})
		case !seen[seq]:
			rep.add(Problem{Kind: ProblemDeleted, Index: seq, Detail: "the tree has this leaf but its record is gone"})
		}
	}
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	if err := resolveMismatches(ctx, src, &rep, leaves, present, mismatched, subjectsOff, cps, v); err != nil {
		return rep, err
	}
	// Every stored node above the leaves, tile level by tile level, from the
	// leaves: the tiles hold tree levels 8, 16, …; the levels between are
	// never stored.
	level := leaves
	for l := uint(1); uint64(len(level)/32) >= 2; l++ {
		n := len(level) / 32 / 2
		next := make([]byte, n*32)
		for k := 0; k < n; k++ {
			copy(next[k*32:], rfc6962.DefaultHasher.HashChildren(level[2*k*32:2*k*32+32], level[(2*k+1)*32:(2*k+2)*32]))
		}
		level = next
		if l%TileHeight != 0 {
			continue
		}
		storedAt := make([]bool, n)
		err := eachTileHash(ctx, src, l/TileHeight, &rep, func(idx uint64, hash []byte) {
			if idx >= uint64(n) {
				rep.add(Problem{Kind: ProblemNode, Index: idx, Level: l, Detail: "a node beyond the tree"})
				return
			}
			storedAt[idx] = true
			if !bytes.Equal(hash, next[idx*32:idx*32+32]) {
				lo := idx << l
				rep.add(Problem{Kind: ProblemNode, Index: idx, Level: l, Detail: fmt.Sprintf("does not match the leaves below it (covers records %d–%d)", lo, lo+1<<l-1)})
			}
		})
		if err != nil {
			return rep, err
		}
		for k, ok := range storedAt {
			if !ok {
				rep.add(Problem{Kind: ProblemNode, Index: uint64(k), Level: l, Detail: "node missing"})
			}
		}
	}
	// The root at every checkpoint, from the leaves.
	rep.Checkpoints = len(cps)
	for _, sc := range cps {
		cp, err := OpenCheckpoint(sc.Signed, v)
		switch {
		case err != nil:
			rep.add(Problem{Kind: ProblemCheckpoint, Index: sc.Size, Detail: err.Error()})
			continue
		case cp.Size != sc.Size:
			rep.add(Problem{Kind: ProblemCheckpoint, Index: sc.Size, Detail: fmt.Sprintf("stored under size %d but signed for size %d", sc.Size, cp.Size)})
			continue
		case cp.Size > size:
			rep.add(Problem{Kind: ProblemCheckpoint, Index: cp.Size, Detail: "checkpoint is larger than the log: records were removed from its end"})
			continue
		}
		if root := rootAt(leaves, cp.Size, noSwap); !bytes.Equal(root, cp.Root) {
			rep.add(Problem{Kind: ProblemCheckpoint, Index: cp.Size, Detail: "the signed root does not match the tree: the log was changed before this size"})
		}
	}
	return rep, nil
}

// eachTileHash calls fn with each hash stored in the tiles of tile level,
// and its index at tree level TileHeight·level. A tile of a length that is
// not a whole number of hashes, or more than a tile's, is a problem.
func eachTileHash(ctx context.Context, src Source, level uint, rep *Report, fn func(idx uint64, hash []byte)) error {
	return src.Tiles(ctx, level, func(tile uint64, hashes []byte) error {
		if len(hashes)%32 != 0 || len(hashes) > TileWidth*32 || len(hashes) == 0 {
			rep.add(Problem{Kind: ProblemNode, Index: tile * TileWidth, Level: level * TileHeight, Detail: fmt.Sprintf("tile %d/%d is %d bytes long", level, tile, len(hashes))})
			return nil
		}
		for j := 0; j < len(hashes)/32; j++ {
			fn(tile*TileWidth+uint64(j), hashes[j*32:j*32+32])
		}
		return nil
	})
}

var noSwap = ^uint64(0)

// rootAt is the RFC 6962 root of the first n leaves, with leaf swapAt read as swap.
func rootAt(leaves []byte, n, swapAt uint64, swap ...[]byte) []byte {
	if n == 0 {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	for i := uint64(0); i < n; i++ {
		h := leaves[i*32 : i*32+32]
		if i == swapAt {
			h = swap[0]
		}
		rng.Append(h, nil)
	}
	root, _ := rng.GetRootHash(nil)
	return root
}

// resolveMismatches names each record whose content does not match its
// stored leaf hash: reordered when its content is another index's leaf;
// otherwise the tree above decides which one changed. When the stored node
// at tree level 8 above it (or, in the partial last leaf tile, the
// checkpoint at the log's size) holds the record's own leaf hash, the leaf
// hash is what was changed: a bad node, and the record's hash takes its place
// for the nodes above. Else the record was changed.
//
// The subjects problem of a record (subjectsOff) is reported only when the
// record is its own: a changed or reordered record's subjects are not checked.
func resolveMismatches(ctx context.Context, src Source, rep *Report, leaves []byte, present []bool, mismatched map[uint64][32]byte, subjectsOff map[uint64]string, cps []StoredCheckpoint, v note.Verifier) error {
	if len(mismatched) == 0 {
		return nil
	}
	size := uint64(len(present))
	leaf := func(i uint64) []byte { return leaves[i*32 : i*32+32] }
	seqs := make([]uint64, 0, len(mismatched))
	byHash := make(map[[32]byte]uint64, len(mismatched))
	for seq, h := range mismatched {
		seqs = append(seqs, seq)
		byHash[h] = seq
	}
	slices.Sort(seqs)
	moved := map[uint64]uint64{} // seq of a record → the index whose leaf it matches
	for j := uint64(0); j < size; j++ {
		if i, ok := byHash[[32]byte(leaf(j))]; ok && i != j {
			moved[i] = j
		}
	}
	// The stored level-8 nodes above the mismatched leaves in full leaf tiles.
	parents := map[uint64][]byte{}
	for _, seq := range seqs {
		if seq/TileWidth < size/TileWidth {
			parents[seq/TileWidth] = nil
		}
	}
	if len(parents) > 0 {
		err := eachTileHash(ctx, src, 1, &Report{}, func(idx uint64, hash []byte) {
			if _, ok := parents[idx]; ok {
				parents[idx] = bytes.Clone(hash)
			}
		})
		if err != nil {
			return err
		}
	}
	// The checkpoint at the log's size, for an unpaired last leaf.
	var last *Checkpoint
	if n := len(cps); n > 0 && cps[n-1].Size == size {
		if cp, err := OpenCheckpoint(cps[n-1].Signed, v); err == nil && cp.Size == size {
			last = &cp
		}
	}
	for _, seq := range seqs {
		h := mismatched[seq]
		if j, ok := moved[seq]; ok {
			rep.add(Problem{Kind: ProblemReordered, Index: seq, Detail: fmt.Sprintf("content belongs at index %d", j)})
			continue
		}
		leafChanged := false
		if p, ok := parents[seq/TileWidth]; ok && p != nil {
			lo := seq / TileWidth * TileWidth
			leafChanged = bytes.Equal(p, rootAt(leaves[lo*32:(lo+TileWidth)*32], TileWidth, seq-lo, h[:]))
		} else if seq/TileWidth == size/TileWidth && last != nil {
			leafChanged = bytes.Equal(last.Root, rootAt(leaves, size, seq, h[:]))
		}
		if leafChanged {
			rep.add(Problem{Kind: ProblemNode, Index: seq, Detail: "the leaf hash was changed: it does not match its record, which the tree above holds"})
			copy(leaves[seq*32:], h[:])
			if d, ok := subjectsOff[seq]; ok {
				rep.add(Problem{Kind: ProblemSubjects, Index: seq, Detail: d})
			}
			continue
		}
		rep.add(Problem{Kind: ProblemChanged, Index: seq, Detail: "content does not match its leaf hash"})
	}
	return nil
}
