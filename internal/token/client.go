package token

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Client is a registered API client of an organisation. The register
// authorises the organisation, not its internal systems (Rule SK-03): the
// client only proves which organisation asks.
type Client struct {
	ID           string              // client_id, the "iss" of its assertions
	Orgnr        string              // the organisation the client belongs to
	Keys         []PublicKey         // registered public keys, for "kid" assertions
	Certificates []*x509.Certificate // registered enterprise certificates (virksomhetssertifikat), for "x5c" assertions
	Active       bool
}

// ClientFile is what a consumer keeps to get tokens, written by
// `deling client add` and the demo. It holds a private key: keep it
// readable by its owner only.
type ClientFile struct {
	ClientID      string `json:"client_id"`
	KID           string `json:"kid"`
	PrivateKeyPEM string `json:"private_key_pem"` // PKCS#8
	TokenEndpoint string `json:"token_endpoint"`
	Audience      string `json:"audience"` // the issuer identifier
	Scope         string `json:"scope"`    // space-separated
	ConsumerOrg   string `json:"consumer_org,omitempty"`
	// Certificate, when set, is the enterprise certificate (and any chain
	// after it) sent as x5c instead of the kid.
	Certificate string `json:"certificate_pem,omitempty"`
}

// LoadClientFile reads and checks a client file.
func LoadClientFile(path string) (ClientFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ClientFile{}, fmt.Errorf("client file: %w", err)
	}
	var c ClientFile
	if err := json.Unmarshal(b, &c); err != nil {
		return ClientFile{}, fmt.Errorf("client file %s: %w", path, err)
	}
	if err := c.check(); err != nil {
		return ClientFile{}, fmt.Errorf("client file %s: %w", path, err)
	}
	return c, nil
}

// Write saves the client file with mode 0600, as it holds a private key.
func (c ClientFile) Write(path string) error {
	if err := c.check(); err != nil {
		return fmt.Errorf("client file: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("client file: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("client file: %w", err)
	}
	return nil
}

func (c ClientFile) check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"client_id", c.ClientID}, {"private_key_pem", c.PrivateKeyPEM}, {"token_endpoint", c.TokenEndpoint},
		{"audience", c.Audience}, {"scope", c.Scope},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if c.KID == "" && c.Certificate == "" {
		missing = append(missing, "kid or certificate_pem")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if _, err := parsePrivateKey(c.PrivateKeyPEM); err != nil {
		return err
	}
	return nil
}

// assertionLifetime is exp − iat of the assertions a ClientFile makes.
const assertionLifetime = 120 * time.Second

// Assertion makes a JWT-bearer grant assertion, as a Maskinporten client
// does: iat now, exp 120 s later, a random jti, signed RS256 or ES256
// according to the key, naming the key by kid or sending the certificate
// as x5c.
func (c ClientFile) Assertion(now time.Time) (string, error) {
	key, err := parsePrivateKey(c.PrivateKeyPEM)
	if err != nil {
		return "", err
	}
	var method jwt.SigningMethod = jwt.SigningMethodRS256
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		method = jwt.SigningMethodES256
	}
	claims := jwt.MapClaims{
		"aud":   c.Audience,
		"iss":   c.ClientID,
		"iat":   now.Unix(),
		"exp":   now.Add(assertionLifetime).Unix(),
		"jti":   rand.Text(),
		"scope": c.Scope,
	}
	if c.ConsumerOrg != "" {
		claims["consumer_org"] = c.ConsumerOrg
	}
	t := jwt.NewWithClaims(method, claims)
	if c.Certificate != "" {
		x5c, err := x5cFromPEM(c.Certificate)
		if err != nil {
			return "", err
		}
		t.Header["x5c"] = x5c
	} else {
		t.Header["kid"] = c.KID
	}
	return t.SignedString(key)
}

// x5cFromPEM turns PEM certificates, leaf first, into an x5c header value
// (RFC 7515 §4.1.6: base64, not base64url, DER).
func x5cFromPEM(s string) ([]string, error) {
	var out []string
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, base64.StdEncoding.EncodeToString(b.Bytes))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("certificate_pem: no CERTIFICATE block")
	}
	return out, nil
}
