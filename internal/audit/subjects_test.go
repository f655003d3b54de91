package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Rules AA-16, AA-17 (issue 11, item 1): a version-2 record's leaf names no
// one in the clear — not the persons returned, not those named in the request
// (an extract's units), not the kept response — and a person's receipt, with
// their own subject salt, proves their own appearance and opens no one else's.
func TestReceiptDisclosesNoOneElse(t *testing.T) {
	mine, other, named := "01010100003", "02020200005", "03030300007"
	rec := &Record{Kind: KindLookup, Consumer: "310000001", Decision: Permit,
		Request:  json.RawMessage(`{"kriterier":{"enheter":["` + named + `","` + mine + `"]},"arbeidsstedId":"910000001"}`),
		Returned: []string{mine, other}, Response: Compress([]byte(`[{"arbeidstaker":"` + other + `"}]`)), ResponseHash: "ab"}
	e, err := NewEntry(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{mine, other, named} {
		if strings.Contains(string(e.Canonical), id) {
			t.Fatalf("identity %s… in the leaf's record: %s", id[:4], e.Canonical)
		}
	}
	if strings.Contains(string(e.Canonical), "responseDeflate") || !strings.Contains(string(e.Canonical), `"910000001"`) {
		t.Fatalf("kept response in the leaf, or an organisation number sealed: %s", e.Canonical)
	}
	if len(e.Subjects) != 3 || string(e.Response) != string(rec.Response) {
		t.Fatalf("subjects %d, response kept beside: %v", len(e.Subjects), e.Response != nil)
	}
	var mySalt, otherSalt []byte
	for _, s := range e.Subjects {
		switch s.Ident {
		case mine:
			mySalt = s.Salt
		case other:
			otherSalt = s.Salt
		}
	}
	// The receipt: one leaf, so an empty inclusion proof under a checkpoint of size 1.
	skey, vkey, _ := NewKey("test.deling/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	signed, _ := Checkpoint{Origin: "test.deling/log", Size: 1, Root: e.LeafHash}.Sign(s)
	rc := Receipt{Record: e.Canonical, Salt: e.Salt, Index: 0, Proof: TLogProof(0, nil, signed), Subject: &SubjectOpening{Ident: mine, Salt: mySalt}}
	if _, err := VerifyReceipt(rc, v); err != nil {
		t.Fatalf("my receipt: %v", err)
	}
	if a, _ := AppearanceOf(rc.Record, mine, mySalt); !a.Returned || !a.Named {
		t.Fatalf("my appearance: %+v", a)
	}
	// My salt opens no one else: not the other person returned, not the one named.
	for _, id := range []string{other, named} {
		bad := rc
		bad.Subject = &SubjectOpening{Ident: id, Salt: mySalt}
		if _, err := VerifyReceipt(bad, v); err == nil {
			t.Fatalf("my salt opened %s…", id[:4])
		}
	}
	if a, _ := AppearanceOf(rc.Record, other, otherSalt); !a.Returned || a.Named {
		t.Fatalf("the other's appearance with their own salt: %+v", a)
	}
	// An independent verifier: SHA-256(0x00 ‖ salt ‖ record) is the leaf, and
	// base64(SHA-256(subject salt ‖ identity)) is among returnedCommitments.
	if got := rfc6962.DefaultHasher.HashLeaf(append(append([]byte{}, rc.Salt...), rc.Record...)); string(got) != string(e.LeafHash) {
		t.Fatal("leaf hash is not SHA-256(0x00 ‖ salt ‖ record)")
	}
	var leafRec struct {
		V           int      `json:"v"`
		Commitments []string `json:"returnedCommitments"`
	}
	json.Unmarshal(rc.Record, &leafRec)
	if leafRec.V != 2 || !slices.Contains(leafRec.Commitments, Commitment(mySalt, mine)) || !slices.IsSorted(leafRec.Commitments) {
		t.Fatalf("leaf record: %+v", leafRec)
	}
	// Opened with the subjects kept beside it, the record is whole again.
	opened, err := Open(e.Canonical, e.Response, e.Subjects)
	if err != nil || !slices.Equal(opened.Returned, []string{mine, other}) || string(opened.Request) != string(rec.Request) || string(opened.Response) != string(rec.Response) {
		t.Fatalf("opened: %+v %v", opened, err)
	}
	// Opened with only my subject, the others stay commitments.
	opened, _ = Open(e.Canonical, nil, []Subject{{Ident: mine, Salt: mySalt}})
	if !slices.Equal(opened.Returned, []string{mine}) || strings.Contains(string(opened.Request), named) {
		t.Fatalf("opened with my salt only: %+v", opened)
	}
}

// A version-1 record (identities in the clear, no subject salt) still
// verifies; NamesOthers tells the receipts that would disclose others.
func TestVersion1ReceiptsStillVerify(t *testing.T) {
	canonical := []byte(`{"v":1,"id":"x","time":"2026-01-01T00:00:00Z","kind":"lookup","consumer":"310000001","decision":"permit","returned":["01010100003","02020200005"],"resultCount":2}`)
	salt := make([]byte, SaltSize)
	leaf := LeafHash(salt, canonical)
	skey, vkey, _ := NewKey("test.deling/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	signed, _ := Checkpoint{Origin: "test.deling/log", Size: 1, Root: leaf}.Sign(s)
	rc := Receipt{Record: canonical, Salt: salt, Proof: TLogProof(0, nil, signed), Subject: &SubjectOpening{Ident: "01010100003"}}
	if _, err := VerifyReceipt(rc, v); err != nil {
		t.Fatalf("v1 receipt: %v", err)
	}
	if !NamesOthers(canonical, "01010100003") {
		t.Fatal("a v1 record with another person returned is not flagged")
	}
	only := []byte(`{"v":1,"kind":"lookup","returned":["01010100003"],"request":{"arbeidstakerId":"01010100003"}}`)
	if NamesOthers(only, "01010100003") {
		t.Fatal("a v1 record naming only the person is flagged")
	}
}
