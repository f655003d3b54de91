package dpa

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditReport is an audit report kept with the agreement (Rule DPA-09;
// template § 11.3): the processor's own audits and the controller's, a copy
// to the controller. The file itself is kept by the store; this is its record.
type AuditReport struct {
	ID          string
	AgreementID string
	Title       string
	Name        string   // the file name as uploaded, cleaned
	Type        FileType //
	Size        int64
	SHA256      string // of the file's bytes
	UploadedBy  string // actor
	UploadedAt  time.Time
}

// FileType is a kind of file an audit report may be.
type FileType string

// The allowed file types.
const (
	FilePDF  FileType = "application/pdf"
	FileDOCX FileType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	FileXLSX FileType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	FileODT  FileType = "application/vnd.oasis.opendocument.text"
	FileText FileType = "text/plain; charset=utf-8"
)

// MaxAuditFileSize is the largest audit report accepted: 20 MiB.
const MaxAuditFileSize = 20 << 20

// The most an agreement keeps of audit reports: files, and bytes in all (Rule DPA-09).
const (
	MaxAuditFiles      = 50
	MaxAuditTotalBytes = 100 << 20
)

// fileTypes is the allow-list: by extension, the type and how its bytes begin.
var fileTypes = map[string]struct {
	Type  FileType
	Magic []byte // nil: text, checked as UTF-8
}{
	".pdf":  {FilePDF, []byte("%PDF-")},
	".docx": {FileDOCX, []byte("PK\x03\x04")},
	".xlsx": {FileXLSX, []byte("PK\x03\x04")},
	".odt":  {FileODT, []byte("PK\x03\x04")},
	".txt":  {FileText, nil},
}

// Field names of the upload form.
const (
	FieldFile      = "fil"
	FieldFileTitle = "tittel"
)

// CheckAuditFile checks an upload before it is stored: a file name without
// a path, one of the allowed types by its extension and by how its bytes
// begin (head: at least its first 512 bytes, or all of a shorter file),
// not empty and not over MaxAuditFileSize (Rule DPA-09). It returns the
// cleaned name and the type, or the messages by form field, in Norwegian.
func CheckAuditFile(name string, head []byte, size int64) (string, FileType, map[string]string) {
	bad := map[string]string{}
	base := path.Base(strings.ReplaceAll(strings.TrimSpace(name), "\\", "/"))
	switch {
	case base == "" || base == "." || base == "/":
		bad[FieldFile] = "Velg en fil å laste opp."
		return "", "", bad
	case !utf8.ValidString(base) || strings.ContainsAny(base, "\x00\r\n") || tooLong(base, 200):
		bad[FieldFile] = "Filnavnet er ugyldig eller for langt (høyst 200 tegn)."
		return "", "", bad
	}
	ft, ok := fileTypes[strings.ToLower(path.Ext(base))]
	switch {
	case !ok:
		bad[FieldFile] = "Filtypen er ikke tillatt. Last opp PDF, DOCX, XLSX, ODT eller TXT."
	case size <= 0:
		bad[FieldFile] = "Filen er tom."
	case size > MaxAuditFileSize:
		bad[FieldFile] = fmt.Sprintf("Filen er for stor (høyst %d MiB).", MaxAuditFileSize>>20)
	case ft.Magic != nil && !bytes.HasPrefix(head, ft.Magic):
		bad[FieldFile] = "Innholdet i filen stemmer ikke med filtypen."
	case ft.Magic == nil && (!utf8.Valid(trimPartialRune(head, size)) || bytes.IndexByte(head, 0) >= 0):
		bad[FieldFile] = "Innholdet i filen stemmer ikke med filtypen."
	}
	if len(bad) > 0 {
		return "", "", bad
	}
	return base, ft.Type, bad
}

// trimPartialRune drops an incomplete UTF-8 sequence cut off at the end of
// head when head is only the start of a longer file.
func trimPartialRune(head []byte, size int64) []byte {
	if int64(len(head)) >= size {
		return head
	}
	for i := 0; i < utf8.UTFMax && len(head) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(head); r != utf8.RuneError {
			break
		}
		head = head[:len(head)-1]
	}
	return head
}

// ValidateTitle says what is wrong with an audit report's title, by form field.
func ValidateTitle(title string) map[string]string {
	bad := reasonCheck(FieldFileTitle, title, "Gi rapporten en tittel, for eksempel «Revisjon av tilgangsstyring 2025».")
	if len(bad) == 0 && tooLong(strings.TrimSpace(title), maxShort) {
		bad[FieldFileTitle] = tooLongMsg(maxShort)
	}
	return bad
}

// CheckAuditContent checks the whole of a file CheckAuditFile accepted as
// type ft (Rule DPA-09): a text file is UTF-8 without NUL to its end; a
// DOCX or XLSX is a ZIP archive with [Content_Types].xml and its main part;
// an ODT is a ZIP archive whose mimetype entry names the type. It returns
// the messages by form field, in Norwegian.
func CheckAuditContent(ft FileType, data []byte) map[string]string {
	bad := map[string]string{}
	ok := true
	switch ft {
	case FileText:
		ok = utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
	case FileDOCX:
		ok = zipHas(data, "[Content_Types].xml", "word/document.xml")
	case FileXLSX:
		ok = zipHas(data, "[Content_Types].xml", "xl/workbook.xml")
	case FileODT:
		ok = zipMimetype(data) == string(FileODT)
	}
	if !ok {
		bad[FieldFile] = "Innholdet i filen stemmer ikke med filtypen."
	}
	return bad
}

// zipHas reports whether data is a ZIP archive with every one of names.
func zipHas(data []byte, names ...string) bool {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	have := map[string]bool{}
	for _, f := range z.File {
		have[f.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			return false
		}
	}
	return true
}

// zipMimetype is the content of an OpenDocument archive's mimetype entry,
// which comes first; "" when data is no such archive.
func zipMimetype(data []byte) string {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(z.File) == 0 || z.File[0].Name != "mimetype" {
		return ""
	}
	rc, err := z.File[0].Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 100))
	if err != nil {
		return ""
	}
	return string(b)
}

// CheckAuditQuota says whether an agreement that keeps files audit reports
// of total bytes may take one more of size bytes (Rule DPA-09), by form field.
func CheckAuditQuota(files int, total, size int64) map[string]string {
	bad := map[string]string{}
	switch {
	case files >= MaxAuditFiles:
		bad[FieldFile] = fmt.Sprintf("Avtalen har allerede %d revisjonsrapporter, som er det meste som kan lagres.", MaxAuditFiles)
	case total+size > MaxAuditTotalBytes:
		bad[FieldFile] = fmt.Sprintf("Revisjonsrapportene til avtalen kan til sammen være høyst %d MiB.", MaxAuditTotalBytes>>20)
	}
	return bad
}
