package dpa

import (
	"bytes"
	"strings"
	"testing"
)

// Rule DPA-09: an upload's name and bytes are outside input. Whatever they
// are, CheckAuditFile never panics, and what it accepts has a plain file
// name, an allowed type whose bytes begin as that type's do, and a size
// within the limit.
func FuzzCheckAuditFile(f *testing.F) {
	f.Add("rapport.pdf", []byte("%PDF-1.7\n..."), int64(12))
	f.Add("../../etc/passwd.txt", []byte("root:x:0:0"), int64(10))
	f.Add("revisjon.docx", []byte("PK\x03\x04rest"), int64(8))
	f.Add("notat.txt", []byte("hei \xc3"), int64(100))
	f.Add("C:\\temp\\a.pdf", []byte("MZ"), int64(2))
	f.Fuzz(func(t *testing.T, name string, head []byte, size int64) {
		clean, ft, bad := CheckAuditFile(name, head, size)
		if len(bad) > 0 {
			if clean != "" || ft != "" {
				t.Fatalf("refused but named: %q %q", clean, ft)
			}
			return
		}
		if clean == "" || strings.ContainsAny(clean, "/\\\x00\r\n") {
			t.Fatalf("accepted name %q", clean)
		}
		if size <= 0 || size > MaxAuditFileSize {
			t.Fatalf("accepted size %d", size)
		}
		switch ft {
		case FilePDF:
			if !bytes.HasPrefix(head, []byte("%PDF-")) {
				t.Fatalf("accepted a PDF beginning %q", head)
			}
		case FileDOCX, FileXLSX, FileODT:
			if !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
				t.Fatalf("accepted an office file beginning %q", head)
			}
		case FileText:
			if bytes.IndexByte(head, 0) >= 0 {
				t.Fatal("accepted text with a NUL byte")
			}
		default:
			t.Fatalf("accepted type %q", ft)
		}
	})
}
