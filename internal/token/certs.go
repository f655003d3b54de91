package token

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// ErrPrivateKey is PEM text that holds a private key: a client registers
// only the public part, and the private key never reaches the register.
var ErrPrivateKey = errors.New("the PEM text holds a private key")

// ParseCertificates reads PEM text of enterprise certificates, the client's
// own (the leaf, the one its assertions' x5c must start with) first. Text
// that holds a private key anywhere — in any block, also one following a
// certificate or "EC PARAMETERS" — is ErrPrivateKey; a block of another
// kind, or none, is an error. pemText is the certificates re-encoded and
// nothing else, for storing.
func ParseCertificates(text []byte) (certs []*x509.Certificate, pemText []byte, err error) {
	if bytes.Contains(text, []byte("PRIVATE KEY")) {
		return nil, nil, ErrPrivateKey // even in a block pem.Decode cannot read
	}
	var out bytes.Buffer
	rest := text
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("a PEM block of type %q, want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, c)
		if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes}); err != nil {
			return nil, nil, err
		}
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("no PEM CERTIFICATE block")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, nil, errors.New("text after the last PEM block")
	}
	return certs, out.Bytes(), nil
}

// Reasons CheckCertificate refuses a client's certificate.
var (
	ErrCertificateKey     = errors.New("the certificate's key must be RSA of at least 2048 bits with a public exponent of at least 65537, or EC P-256")
	ErrCertificateExpired = errors.New("the certificate is expired or not yet valid")
	ErrCertificateOrgnr   = errors.New("the certificate's subject does not carry the organisation number")
)

// CheckCertificate checks an enterprise certificate a client of orgnr
// registers or presents: a key assertions may be signed with, valid at now,
// issued to orgnr.
func CheckCertificate(cert *x509.Certificate, orgnr string, now time.Time) error {
	switch {
	case CheckKey(cert.PublicKey) != nil:
		return ErrCertificateKey
	case now.Before(cert.NotBefore) || now.After(cert.NotAfter):
		return ErrCertificateExpired
	case !CertCarriesOrgnr(cert, orgnr):
		return ErrCertificateOrgnr
	}
	return nil
}

var (
	oidSerialNumber           = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
)

// CertCarriesOrgnr reports whether a Norwegian enterprise certificate is
// issued to orgnr: SEID 1 puts the 9 digits in the subject's serialNumber,
// SEID 2 "NTRNO-<orgnr>" in organizationIdentifier. Either form is accepted
// in either attribute.
func CertCarriesOrgnr(cert *x509.Certificate, orgnr string) bool {
	if !IsOrgnr(orgnr) {
		return false
	}
	for _, n := range cert.Subject.Names {
		if !n.Type.Equal(oidSerialNumber) && !n.Type.Equal(oidOrganizationIdentifier) {
			continue
		}
		if v, ok := n.Value.(string); ok && (v == orgnr || v == "NTRNO-"+orgnr) {
			return true
		}
	}
	return false
}
