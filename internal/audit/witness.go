package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Witnessing (Rule AA-16): the log's own signature proves nothing against the
// operator, who holds the key. Witnesses outside the operator's control
// cosign each checkpoint only if it is a consistent extension of the last one
// they saw, so a truncated or forked log can no longer collect cosignatures,
// and a cosigned checkpoint kept elsewhere shows any later truncation.
//
// Wire formats: c2sp.org/tlog-witness (add-checkpoint) and
// c2sp.org/tlog-cosignature (Ed25519 cosignature/v1, key type 0x04).

// Errors a witness answers an add-checkpoint with; package witness maps them
// to the HTTP statuses c2sp.org/tlog-witness names.
var (
	ErrUnknownLog   = errors.New("unknown log origin")                                   // 404
	ErrNotLogSigned = errors.New("no signature by a key trusted for the log")            // 403
	ErrBadRequest   = errors.New("malformed add-checkpoint request")                     // 400
	ErrBadProof     = errors.New("the consistency proof does not verify")                // 422
	ErrTruncated    = errors.New("the log is smaller than the trusted checkpoint")       // audit verify --trusted
	ErrForked       = errors.New("the log's tree disagrees with the trusted checkpoint") // audit verify --trusted
)

// ConflictError is the 409 of c2sp.org/tlog-witness: the old size is not the
// size the witness last cosigned, or the same size came with another root.
// Size is the witness's size, which the client retries from.
type ConflictError struct {
	Size   uint64
	Reason string
	// Evidence is set when the log signed a checkpoint smaller than the
	// witness's (a rollback) or of the same size with another root (a fork).
	Evidence bool
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict: %s (the witness has size %d)", e.Reason, e.Size)
}

// maxProofLines is the most consistency proof lines a request may carry.
const maxProofLines = 63

// AddCheckpoint is the body of a c2sp.org/tlog-witness add-checkpoint
// request: the size of the checkpoint the witness last cosigned, a
// consistency proof from it, and the new signed checkpoint.
type AddCheckpoint struct {
	OldSize    uint64
	Proof      [][]byte
	Checkpoint []byte // a signed note
}

// Marshal is the request body: "old N", one base64 hash a line, an empty
// line, then the signed checkpoint.
func (a AddCheckpoint) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", a.OldSize)
	for _, h := range a.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(a.Checkpoint)
	return b.Bytes()
}

// ParseAddCheckpoint reads an add-checkpoint request body strictly.
func ParseAddCheckpoint(body []byte) (AddCheckpoint, error) {
	head, rest, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return AddCheckpoint{}, fmt.Errorf("%w: no empty line before the checkpoint", ErrBadRequest)
	}
	lines := strings.Split(string(head), "\n")
	num, ok := strings.CutPrefix(lines[0], "old ")
	if !ok || num == "" || (len(num) > 1 && num[0] == '0') {
		return AddCheckpoint{}, fmt.Errorf("%w: want an old size line", ErrBadRequest)
	}
	old, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return AddCheckpoint{}, fmt.Errorf("%w: old size: %v", ErrBadRequest, err)
	}
	if len(lines)-1 > maxProofLines {
		return AddCheckpoint{}, fmt.Errorf("%w: more than %d proof lines", ErrBadRequest, maxProofLines)
	}
	a := AddCheckpoint{OldSize: old, Checkpoint: rest}
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != 32 {
			return AddCheckpoint{}, fmt.Errorf("%w: a proof line is not a base64 hash", ErrBadRequest)
		}
		a.Proof = append(a.Proof, h)
	}
	return a, nil
}

// CheckAdd decides an add-checkpoint request for a checkpoint whose log
// signature the caller has verified, against the latest checkpoint the witness
// cosigned for its origin (zero Size when none). It is nil when the witness
// may cosign and must then store cp as its latest, atomically with the check.
func CheckAdd(a AddCheckpoint, cp Checkpoint, latest Checkpoint) error {
	if a.OldSize > cp.Size {
		return fmt.Errorf("%w: old size %d is larger than the checkpoint's %d", ErrBadRequest, a.OldSize, cp.Size)
	}
	if cp.Size == 0 && !bytes.Equal(cp.Root, rfc6962.DefaultHasher.EmptyRoot()) {
		// RFC 6962: the empty tree has one root, SHA-256 of the empty string.
		return fmt.Errorf("%w: a size-0 checkpoint must carry the empty tree's root", ErrBadProof)
	}
	if latest.Root == nil && latest.Size == 0 {
		// Nothing cosigned yet: the witness holds the empty tree.
		latest.Root = rfc6962.DefaultHasher.EmptyRoot()
	}
	switch {
	case cp.Size < latest.Size:
		return &ConflictError{Size: latest.Size, Evidence: true,
			Reason: fmt.Sprintf("a rolled-back checkpoint: size %d after %d was cosigned", cp.Size, latest.Size)}
	case cp.Size == latest.Size && !bytes.Equal(cp.Root, latest.Root):
		return &ConflictError{Size: latest.Size, Evidence: true, Reason: "the same size with another root hash: a fork"}
	case a.OldSize != latest.Size:
		return &ConflictError{Size: latest.Size, Reason: fmt.Sprintf("old size %d is not the size last cosigned", a.OldSize)}
	}
	switch {
	case a.OldSize == 0:
		if len(a.Proof) != 0 {
			return fmt.Errorf("%w: a proof from size 0 must be empty", ErrBadProof)
		}
	case a.OldSize == cp.Size:
		// The same checkpoint again (the root was compared above): RFC 6962
		// proves a tree consistent with itself by an empty proof.
		if len(a.Proof) != 0 {
			return fmt.Errorf("%w: a proof from a size to the same size must be empty", ErrBadProof)
		}
	default:
		if err := VerifyConsistency(a.OldSize, cp.Size, a.Proof, latest.Root, cp.Root); err != nil {
			return fmt.Errorf("%w: %v", ErrBadProof, err)
		}
	}
	return nil
}

// OpenForWitness verifies a submitted checkpoint's log signature with the
// keys trusted for its origin (logs maps origin to verifier) and parses it.
// It returns the note too, for cosigning; signatures from unknown keys are ignored.
func OpenForWitness(signed []byte, logs map[string]note.Verifier) (Checkpoint, *note.Note, error) {
	origin, _, _ := strings.Cut(string(signed), "\n")
	v, ok := logs[origin]
	if !ok {
		return Checkpoint{}, nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrNotLogSigned, err)
	}
	cp, err := ParseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if cp.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin", ErrBadRequest)
	}
	return cp, n, nil
}

// NewWitnessKey makes a witness's Ed25519 key. The private key is a note key
// text; the verifier key is a c2sp.org/tlog-cosignature vkey (type 0x04).
func NewWitnessKey(name string) (skey, vkey string, err error) {
	skey, v1, err := NewKey(name)
	if err != nil {
		return "", "", err
	}
	vkey, err = tnote.VKeyToCosignatureV1(v1)
	return skey, vkey, err
}

// NewCosigner is the witness's signer of Ed25519 cosignature/v1 signatures.
func NewCosigner(skey string) (note.Signer, error) {
	return tnote.NewSignerForCosignatureV1(skey)
}

// NewCosignatureVerifier checks a witness's cosignatures; vkey is a 0x04
// cosignature key (a plain Ed25519 note key is taken as the same key).
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	return tnote.NewVerifierForCosignatureV1(vkey)
}

// Cosign signs the checkpoint text as a witness and returns the cosignature
// line(s) only, as an add-checkpoint response body.
func Cosign(text string, s note.Signer) ([]byte, error) {
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return nil, err
	}
	return signed[len(text)+1:], nil
}

// SignatureLines formats signatures as note signature lines.
func SignatureLines(sigs []note.Signature) []byte {
	var b bytes.Buffer
	for _, s := range sigs {
		fmt.Fprintf(&b, "— %s %s\n", s.Name, s.Base64)
	}
	return b.Bytes()
}

// CosignatureLines checks a witness's add-checkpoint answer against the
// checkpoint it was asked to cosign and returns only the lines by w: the
// client ignores cosignatures from keys it does not know.
func CosignatureLines(signed, answer []byte, w note.Verifier) ([]byte, error) {
	n, err := note.Open(append(bytes.Clone(signed), answer...), note.VerifierList(w))
	if err != nil {
		return nil, fmt.Errorf("witness %s: no valid cosignature in its answer: %w", w.Name(), err)
	}
	return SignatureLines(n.Sigs), nil
}

// Cosignature is one witness's verified cosignature on a checkpoint.
type Cosignature struct {
	Witness string    // the witness key's name
	Time    time.Time // when the witness cosigned
}

// OpenCosigned verifies a checkpoint signed by the log and, for each of
// witnesses, cosigned by that witness; every one given must be there.
// Signatures by other keys are ignored.
func OpenCosigned(signed []byte, log note.Verifier, witnesses ...note.Verifier) (Checkpoint, []Cosignature, error) {
	n, err := note.Open(signed, note.VerifierList(append([]note.Verifier{log}, witnesses...)...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	has := func(v note.Verifier) (note.Signature, bool) {
		for _, s := range n.Sigs {
			if s.Name == v.Name() && s.Hash == v.KeyHash() {
				return s, true
			}
		}
		return note.Signature{}, false
	}
	if _, ok := has(log); !ok {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint signature: not signed by the log's key %s", log.Name())
	}
	var cos []Cosignature
	for _, w := range witnesses {
		s, ok := has(w)
		if !ok {
			return Checkpoint{}, nil, fmt.Errorf("checkpoint: no valid cosignature by witness %s", w.Name())
		}
		t, err := tnote.CoSigV1Timestamp(s)
		if err != nil {
			return Checkpoint{}, nil, fmt.Errorf("cosignature by %s: %w", w.Name(), err)
		}
		cos = append(cos, Cosignature{Witness: w.Name(), Time: t})
	}
	cp, err := ParseCheckpointText(n.Text)
	return cp, cos, err
}

// LeafSource is the part of a stored log that CheckExtends reads.
type LeafSource interface {
	Size(ctx context.Context) (uint64, error)
	Tiles(ctx context.Context, level uint, fn func(idx uint64, hashes []byte) error) error
}

// CheckExtends proves that the stored log is a consistent extension of a
// trusted checkpoint (one saved earlier, or a witness's): the log has at least
// its size, and the root over the stored leaf hashes up to its size is its
// root. ErrTruncated and ErrForked say which failed. Verify separately checks
// that the leaves match the records and the newest checkpoint.
func CheckExtends(ctx context.Context, src LeafSource, trusted Checkpoint) error {
	size, err := src.Size(ctx)
	if err != nil {
		return err
	}
	if size < trusted.Size {
		return fmt.Errorf("%w: it has %d records, the trusted checkpoint of %s has %d: the newest %d are gone",
			ErrTruncated, size, trusted.Origin, trusted.Size, trusted.Size-size)
	}
	rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	errStop := errors.New("stop")
	err = src.Tiles(ctx, 0, func(tile uint64, hashes []byte) error {
		if len(hashes)%32 != 0 {
			return fmt.Errorf("%w: leaf tile %d is %d bytes long", ErrForked, tile, len(hashes))
		}
		for j := 0; j < len(hashes); j += 32 {
			idx := tile*TileWidth + uint64(j/32)
			if idx >= trusted.Size {
				return errStop
			}
			if idx != rng.End() {
				return fmt.Errorf("%w: leaf %d is missing", ErrForked, rng.End())
			}
			if err := rng.Append(hashes[j:j+32], nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if rng.End() < trusted.Size {
		return fmt.Errorf("%w: only %d of its %d leaves are stored: the newest %d are gone",
			ErrTruncated, rng.End(), trusted.Size, trusted.Size-rng.End())
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if trusted.Size > 0 {
		if root, err = rng.GetRootHash(nil); err != nil {
			return err
		}
	}
	if !bytes.Equal(root, trusted.Root) {
		return fmt.Errorf("%w: at size %d the log's root is %s, the trusted checkpoint's %s: records before it were changed, removed or replaced",
			ErrForked, trusted.Size, base64.StdEncoding.EncodeToString(root), base64.StdEncoding.EncodeToString(trusted.Root))
	}
	return nil
}
