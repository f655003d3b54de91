package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

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

// OAuthError is a refusal from a token endpoint (RFC 6749 §5.2).
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("token endpoint: %s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("token endpoint: %s: %s (HTTP %d)", e.Code, e.Description, e.Status)
}

// RequestToken gets an access token from TokenEndpoint with a fresh
// assertion. A refusal is an [*OAuthError]. hc nil means a client with a
// 30 s timeout.
func (c ClientFile) RequestToken(ctx context.Context, hc *http.Client) (accessToken string, err error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	a, err := c.Assertion(time.Now())
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {a}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		oe := &OAuthError{Status: resp.StatusCode}
		if json.Unmarshal(body, oe) != nil || oe.Code == "" {
			return "", fmt.Errorf("token endpoint: %s", resp.Status)
		}
		return "", oe
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", errors.New("token response: no bearer access_token")
	}
	return tr.AccessToken, nil
}
