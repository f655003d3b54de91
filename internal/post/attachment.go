package post

import "fmt"

// Attachments are uploaded after initialize, one stream each (POST
// /attachment/{id}/upload, application/octet-stream), checked against the
// MD5 checksum the sender gave and the size limit while they are stored.

// CodeChecksumMismatch is Altinn's 2008: the bytes' MD5 is not the checksum given.
const CodeChecksumMismatch = 2008

// DefaultMaxAttachmentBytes is deling's size limit of one attachment: 250 MB,
// eFormidling's DPV upload limit (research §5.1); Altinn's own is higher.
const DefaultMaxAttachmentBytes = 250 << 20

// ChecksumMismatch is the refusal of bytes whose MD5 is not the checksum given.
func ChecksumMismatch() *Problem {
	return problem(CodeChecksumMismatch, "checksum", "The checksum of uploaded file did not match the checksum specified in initialization",
		"Filens sjekksum stemmer ikke med den som ble oppgitt.")
}

// AttachmentTooLarge is the refusal of an attachment over max bytes.
func AttachmentTooLarge(max int64) *Problem {
	p := problem(CodeRequestTooLarge, "", fmt.Sprintf("An attachment is at most %d bytes", max),
		fmt.Sprintf("Et vedlegg kan være høyst %d byte.", max))
	p.Status = 413
	return p
}

// AttachmentNotUploadable is the refusal of an upload to an attachment
// that has its bytes already, or whose correspondence is past Initialized.
func AttachmentNotUploadable() *Problem {
	p := problem(0, "", "The attachment has been uploaded already or its correspondence is no longer open for uploads",
		"Vedlegget er allerede lastet opp.")
	p.Status = 409
	return p
}

// NotFound is Altinn's 1001, also the answer to what a caller may not see.
func NotFound() *Problem { return notFound() }
