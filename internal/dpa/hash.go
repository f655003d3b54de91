package dpa

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// hashFormat names the canonical encoding; a change of encoding is a new
// format, so that an old signature's hash can always be recomputed.
const hashFormat = "deling/dpa/v1\n"

// Canonical is the content's canonical encoding: the format's name and the
// normalized content as JSON with fields in a fixed order (encoding/json
// writes struct fields in declaration order and escapes the same way every
// time), sets sorted, texts trimmed with \n line ends. The same content
// always gives the same bytes; any change to a field gives other bytes.
func Canonical(c Content) []byte {
	c = c.clone()
	c.Normalize()
	b, err := json.Marshal(c)
	if err != nil {
		// Content holds only strings, ints and slices of them.
		panic(fmt.Sprintf("dpa: encode content: %v", err))
	}
	return append([]byte(hashFormat), b...)
}

// Hash is the SHA-256 of the content's canonical encoding, in hex: what a
// role holder is shown and signs (Rule DPA-01).
func Hash(c Content) string {
	sum := sha256.Sum256(Canonical(c))
	return hex.EncodeToString(sum[:])
}

// Hash is the version's content hash.
func (v *Version) Hash() string { return Hash(v.Content) }

// ErrChanged is CheckSeen's error: the version changed since it was shown.
var ErrChanged = errors.New("the version changed since it was shown")

// CheckSeen checks that seen, the hash the signing page showed, is the
// version's content hash now: a role holder signs exactly the version shown
// (Rule DPA-01), never one changed in between.
func (v *Version) CheckSeen(seen string) error {
	if seen == "" || seen != v.Hash() {
		return fmt.Errorf("version %d: %w", v.Number, ErrChanged)
	}
	return nil
}

// Valid reports whether both signatures are on the version's content as it
// is: each signed the hash the content has (Rule DPA-01).
func (v *Version) Valid() bool {
	h := v.Hash()
	return v.ControllerSig != nil && v.ProcessorSig != nil && v.ControllerSig.Hash == h && v.ProcessorSig.Hash == h
}
