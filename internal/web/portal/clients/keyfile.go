package clients

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"deling/internal/token"
)

// A client's public key may be uploaded as a file as well as pasted (issue
// 16, item 5): a JWK, a JWKS holding one key, a PEM certificate, or a PEM
// public key (made into a JWK whose kid is its RFC 7638 thumbprint).

// maxKeyFile bounds an uploaded key or certificate file, as a pasted one (maxKey).
const maxKeyFile = maxKey

// maxUpload bounds the whole form with its file: the file, the other fields and multipart's framing.
const maxUpload = maxKeyFile + 16<<10

// Messages for files that are not what the form takes.
const (
	fileTooLarge   = "Filen er for stor. En nøkkel- eller sertifikatfil er på høyst 32 KiB."
	fileEmpty      = "Filen er tom."
	fileUnknown    = "Filen er verken en offentlig nøkkel (JWK eller PEM) eller et virksomhetssertifikat (PEM). Last opp en .jwk-, .json- eller .pem-fil."
	filePrivate    = "Filen inneholder en privat nøkkel. Last opp bare den offentlige delen; den private nøkkelen skal aldri forlate virksomheten."
	fileBadJWK     = "Filen er ikke en gyldig offentlig nøkkel (JWK). Nøkkelen må ha kid og være RSA på minst 2048 bit eller EC P-256."
	fileBadPEMKey  = "Den offentlige nøkkelen i filen kan ikke brukes. Den må være RSA på minst 2048 bit eller EC P-256."
	fileUnreadable = "Filen kunne ikke leses. Prøv igjen."
)

// keyFile reads an uploaded key file: the kind of key (kindJWK or
// kindCertificate) and the text the form takes for it, or a message for
// the person who uploaded it. kid is the key id given to a PEM public key
// (the client signs with it), else "".
func keyFile(b []byte) (kind, material, kid, msg string) {
	if len(b) > maxKeyFile {
		return "", "", "", fileTooLarge
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))) // a byte-order mark from some editors
	switch {
	case len(b) == 0:
		return "", "", "", fileEmpty
	case b[0] == '{':
		return jwkFile(b)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		return "", "", "", filePrivate // in any block, not only the first
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", "", "", fileUnknown
	}
	var pub crypto.PublicKey
	var err error
	switch {
	case block.Type == "CERTIFICATE":
		_, text, err := token.ParseCertificates(b)
		if errors.Is(err, token.ErrPrivateKey) {
			return "", "", "", filePrivate
		} else if err != nil {
			return "", "", "", notCertificate
		}
		return kindCertificate, string(text), "", ""
	case block.Type == "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return "", "", "", fileUnknown
	}
	if err != nil || token.CheckKey(pub) != nil {
		return "", "", "", fileBadPEMKey
	}
	if kid, err = token.Thumbprint(pub); err != nil {
		return "", "", "", fileBadPEMKey
	}
	j, err := token.PublicKey{KID: kid, Key: pub}.JWK()
	if err != nil {
		return "", "", "", fileBadPEMKey
	}
	return kindJWK, string(j), kid, ""
}

// jwkFile reads a JWK, or a JWKS with exactly one key.
func jwkFile(b []byte) (kind, material, kid, msg string) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return "", "", "", fileBadJWK
	}
	if set.Keys != nil {
		if len(set.Keys) != 1 {
			return "", "", "", fmt.Sprintf("Filen er et nøkkelsett (JWKS) med %d nøkler. Last opp et sett med én nøkkel, den klienten signerer med.", len(set.Keys))
		}
		b = set.Keys[0]
	}
	if _, err := token.ParsePublicJWK(b); err != nil {
		if strings.Contains(err.Error(), "private member") {
			return "", "", "", filePrivate
		}
		return "", "", "", fileBadJWK
	}
	return kindJWK, string(b), "", ""
}

// readUpload reads the key form posted as multipart (with its file field
// "fil"), at most maxUpload bytes; the file, when one was chosen, takes the
// place of a pasted key. A message for the file goes to f.Bad["fil"].
func readUpload(w http.ResponseWriter, r *http.Request) form {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		f := form{Bad: map[string]string{"fil": fileUnreadable}}
		if errors.As(err, new(*http.MaxBytesError)) {
			f.Bad["fil"] = fileTooLarge
		}
		return f
	}
	defer r.MultipartForm.RemoveAll()
	f := readForm(r)
	file, _, err := r.FormFile("fil")
	if errors.Is(err, http.ErrMissingFile) {
		return f // no file chosen (a browser sends a part without a file name): the pasted key
	} else if err != nil {
		f.Bad["fil"] = fileUnreadable
		return f
	}
	defer file.Close()
	b, err := readFile(file)
	if err != nil {
		f.Bad["fil"] = fileUnreadable
		return f
	}
	if f.Key != "" {
		f.Bad["fil"] = "Last opp en fil eller lim inn nøkkelen, ikke begge."
		return f
	}
	kind, material, kid, msg := keyFile(b)
	if msg != "" {
		f.Bad["fil"] = msg
		return f
	}
	f.Kind, f.Key, f.KID = kind, material, kid
	return f
}

func readFile(file multipart.File) ([]byte, error) {
	return io.ReadAll(io.LimitReader(file, maxKeyFile+1))
}
