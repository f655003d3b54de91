package audit

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"

	"github.com/transparency-dev/merkle/rfc6962"
)

// SaltSize is the size of the random salt of each new record: 128 bits hide
// a leaf as well as the 256 of the records written before issue 15. The
// salt's length is never assumed when a leaf is recomputed: it is the stored
// salt's, so records with either verify (and Verify takes no other length).
const SaltSize = 16

// Entry is a record ready for the tree: its canonical bytes, salt and leaf
// hash, and what is kept beside the leaf.
type Entry struct {
	Record    *Record // as given: identities in the clear
	Canonical []byte  // the leaf's record: commitments only
	Stored    []byte  // Canonical packed (PackRecord), as the log stores it
	Salt      []byte
	LeafHash  []byte
	// Subjects are the identities the record names, each with its salt; kept
	// beside the record, never in the leaf.
	Subjects []Subject
	// Response is the kept answer, outside the leaf (ResponseHash covers it).
	Response []byte
}

// NewEntry encodes a record canonically as version RecordVersion and salts
// it. The leaf hash is the RFC 6962 leaf hash of salt ‖ canonical record: the
// tree reveals nothing about the record, and erasing the record and salt
// later (retention) leaves every proof valid. The canonical record names no
// one in the clear (seal): each identity is a salted commitment.
func NewEntry(r *Record) (Entry, error) {
	r.V = RecordVersion
	sealed, subjects, err := seal(r, func(b []byte) error { _, err := rand.Read(b); return err })
	if err != nil {
		return Entry{}, err
	}
	b, err := Canonical(&sealed)
	if err != nil {
		return Entry{}, err
	}
	// Fail closed: a record no reader could unpack is never written.
	if len(b) > MaxRecordSize {
		return Entry{}, fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, len(b))
	}
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return Entry{}, err
	}
	// Packed here, on the caller's goroutine: the log's single writer only writes.
	return Entry{Record: r, Canonical: b, Stored: PackRecord(b), Salt: salt, LeafHash: LeafHash(salt, b), Subjects: subjects, Response: r.Response}, nil
}

// Canonical is the record's canonical bytes: compact JSON in the struct's
// field order, which encoding/json makes deterministic.
func Canonical(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

// LeafHash is SHA-256(0x00 ‖ salt ‖ canonical).
func LeafHash(salt, canonical []byte) []byte {
	leaf := make([]byte, 0, len(salt)+len(canonical))
	leaf = append(append(leaf, salt...), canonical...)
	return rfc6962.DefaultHasher.HashLeaf(leaf)
}

// Compress deflates a response for keeping in its record.
func Compress(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// Decompress inflates a kept response.
func Decompress(b []byte) ([]byte, error) {
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), 64<<20))
}
