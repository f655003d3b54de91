package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
)

// A version-2 record names no one in the clear (Rules AA-16, AA-17). Each
// identity it names — a person returned, or one named in the request or a
// governance event — is stored in the leaf as a commitment
// SHA-256(subject salt ‖ identity), with a random salt of its own kept beside
// the record (never in the leaf). A person's receipt discloses the record's
// canonical bytes, the record salt and that person's own subject salt: it
// proves their own appearance and tells nothing about anyone else's.

// SubjectSaltSize is the size of each subject's random salt.
const SubjectSaltSize = 16

// CommitmentPrefix marks a commitment that stands in the request or event of a
// version-2 record where an identity stood: "person:" + base64 commitment.
const CommitmentPrefix = "person:"

// Subject is an identity a version-2 record names, with its salt. Returned
// says whether the record returned the person's data (else the person was
// only named, e.g. in the request).
type Subject struct {
	Ident    string
	Salt     []byte
	Returned bool
}

// Commitment is base64(SHA-256(salt ‖ ident)), as a version-2 record holds it.
func Commitment(salt []byte, ident string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(ident))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// IsIdentity reports whether a JSON string's content is a person's identity
// as the log treats it: exactly 11 ASCII digits (fødselsnummer, D-nummer,
// H-nummer and synthetic numbers alike, valid or not).
func IsIdentity(s []byte) bool {
	if len(s) != 11 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// rewriteStrings copies the JSON text b, passing the content of each string
// (keys too) to fn; where fn returns ok, the string's content is replaced.
// Contents with escapes are passed as they are written.
func rewriteStrings(b []byte, fn func(s []byte) (string, bool)) []byte {
	if len(b) == 0 || bytes.IndexByte(b, '"') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if b[i] != '"' {
			out = append(out, b[i])
			i++
			continue
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(b) { // not valid JSON: leave the rest as it is
			return append(out, b[i:]...)
		}
		if r, ok := fn(b[i+1 : j]); ok {
			out = append(append(append(out, '"'), r...), '"')
		} else {
			out = append(out, b[i:j+1]...)
		}
		i = j + 1
	}
	return out
}

// identitiesIn calls fn for each identity a JSON text names.
func identitiesIn(b []byte, fn func(ident string)) {
	rewriteStrings(b, func(s []byte) (string, bool) {
		if IsIdentity(s) {
			fn(string(s))
		}
		return "", false
	})
}

// seal builds the version-2 leaf form of r: every identity replaced by its
// commitment, the returned persons' commitments in ReturnedCommitments
// (sorted, so that their order tells nothing), and no kept response. It
// returns the sealed copy and the subjects, each with a fresh salt.
func seal(r *Record, random func([]byte) error) (Record, []Subject, error) {
	index := map[string]int{}
	var subjects []Subject
	add := func(ident string, returned bool) {
		if i, ok := index[ident]; ok {
			subjects[i].Returned = subjects[i].Returned || returned
			return
		}
		index[ident] = len(subjects)
		subjects = append(subjects, Subject{Ident: ident, Returned: returned})
	}
	for _, id := range r.Returned {
		add(id, true)
	}
	identitiesIn(r.Request, func(id string) { add(id, false) })
	identitiesIn(r.Event, func(id string) { add(id, false) })
	c := *r
	c.Returned, c.Response, c.ReturnedCommitments = nil, nil, nil
	if len(subjects) == 0 {
		return c, nil, nil
	}
	salts := make([]byte, len(subjects)*SubjectSaltSize)
	if err := random(salts); err != nil {
		return c, nil, err
	}
	commitments := make(map[string]string, len(subjects))
	for i := range subjects {
		subjects[i].Salt = salts[i*SubjectSaltSize : (i+1)*SubjectSaltSize : (i+1)*SubjectSaltSize]
		cm := Commitment(subjects[i].Salt, subjects[i].Ident)
		commitments[subjects[i].Ident] = cm
		if subjects[i].Returned {
			c.ReturnedCommitments = append(c.ReturnedCommitments, cm)
		}
	}
	slices.Sort(c.ReturnedCommitments)
	replace := func(s []byte) (string, bool) {
		if !IsIdentity(s) {
			return "", false
		}
		return CommitmentPrefix + commitments[string(s)], true
	}
	c.Request = rewriteStrings(r.Request, replace)
	c.Event = rewriteStrings(r.Event, replace)
	return c, subjects, nil
}

// Open decodes a stored record's canonical bytes. A version-2 record is
// opened with the subjects kept beside it: the commitments of those whose salt
// is given are replaced by their identities again (Returned, the request, the
// event), and response is the kept answer. A version-1 record holds all of
// that itself.
func Open(canonical, response []byte, subjects []Subject) (Record, error) {
	var r Record
	if err := json.Unmarshal(canonical, &r); err != nil {
		return r, fmt.Errorf("decode record: %w", err)
	}
	if r.V < 2 {
		return r, nil
	}
	r.Response = response
	if len(subjects) == 0 {
		return r, nil
	}
	byCommitment := make(map[string]string, len(subjects))
	for _, s := range subjects {
		byCommitment[Commitment(s.Salt, s.Ident)] = s.Ident
	}
	for _, cm := range r.ReturnedCommitments {
		if id, ok := byCommitment[cm]; ok {
			r.Returned = append(r.Returned, id)
		}
	}
	slices.Sort(r.Returned)
	open := func(s []byte) (string, bool) {
		cm, ok := bytes.CutPrefix(s, []byte(CommitmentPrefix))
		if !ok {
			return "", false
		}
		id, ok := byCommitment[string(cm)]
		return id, ok
	}
	r.Request = rewriteStrings(r.Request, open)
	r.Event = rewriteStrings(r.Event, open)
	return r, nil
}

// Appearance is how a person appears in a record.
type Appearance struct {
	Returned bool // the record returned their data
	Named    bool // the request or event named them
}

// AppearanceOf finds the person ident in a record's canonical bytes: in a
// version 2 record by their commitment under salt, in a version 1 record in
// the clear (salt unused).
func AppearanceOf(canonical []byte, ident string, salt []byte) (Appearance, error) {
	var (
		r   Record
		a   Appearance
		err = json.Unmarshal(canonical, &r)
	)
	if err != nil {
		return a, fmt.Errorf("decode record: %w", err)
	}
	want := ident
	if r.V >= 2 {
		if len(salt) != SubjectSaltSize {
			return a, errors.New("receipt: the subject's salt is missing or of the wrong size")
		}
		want = CommitmentPrefix + Commitment(salt, ident)
		a.Returned = slices.Contains(r.ReturnedCommitments, Commitment(salt, ident))
	} else {
		a.Returned = slices.Contains(r.Returned, ident)
	}
	for _, b := range [][]byte{r.Request, r.Event} {
		rewriteStrings(b, func(s []byte) (string, bool) {
			a.Named = a.Named || string(s) == want
			return "", false
		})
	}
	return a, nil
}

// NamesOthers reports whether a record's canonical bytes show, in the clear,
// any identity but ident: true only for a version-1 record that returned or
// named someone else, whose receipt would disclose them.
func NamesOthers(canonical []byte, ident string) bool {
	var r Record
	if json.Unmarshal(canonical, &r) != nil {
		return true
	}
	if r.V >= 2 {
		return false
	}
	others := slices.ContainsFunc(r.Returned, func(id string) bool { return id != ident })
	for _, b := range [][]byte{r.Request, r.Event} {
		identitiesIn(b, func(id string) { others = others || id != ident })
	}
	return others
}

// EncodeSubjects packs a record's subjects for keeping beside it, one blob
// per record: for each, a flag byte (1: returned), the identity's length and
// bytes, and the salt.
func EncodeSubjects(subjects []Subject) []byte {
	if len(subjects) == 0 {
		return nil
	}
	out := make([]byte, 0, len(subjects)*(2+11+SubjectSaltSize))
	for _, s := range subjects {
		var flag byte
		if s.Returned {
			flag = 1
		}
		out = append(append(append(out, flag, byte(len(s.Ident))), s.Ident...), s.Salt...)
	}
	return out
}

// DecodeSubjects unpacks EncodeSubjects.
func DecodeSubjects(b []byte) ([]Subject, error) {
	var out []Subject
	for len(b) > 0 {
		if len(b) < 2 || len(b) < 2+int(b[1])+SubjectSaltSize {
			return nil, errors.New("record subjects: truncated")
		}
		n := int(b[1])
		out = append(out, Subject{Returned: b[0] == 1, Ident: string(b[2 : 2+n]), Salt: b[2+n : 2+n+SubjectSaltSize : 2+n+SubjectSaltSize]})
		b = b[2+n+SubjectSaltSize:]
	}
	return out, nil
}

// isCommitmentString reports whether a JSON string's content is a commitment
// as seal writes it in a request or event: CommitmentPrefix and the base64 of
// a SHA-256 hash.
func isCommitmentString(s []byte) ([]byte, bool) {
	cm, ok := bytes.CutPrefix(s, []byte(CommitmentPrefix))
	if !ok || len(cm) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return nil, false
	}
	var h [sha256.Size + 2]byte
	n, err := base64.StdEncoding.Decode(h[:], cm)
	return cm, err == nil && n == sha256.Size
}

// checkSubjects checks what is kept beside a version-2 record against its
// commitments (Rules AA-16, AA-17): each commitment in returnedCommitments
// and each commitment in its request and event is opened by exactly one
// stored subject, no stored subject is extra or says otherwise whether it was
// returned, and indexed (the digest of the record's insight index entries,
// the sum of maphash.String(seed, ident)) is the digest of the persons it
// returned. It returns what does not match, naming no one, or "". A
// version-1 record (identities in the clear, nothing beside it) and an erased
// one pass.
func checkSubjects(r *Record, blob []byte, indexed uint64, seed maphash.Seed) string {
	if r == nil || r.V < 2 {
		return "" // a record that does not decode is not one seal made (Verify reports it unreadable)
	}
	// commitment → whether it stands for a returned person
	want := make(map[string]bool, len(r.ReturnedCommitments))
	for _, cm := range r.ReturnedCommitments {
		want[cm] = true
	}
	for _, b := range [][]byte{r.Request, r.Event} {
		rewriteStrings(b, func(s []byte) (string, bool) {
			if cm, ok := isCommitmentString(s); ok {
				if _, seen := want[string(cm)]; !seen {
					want[string(cm)] = false
				}
			}
			return "", false
		})
	}
	subjects, err := DecodeSubjects(blob)
	if err != nil {
		return "the subjects kept beside it do not decode"
	}
	var (
		problems             []string
		extra, flag, tooMany int
		digest               uint64
		opened               = make(map[string]int, len(subjects))
	)
	for _, s := range subjects {
		cm := Commitment(s.Salt, s.Ident)
		returned, ok := want[cm]
		switch {
		case !ok:
			extra++
			continue
		case s.Returned != returned:
			flag++
		}
		if opened[cm]++; opened[cm] == 1 && returned {
			digest += maphash.String(seed, s.Ident)
		}
	}
	missing := 0
	for cm := range want {
		switch n := opened[cm]; {
		case n == 0:
			missing++
		case n > 1:
			tooMany++
		}
	}
	if missing > 0 {
		problems = append(problems, fmt.Sprintf("%d of its %d commitments opened by no stored subject", missing, len(want)))
	}
	if tooMany > 0 {
		problems = append(problems, fmt.Sprintf("%d of its commitments opened by more than one stored subject", tooMany))
	}
	if extra > 0 {
		problems = append(problems, fmt.Sprintf("%d stored subjects that open none of its commitments", extra))
	}
	if flag > 0 {
		problems = append(problems, fmt.Sprintf("%d stored subjects marked returned or not against its commitments", flag))
	}
	if digest != indexed {
		problems = append(problems, "its insight index entries (audit_subjects) are not the persons it returned")
	}
	return strings.Join(problems, "; ")
}
