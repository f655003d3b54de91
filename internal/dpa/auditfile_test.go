package dpa

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
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

// zipOf is a ZIP archive of the named entries, in order.
func zipOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Rule DPA-09: an office file is checked by its archive, not its first
// four bytes, and a text file to its end.
func TestCheckAuditContent_DPA09(t *testing.T) {
	docx := zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"})
	xlsx := zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"xl/workbook.xml", "<workbook/>"})
	odt := zipOf(t, [2]string{"mimetype", string(FileODT)}, [2]string{"content.xml", "<office/>"})
	jar := zipOf(t, [2]string{"META-INF/MANIFEST.MF", "Main-Class: x"})
	long := append(bytes.Repeat([]byte("a"), 600), 0)
	for _, c := range []struct {
		name string
		ft   FileType
		data []byte
		ok   bool
	}{
		{"docx", FileDOCX, docx, true},
		{"xlsx", FileXLSX, xlsx, true},
		{"odt", FileODT, odt, true},
		{"a jar as docx", FileDOCX, jar, false},
		{"a docx as xlsx", FileXLSX, docx, false},
		{"a jar as odt", FileODT, jar, false},
		{"only the ZIP magic", FileDOCX, []byte("PK\x03\x04rest"), false},
		{"text", FileText, []byte("Revisjon – funn og tiltak.\n"), true},
		{"NUL after 512 bytes", FileText, long, false},
		{"bad UTF-8 after 512 bytes", FileText, append(bytes.Repeat([]byte("a"), 600), 0xff), false},
	} {
		if bad := CheckAuditContent(c.ft, c.data); (len(bad) == 0) != c.ok {
			t.Errorf("%s: %v", c.name, bad)
		}
	}
}

// Rule DPA-09: an agreement keeps at most MaxAuditFiles reports and MaxAuditTotalBytes in all.
func TestCheckAuditQuota_DPA09(t *testing.T) {
	if bad := CheckAuditQuota(MaxAuditFiles-1, MaxAuditTotalBytes-10, 10); len(bad) != 0 {
		t.Errorf("within the quota: %v", bad)
	}
	if bad := CheckAuditQuota(MaxAuditFiles, 0, 1); len(bad) == 0 {
		t.Error("one file too many accepted")
	}
	if bad := CheckAuditQuota(1, MaxAuditTotalBytes-10, 11); len(bad) == 0 {
		t.Error("one byte too many accepted")
	}
}

// Rule DPA-09: whatever the bytes, CheckAuditContent never panics, and
// text it accepts is UTF-8 without NUL.
func FuzzCheckAuditContent(f *testing.F) {
	f.Add([]byte("PK\x03\x04rest"))
	f.Add(zipOf(f, [2]string{"mimetype", string(FileODT)}))
	f.Add([]byte("hei \xc3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ft := range []FileType{FileDOCX, FileXLSX, FileODT, FileText} {
			bad := CheckAuditContent(ft, data)
			if ft == FileText && len(bad) == 0 && (!utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0) {
				t.Fatalf("accepted text %q", data)
			}
		}
	})
}
