package dpa

import (
	"strings"
	"testing"
	"time"
)

// Rule DPA-09: a processor records each authority's request for data, and the controller is told at once.
func TestAuthorityRequest_DPA09(t *testing.T) {
	now := t0
	ok := AuthorityRequest{Authority: "Politiet", ReceivedAt: now.Add(-time.Hour), What: "Arbeidsforhold for én person",
		LegalBasis: "straffeprosessloven § 210"}
	for _, tc := range []struct {
		name  string
		edit  func(r *AuthorityRequest)
		field string
	}{
		{"complete", func(*AuthorityRequest) {}, ""},
		{"who asked", func(r *AuthorityRequest) { r.Authority = " " }, FieldReqAuthority},
		{"when", func(r *AuthorityRequest) { r.ReceivedAt = time.Time{} }, FieldReqReceivedAt},
		{"not in the future", func(r *AuthorityRequest) { r.ReceivedAt = now.Add(time.Minute) }, FieldReqReceivedAt},
		{"what", func(r *AuthorityRequest) { r.What = "" }, FieldReqWhat},
		{"legal basis claimed", func(r *AuthorityRequest) { r.LegalBasis = "" }, FieldReqBasis},
		{"too long", func(r *AuthorityRequest) { r.Authority = strings.Repeat("x", maxShort+1) }, FieldReqAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			bad := r.Validate(now)
			if (tc.field == "" && len(bad) > 0) || (tc.field != "" && (bad[tc.field] == "" || len(bad) != 1)) {
				t.Errorf("got %v, want only %q", bad, tc.field)
			}
		})
	}
	if !ok.NotifyNow() {
		t.Error("the controller is notified at once")
	}
	ok.LawForbidsNotice = true
	if ok.NotifyNow() {
		t.Error("not while the law forbids it")
	}
}

// Rule DPA-09: audit reports kept with the agreement are type-checked and size-limited.
func TestCheckAuditFile_DPA09(t *testing.T) {
	pdf := []byte("%PDF-1.7\n...")
	zip := []byte("PK\x03\x04....")
	for _, tc := range []struct {
		name     string
		file     string
		head     []byte
		size     int64
		wantName string
		wantType FileType
	}{
		{"pdf", "Revisjon 2025.pdf", pdf, 1000, "Revisjon 2025.pdf", FilePDF},
		{"upper-case extension", "RAPPORT.PDF", pdf, 1000, "RAPPORT.PDF", FilePDF},
		{"path stripped", `C:\Users\per\rapport.docx`, zip, 1000, "rapport.docx", FileDOCX},
		{"unix path stripped", "../../etc/rapport.xlsx", zip, 1000, "rapport.xlsx", FileXLSX},
		{"text", "notat.txt", []byte("Revisjon av tilgang – ok"), 26, "notat.txt", FileText},
		{"text cut mid-rune", "notat.txt", []byte("Revisjon av tilgang \xe2\x80"), 5000, "notat.txt", FileText},
		{"exe", "rapport.exe", []byte("MZ"), 1000, "", ""},
		{"html", "rapport.html", []byte("<html>"), 1000, "", ""},
		{"pdf that is not", "rapport.pdf", []byte("<html>"), 1000, "", ""},
		{"docx that is not", "rapport.docx", pdf, 1000, "", ""},
		{"binary text", "notat.txt", []byte("a\x00b"), 3, "", ""},
		{"invalid utf-8 text", "notat.txt", []byte("a\xffb"), 3, "", ""},
		{"empty", "rapport.pdf", nil, 0, "", ""},
		{"too large", "rapport.pdf", pdf, MaxAuditFileSize + 1, "", ""},
		{"at the limit", "rapport.pdf", pdf, MaxAuditFileSize, "rapport.pdf", FilePDF},
		{"no name", "", pdf, 10, "", ""},
		{"newline in name", "a\nb.pdf", pdf, 10, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, typ, bad := CheckAuditFile(tc.file, tc.head, tc.size)
			if name != tc.wantName || typ != tc.wantType || (tc.wantType == "") != (bad[FieldFile] != "") {
				t.Errorf("got %q %q %v, want %q %q", name, typ, bad, tc.wantName, tc.wantType)
			}
		})
	}
	if ValidateTitle("")[FieldFileTitle] == "" || len(ValidateTitle("Revisjon 2025")) != 0 {
		t.Error("title")
	}
}
