package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/MicahParks/jwkset"
)

// minRSABits is the smallest RSA key a client may register or present.
const minRSABits = 2048

// minRSAExponent is the smallest RSA public exponent accepted: smaller ones
// (3, or 1, which makes the "signature" the message) are weak.
const minRSAExponent = 65537

// PublicKey is a public key a client has registered for signing its
// assertions, as it appears in the "kid" header. Alg, when set, is the only
// algorithm the key may be used with; when empty, an RSA key allows RS256,
// RS384 and RS512 and an EC P-256 key ES256.
type PublicKey struct {
	KID string
	Alg string
	Key crypto.PublicKey // *rsa.PublicKey (≥ 2048 bits) or *ecdsa.PublicKey (P-256)
}

// JWK is the key as a public JWK (RFC 7517), the inverse of [ParsePublicJWK]:
// a form to store it in.
func (k PublicKey) JWK() ([]byte, error) {
	if err := CheckKey(k.Key); err != nil {
		return nil, err
	}
	j, err := jwkset.NewJWKFromKey(k.Key, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		ALG: jwkset.ALG(k.Alg), KID: k.KID, USE: jwkset.UseSig,
	}})
	if err != nil {
		return nil, fmt.Errorf("key %s as JWK: %w", k.KID, err)
	}
	return json.Marshal(j.Marshal())
}

// privateMembers are the JWK members that only private or symmetric keys have.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParsePublicJWK reads a client's public key from a JWK, to register it. It
// refuses private keys (a client must never hand us its private key), keys
// without a kid, RSA keys under 2048 bits, EC keys on curves other than P-256,
// and an "alg" or "use" the key cannot serve for signing assertions.
func ParsePublicJWK(b []byte) (PublicKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return PublicKey{}, fmt.Errorf("JWK: not a JSON object: %w", err)
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return PublicKey{}, fmt.Errorf("JWK: has private member %q; register the public key only", m)
		}
	}
	var head struct {
		KID string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return PublicKey{}, fmt.Errorf("JWK: %w", err)
	}
	if head.KID == "" {
		return PublicKey{}, errors.New(`JWK: "kid" is required`)
	}
	if head.Use != "" && head.Use != "sig" {
		return PublicKey{}, fmt.Errorf(`JWK: "use" is %q, want "sig"`, head.Use)
	}
	j, err := jwkset.NewJWKFromRawJSON(b, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return PublicKey{}, fmt.Errorf("JWK: %w", err)
	}
	k := PublicKey{KID: head.KID, Alg: head.Alg, Key: j.Key()}
	if err := CheckKey(k.Key); err != nil {
		return PublicKey{}, err
	}
	if k.Alg != "" && !AlgFits(k.Key, k.Alg) {
		return PublicKey{}, fmt.Errorf("JWK: alg %q does not fit the key; want %s", k.Alg, AlgsFor(k.Key))
	}
	return k, nil
}

// CheckKey accepts the public keys client assertions may be signed with:
// RSA of at least 2048 bits with an odd public exponent of at least 65537,
// or EC P-256.
func CheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		if k.E < minRSAExponent || k.E%2 == 0 {
			return fmt.Errorf("RSA public exponent %d, want an odd one of at least %d", k.E, minRSAExponent)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return errors.New("EC key not on P-256")
		}
		return nil
	default:
		return fmt.Errorf("key type %T not supported, want RSA or EC P-256", pub)
	}
}

// AlgFits reports whether alg may be used with the key's type: RS* only with
// RSA, ES256 only with EC P-256. This pins the algorithm per key and stops
// algorithm confusion.
func AlgFits(pub crypto.PublicKey, alg string) bool {
	switch pub.(type) {
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "RS384" || alg == "RS512"
	case *ecdsa.PublicKey:
		return alg == "ES256"
	}
	return false
}

// AlgsFor names the algorithms that fit the key, for error messages.
func AlgsFor(pub crypto.PublicKey) string {
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		return "ES256"
	}
	return "RS256, RS384 or RS512"
}

// NewClientKey makes a key pair for a client: alg "RS256" gives RSA 2048,
// "ES256" EC P-256. kid is the public key's RFC 7638 thumbprint; publicJWK is
// the public JWK with kid, alg and use "sig", ready for [ParsePublicJWK].
// Store private with [EncodePrivateKey].
func NewClientKey(alg string) (private crypto.Signer, kid string, publicJWK []byte, err error) {
	switch alg {
	case "RS256":
		private, err = rsa.GenerateKey(rand.Reader, minRSABits)
	case "ES256":
		private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, "", nil, fmt.Errorf("client key: alg %q not supported, want RS256 or ES256", alg)
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("client key: %w", err)
	}
	kid, err = Thumbprint(private.Public())
	if err != nil {
		return nil, "", nil, err
	}
	publicJWK, err = PublicKey{KID: kid, Alg: alg, Key: private.Public()}.JWK()
	if err != nil {
		return nil, "", nil, err
	}
	return private, kid, publicJWK, nil
}

// EncodePrivateKey encodes a private key as PEM PKCS#8, the form of
// [ClientFile.PrivateKeyPEM].
func EncodePrivateKey(k crypto.Signer) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// parsePrivateKey reads an RSA or EC P-256 private key from PEM: PKCS#8, or
// the older PKCS#1 and SEC 1 forms that existing Maskinporten clients may hold.
func parsePrivateKey(pemText string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("private key: no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("private key: PEM type %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key: type %T not supported", key)
	}
	if err := CheckKey(s.Public()); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return s, nil
}
