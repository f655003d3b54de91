package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
)

const origin = "deling.test/lookup-log"

// testLog is a log with its signing key and its tree.
type testLog struct {
	signer note.Signer
	tree   *testonly.Tree
}

func newTestLog(t *testing.T, skey string) *testLog {
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{signer: s, tree: testonly.New(rfc6962.DefaultHasher)}
}

func (l *testLog) grow(n int, tag string) {
	for i := 0; i < n; i++ {
		l.tree.AppendData([]byte(fmt.Sprintf("%s-%d", tag, l.tree.Size())))
	}
}

func (l *testLog) checkpoint(t *testing.T) []byte {
	signed, err := audit.Checkpoint{Origin: origin, Size: l.tree.Size(), Root: l.tree.Hash()}.Sign(l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func (l *testLog) proof(t *testing.T, old uint64) [][]byte {
	if old == 0 || old == l.tree.Size() {
		return nil
	}
	p, err := l.tree.ConsistencyProof(old, l.tree.Size())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWitness: over real HTTP on loopback with its state in real SQLite, a
// witness cosigns a growing log, and refuses (409 with its size, per
// c2sp.org/tlog-witness) a rolled-back or forked checkpoint, a stale old size,
// and a bad proof (422); it keeps the log-signed checkpoints it refused as
// evidence (Rule AA-16).
func TestWitness(t *testing.T) {
	ctx := context.Background()
	skey, vkey, err := audit.NewKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	logV, _ := note.NewVerifier(vkey)
	wskey, wvkey, err := audit.NewWitnessKey("witness.test/dpo")
	if err != nil {
		t.Fatal(err)
	}
	cosigner, _ := audit.NewCosigner(wskey)
	wv, err := audit.NewCosignatureVerifier(wvkey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := OpenState(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(NewServer(map[string]note.Verifier{origin: logV}, cosigner, st, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer srv.Close()

	lg := newTestLog(t, skey)
	var witnessed uint64
	for _, n := range []int{5, 12, 0, 23, 1} {
		lg.grow(n, "a")
		signed := lg.checkpoint(t)
		answer, err := Submit(ctx, srv.Client(), srv.URL, audit.AddCheckpoint{OldSize: witnessed, Proof: lg.proof(t, witnessed), Checkpoint: signed})
		if err != nil {
			t.Fatalf("size %d from %d: %v", lg.tree.Size(), witnessed, err)
		}
		if !bytes.HasPrefix(answer, []byte("— witness.test/dpo ")) {
			t.Fatalf("answer: %q", answer)
		}
		cp, cos, err := audit.OpenCosigned(append(signed, answer...), logV, wv)
		if err != nil || cp.Size != lg.tree.Size() || len(cos) != 1 {
			t.Fatalf("cosigned checkpoint: %v %+v %v", err, cp, cos)
		}
		witnessed = lg.tree.Size()
	}
	_, stored, ok, err := st.Latest(ctx, origin)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, _, err := audit.OpenCosigned(stored, logV, wv); err != nil {
		t.Fatalf("the stored checkpoint does not carry both signatures: %v\n%s", err, stored)
	}

	post := func(body []byte) (int, string, string) {
		resp, err := srv.Client().Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	size := fmt.Sprintf("%d\n", witnessed)

	// A rolled-back log: the same log cut to 20 records and re-signed.
	cut := newTestLog(t, skey)
	cut.grow(20, "a")
	if code, ct, body := post(audit.AddCheckpoint{OldSize: 20, Checkpoint: cut.checkpoint(t)}.Marshal()); code != 409 || ct != "text/x.tlog.size" || body != size {
		t.Errorf("rolled back, old size = its size: %d %q %q", code, ct, body)
	}
	if code, _, body := post(audit.AddCheckpoint{OldSize: 0, Checkpoint: cut.checkpoint(t)}.Marshal()); code != 409 || body != size {
		t.Errorf("rolled back, old size 0: %d %q", code, body)
	}
	// A fork at the witnessed size: other records, same size.
	fork := newTestLog(t, skey)
	fork.grow(int(witnessed), "b")
	if code, _, body := post(audit.AddCheckpoint{OldSize: witnessed, Checkpoint: fork.checkpoint(t)}.Marshal()); code != 409 || body != size {
		t.Errorf("fork at the same size: %d %q", code, body)
	}
	// A fork that grows: its own consistency proof does not lead from the witnessed root.
	fork.grow(10, "b")
	if code, _, body := post(audit.AddCheckpoint{OldSize: witnessed, Proof: fork.proof(t, witnessed), Checkpoint: fork.checkpoint(t)}.Marshal()); code != 422 {
		t.Errorf("fork that grows: %d %q", code, body)
	}
	// A stale old size from an honest log: 409 with the size to retry from, then it cosigns.
	lg.grow(3, "a")
	_, err = Submit(ctx, srv.Client(), srv.URL, audit.AddCheckpoint{OldSize: 5, Proof: lg.proof(t, 5), Checkpoint: lg.checkpoint(t)})
	var conflict *audit.ConflictError
	if !errors.As(err, &conflict) || conflict.Size != witnessed {
		t.Fatalf("stale old size: %v", err)
	}
	if _, err := Submit(ctx, srv.Client(), srv.URL, audit.AddCheckpoint{OldSize: conflict.Size, Proof: lg.proof(t, conflict.Size), Checkpoint: lg.checkpoint(t)}); err != nil {
		t.Fatalf("retry from the witness's size: %v", err)
	}
	// Not the log's key, an unknown origin, malformed requests.
	other, _, _ := audit.NewKey(origin)
	if code, _, _ := post(audit.AddCheckpoint{Checkpoint: newTestLog(t, other).checkpoint(t)}.Marshal()); code != 403 {
		t.Errorf("signed by another key: %d", code)
	}
	sk2, _, _ := audit.NewKey("elsewhere.example/log")
	s2, _ := note.NewSigner(sk2)
	foreign, _ := audit.Checkpoint{Origin: "elsewhere.example/log", Size: 1, Root: make([]byte, 32)}.Sign(s2)
	if code, _, _ := post(audit.AddCheckpoint{Checkpoint: foreign}.Marshal()); code != 404 {
		t.Errorf("unknown origin: %d", code)
	}
	for _, body := range []string{"", "old 01\n\n", "old 3\nnot-base64\n\n", "old x\n\n"} {
		if code, _, _ := post(append([]byte(body), lg.checkpoint(t)...)); code != 400 {
			t.Errorf("malformed %q: %d", body, code)
		}
	}
	if code, _, _ := post(audit.AddCheckpoint{OldSize: lg.tree.Size() + 1, Checkpoint: lg.checkpoint(t)}.Marshal()); code != 400 {
		t.Errorf("old size beyond the checkpoint: %d", code)
	}
	if n, err := st.RefusedCount(ctx, origin); err != nil || n != 4 {
		t.Errorf("refused checkpoints kept as evidence: %d %v, want 4 (two rollbacks, two forks)", n, err)
	}
	if cp, _, _, _ := st.Latest(ctx, origin); cp.Size != lg.tree.Size() {
		t.Errorf("the witness's size: %d, want %d", cp.Size, lg.tree.Size())
	}
}

// Security review, item 2: over HTTP, a fresh witness cosigns an empty log's
// size-0 checkpoint (it was refused as a fork and kept as evidence), then the
// log as it grows; the checkpoint it cosigned sent again with a non-empty
// proof is a bad proof (422); the same checkpoint with an empty proof is
// cosigned again.
func TestWitnessEmptyLogAndRepeats(t *testing.T) {
	ctx := context.Background()
	skey, vkey, err := audit.NewKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	logV, _ := note.NewVerifier(vkey)
	wskey, _, err := audit.NewWitnessKey("witness.test/dpo")
	if err != nil {
		t.Fatal(err)
	}
	cosigner, _ := audit.NewCosigner(wskey)
	st, err := OpenState(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(NewServer(map[string]note.Verifier{origin: logV}, cosigner, st, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer srv.Close()
	lg := newTestLog(t, skey)
	if _, err := Submit(ctx, srv.Client(), srv.URL, audit.AddCheckpoint{OldSize: 0, Checkpoint: lg.checkpoint(t)}); err != nil {
		t.Fatalf("the empty log's checkpoint: %v", err)
	}
	if cp, _, ok, _ := st.Latest(ctx, origin); !ok || cp.Size != 0 || !bytes.Equal(cp.Root, rfc6962.DefaultHasher.EmptyRoot()) {
		t.Fatalf("the witness's state after the empty log: %v %+v", ok, cp)
	}
	if n, _ := st.RefusedCount(ctx, origin); n != 0 {
		t.Fatalf("the empty log's checkpoint kept as evidence: %d", n)
	}
	lg.grow(6, "a")
	if _, err := Submit(ctx, srv.Client(), srv.URL, audit.AddCheckpoint{OldSize: 0, Checkpoint: lg.checkpoint(t)}); err != nil {
		t.Fatalf("from the empty log to 6: %v", err)
	}
	post := func(a audit.AddCheckpoint) int {
		resp, err := srv.Client().Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(a.Marshal()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	junk := [][]byte{bytes.Repeat([]byte{3}, 32)}
	if code := post(audit.AddCheckpoint{OldSize: 6, Proof: junk, Checkpoint: lg.checkpoint(t)}); code != 422 {
		t.Errorf("the same checkpoint with a proof: %d, want 422", code)
	}
	if code := post(audit.AddCheckpoint{OldSize: 6, Checkpoint: lg.checkpoint(t)}); code != 200 {
		t.Errorf("the same checkpoint with an empty proof: %d, want 200", code)
	}
	if n, _ := st.RefusedCount(ctx, origin); n != 1 {
		t.Errorf("%d refused checkpoints kept, want the one with a bad proof", n)
	}
}
