package token

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// RetiredKeyGrace is how long a retired signing key stays in the JWKS and
// keeps verifying, so that tokens it signed, and JWKS copies cached by
// others, run out before the key disappears. Delete a key from storage only
// after this.
const RetiredKeyGrace = 24 * time.Hour

// signingKeyBits is the size of our RSA signing keys.
const signingKeyBits = 2048

// SigningKey is one of our RSA signing keys, as persisted. Retired is nil
// while the key may sign; from Retired on it no longer signs, and
// [RetiredKeyGrace] later it is no longer published or trusted.
type SigningKey struct {
	KID        string
	PrivatePEM []byte // PKCS#8, PEM type "PRIVATE KEY"
	Created    time.Time
	Retired    *time.Time
}

// NewSigningKey makes a fresh RSA 2048 signing key. Its kid is the RFC 7638
// thumbprint of the public key, so it never collides with another key's.
func NewSigningKey(now time.Time) (SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	kid, err := Thumbprint(&priv.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{
		KID:        kid,
		PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		Created:    now,
	}, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA
// or EC public key: the kid this package gives the keys it makes.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{})
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	m := j.Marshal()
	// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
	var canon []byte
	switch m.KTY {
	case jwkset.KtyRSA:
		canon, err = json.Marshal(struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{m.E, string(m.KTY), m.N})
	case jwkset.KtyEC:
		canon, err = json.Marshal(struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{string(m.CRV), string(m.KTY), m.X, m.Y})
	default:
		return "", fmt.Errorf("thumbprint: unsupported key type %s", m.KTY)
	}
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	sum := sha256.Sum256(canon)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// KeySet holds our signing keys. It signs with the newest key that is not
// retired and publishes, and trusts, every key not retired longer ago than
// [RetiredKeyGrace]. One KeySet is shared by the authorisation
// server, which signs with it, and the bearer-token verifier; rotate with [KeySet.Replace], which is safe to call while both
// are in use.
type KeySet struct {
	now   func() time.Time
	state atomic.Pointer[keyState]
}

type keyState struct {
	keys  []*ourKey // newest first
	byKID map[string]*ourKey
}

type ourKey struct {
	kid     string
	priv    *rsa.PrivateKey
	jwk     jwkset.JWKMarshal // public members only
	created time.Time
	retired time.Time // zero: not retired
}

// signs reports whether the key may sign at now.
func (k *ourKey) signs(now time.Time) bool {
	return k.retired.IsZero() || k.retired.After(now)
}

// published reports whether the key is in the JWKS and verifies at now.
func (k *ourKey) published(now time.Time) bool {
	return k.retired.IsZero() || now.Sub(k.retired) < RetiredKeyGrace
}

// NewKeySet builds a KeySet from persisted keys. now is the clock
// (time.Now when nil). At least one key must be able to sign.
func NewKeySet(keys []SigningKey, now func() time.Time) (*KeySet, error) {
	if now == nil {
		now = time.Now
	}
	ks := &KeySet{now: now}
	if err := ks.Replace(keys); err != nil {
		return nil, err
	}
	return ks, nil
}

// Replace swaps in a new list of keys, e.g. after a rotation job added a key
// and retired the old one. Tokens signed by a key that is no longer
// published stop verifying at once, also those already in a verifier's
// cache. On error the KeySet is unchanged.
func (ks *KeySet) Replace(keys []SigningKey) error {
	st := &keyState{byKID: make(map[string]*ourKey, len(keys))}
	now := ks.now()
	canSign := false
	for _, sk := range keys {
		k, err := parseSigningKey(sk)
		if err != nil {
			return err
		}
		if _, dup := st.byKID[k.kid]; dup {
			return fmt.Errorf("signing keys: kid %s appears twice", k.kid)
		}
		st.byKID[k.kid] = k
		st.keys = append(st.keys, k)
		canSign = canSign || k.signs(now)
	}
	if !canSign {
		return errors.New("signing keys: no key that is not retired; make one with NewSigningKey")
	}
	slices.SortStableFunc(st.keys, func(a, b *ourKey) int { return b.created.Compare(a.created) })
	ks.state.Store(st)
	return nil
}

func parseSigningKey(sk SigningKey) (*ourKey, error) {
	if sk.KID == "" {
		return nil, errors.New("signing key: empty kid")
	}
	block, _ := pem.Decode(sk.PrivatePEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: want a PEM PKCS#8 PRIVATE KEY", sk.KID)
	}
	p, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.KID, err)
	}
	priv, ok := p.(*rsa.PrivateKey)
	if !ok || priv.N.BitLen() < signingKeyBits {
		return nil, fmt.Errorf("signing key %s: want RSA of at least %d bits", sk.KID, signingKeyBits)
	}
	j, err := jwkset.NewJWKFromKey(&priv.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		ALG: jwkset.AlgRS256, KID: sk.KID, USE: jwkset.UseSig,
	}})
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.KID, err)
	}
	k := &ourKey{kid: sk.KID, priv: priv, jwk: j.Marshal(), created: sk.Created}
	if sk.Retired != nil {
		k.retired = *sk.Retired
		if k.retired.IsZero() { // a zero time would read as "not retired"
			k.retired = time.Unix(0, 0)
		}
	}
	return k, nil
}

// JWKS is the public JSON Web Key Set (RFC 7517 §5) of the published keys.
// It holds no private members.
func (ks *KeySet) JWKS() ([]byte, error) {
	st, now := ks.state.Load(), ks.now()
	set := jwkset.JWKSMarshal{Keys: make([]jwkset.JWKMarshal, 0, len(st.keys))}
	for _, k := range st.keys {
		if k.published(now) {
			set.Keys = append(set.Keys, k.jwk)
		}
	}
	return json.Marshal(set)
}

// Sign signs claims RS256 with the current signing key, naming it by kid.
func (ks *KeySet) Sign(claims jwt.Claims) (string, error) {
	st, now := ks.state.Load(), ks.now()
	for _, k := range st.keys {
		if k.signs(now) {
			t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
			t.Header["kid"] = k.kid
			return t.SignedString(k.priv)
		}
	}
	return "", errors.New("signing keys: every key is retired")
}

// VerificationKey is the public key for kid if that key is published now.
func (ks *KeySet) VerificationKey(kid string) (*rsa.PublicKey, bool) {
	k, ok := ks.state.Load().byKID[kid]
	if !ok || !k.published(ks.now()) {
		return nil, false
	}
	return &k.priv.PublicKey, true
}
