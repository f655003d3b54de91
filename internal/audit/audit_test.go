package audit

import (
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

func TestCheckpointRoundTrip(t *testing.T) {
	skey, vkey, err := NewKey("test.deling/log")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	cp := Checkpoint{Origin: "test.deling/log", Size: 42, Root: make([]byte, 32)}
	signed, err := cp.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(signed), "test.deling/log\n42\nAAAA") {
		t.Fatalf("not a C2SP checkpoint: %q", signed)
	}
	got, err := OpenCheckpoint(signed, v)
	if err != nil || got.Size != 42 || got.Origin != cp.Origin {
		t.Fatalf("open: %+v %v", got, err)
	}
	_, otherV, _ := NewKey("test.deling/log")
	ov, _ := note.NewVerifier(otherV)
	if _, err := OpenCheckpoint(signed, ov); err == nil {
		t.Fatal("a checkpoint opened with another log's key")
	}
	for _, bad := range []string{"", "origin\n", "origin\nx\nAAAA\n", "origin\n1\nnot-base64\n"} {
		if _, err := ParseCheckpointText(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

// A receipt for every leaf of a small tree verifies; a changed record, salt or index does not.
func TestReceipts(t *testing.T) {
	skey, vkey, _ := NewKey("test.deling/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	nodes := map[compact.NodeID][]byte{}
	var entries []Entry
	for i := 0; i < 13; i++ {
		e, err := NewEntry(&Record{Kind: KindLookup, CorrelationID: string(rune('a' + i))})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
		rng.Append(e.LeafHash, func(id compact.NodeID, h []byte) { nodes[id] = h })
	}
	root, _ := rng.GetRootHash(nil)
	signed, _ := Checkpoint{Origin: "test.deling/log", Size: 13, Root: root}.Sign(s)
	for i, e := range entries {
		ns, _ := proof.Inclusion(uint64(i), 13)
		hs := make([][]byte, len(ns.IDs))
		for k, id := range ns.IDs {
			hs[k] = nodes[id]
		}
		hashes, _ := ns.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
		rc := Receipt{Record: e.Canonical, Salt: e.Salt, Index: uint64(i), Proof: TLogProof(uint64(i), hashes, signed)}
		if _, err := VerifyReceipt(rc, v); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		changed := rc
		changed.Record = []byte(strings.Replace(string(rc.Record), `"lookup"`, `"insight"`, 1))
		salted := rc
		salted.Salt = make([]byte, SaltSize)
		moved := rc
		moved.Index = uint64((i + 1) % 13)
		moved.Proof = TLogProof(moved.Index, hashes, signed)
		for name, bad := range map[string]Receipt{"changed record": changed, "other salt": salted, "other index": moved} {
			if _, err := VerifyReceipt(bad, v); err == nil {
				t.Fatalf("receipt %d with %s verified", i, name)
			}
		}
	}
	if _, _, _, err := ParseTLogProof("c2sp.org/tlog-proof@v1\nindex x\n\n"); err == nil {
		t.Fatal("a bad index parsed")
	}
}

func TestCompressRoundTrip(t *testing.T) {
	b := []byte(strings.Repeat(`{"uuid":"x"}`, 100))
	got, err := Decompress(Compress(b))
	if err != nil || string(got) != string(b) {
		t.Fatalf("round trip: %v", err)
	}
}
