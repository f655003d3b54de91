package audit

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a C2SP tlog-checkpoint: the log's origin, its size and the
// RFC 6962 root hash at that size.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Text is the checkpoint body: origin, size and base64 root, one a line.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// Sign signs the checkpoint as a signed note.
func (c Checkpoint) Sign(s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// OpenCheckpoint verifies a signed checkpoint with the log's verifier key and parses it.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	return ParseCheckpointText(n.Text)
}

// ParseCheckpointText reads a checkpoint body (extension lines are ignored).
func ParseCheckpointText(text string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return Checkpoint{}, errors.New("checkpoint: want origin, size and root lines")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint size: %w", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return Checkpoint{}, errors.New("checkpoint root: want 32 bytes in base64")
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root}, nil
}

// NewKey makes an Ed25519 signing key for a log origin, as note key texts.
func NewKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// Receipt is what a person or consumer gets for one record: the record with
// its salt, and a C2SP tlog-proof that its leaf is in the log under a signed
// checkpoint. Anyone with the log's verifier key can check it offline.
//
// A person's receipt for a version-2 record (Rule AA-17) also carries
// Subject: their own identity and subject salt, which open their own
// commitment in the record and no one else's. To check it without deling:
// leaf = SHA-256(0x00 ‖ salt ‖ record), the inclusion proof of leaf at index
// under the signed checkpoint, and base64(SHA-256(subject.salt ‖
// subject.ident)) among the record's "returnedCommitments" (or as
// "person:"+that string in its request).
type Receipt struct {
	Record  []byte          `json:"record"` // canonical bytes, as base64 in JSON
	Salt    []byte          `json:"salt"`
	Index   uint64          `json:"index"`
	Proof   string          `json:"tlogProof"` // c2sp.org/tlog-proof@v1
	Subject *SubjectOpening `json:"subject,omitempty"`
}

// SubjectOpening is the person a receipt was given to, with their own subject salt.
type SubjectOpening struct {
	Ident string `json:"ident"`
	Salt  []byte `json:"salt,omitempty"` // absent for a version-1 record
}

// TLogProof formats a C2SP tlog-proof: header, index, the inclusion proof
// hashes, a blank line, and the signed checkpoint.
func TLogProof(index uint64, hashes [][]byte, signedCheckpoint []byte) string {
	var b strings.Builder
	b.WriteString("c2sp.org/tlog-proof@v1\n")
	fmt.Fprintf(&b, "index %d\n", index)
	for _, h := range hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signedCheckpoint)
	return b.String()
}

// ParseTLogProof reads a C2SP tlog-proof into its index, hashes and signed checkpoint.
func ParseTLogProof(s string) (index uint64, hashes [][]byte, signedCheckpoint []byte, err error) {
	head, rest, ok := strings.Cut(s, "\n\n")
	if !ok {
		return 0, nil, nil, errors.New("tlog-proof: no blank line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 2 || lines[0] != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, errors.New("tlog-proof: want header c2sp.org/tlog-proof@v1")
	}
	i := 1
	if strings.HasPrefix(lines[i], "extra ") {
		i++
	}
	if i >= len(lines) || !strings.HasPrefix(lines[i], "index ") {
		return 0, nil, nil, errors.New("tlog-proof: want an index line")
	}
	if index, err = strconv.ParseUint(strings.TrimPrefix(lines[i], "index "), 10, 64); err != nil {
		return 0, nil, nil, fmt.Errorf("tlog-proof index: %w", err)
	}
	for _, l := range lines[i+1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != 32 {
			return 0, nil, nil, errors.New("tlog-proof: a proof line is not a base64 hash")
		}
		hashes = append(hashes, h)
	}
	return index, hashes, []byte(rest), nil
}

// VerifyReceipt checks a receipt offline: the leaf from record and salt, the
// inclusion proof, and the checkpoint's signature.
func VerifyReceipt(r Receipt, v note.Verifier) (Checkpoint, error) {
	index, hashes, signed, err := ParseTLogProof(r.Proof)
	if err != nil {
		return Checkpoint{}, err
	}
	if index != r.Index {
		return Checkpoint{}, errors.New("receipt: index does not match its proof")
	}
	cp, err := OpenCheckpoint(signed, v)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := VerifyInclusion(index, cp.Size, LeafHash(r.Salt, r.Record), hashes, cp.Root); err != nil {
		return Checkpoint{}, err
	}
	if r.Subject != nil {
		a, err := AppearanceOf(r.Record, r.Subject.Ident, r.Subject.Salt)
		if err != nil {
			return Checkpoint{}, err
		}
		if !a.Returned && !a.Named {
			return Checkpoint{}, errors.New("receipt: its subject does not appear in the record")
		}
	}
	return cp, nil
}
