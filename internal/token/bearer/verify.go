package bearer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"deling/internal/token"
)

// ExternalIssuer is another authorisation server whose tokens we accept,
// such as Maskinporten (issuer "https://maskinporten.no/", JWKS
// "https://maskinporten.no/jwk").
type ExternalIssuer struct {
	Issuer  string // the exact "iss" of its tokens
	JWKSURL string
	// Audience, when set, must be among the token's "aud" (Maskinporten
	// sets aud when the client asks with "resource").
	Audience string
}

// Config configures a [Verifier].
type Config struct {
	Keys     *token.KeySet // our own keys; tokens with iss == Issuer are checked against them
	Issuer   string
	External []ExternalIssuer
	Now      func() time.Time // default time.Now
	// CacheSize bounds the cache of verified tokens; 0 means 10 000,
	// negative turns the cache off.
	CacheSize int
	// HTTPClient fetches external JWKS; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// verifyLeeway is the tolerance for clocks in exp, iat and nbf.
const verifyLeeway = 10 * time.Second

// maxAccessToken bounds the tokens Verify looks at.
const maxAccessToken = 16 << 10

// verifyAlgs are the algorithms access tokens may be signed with. Ours are
// RS256; external issuers' keys pin theirs through the JWK "alg".
var verifyAlgs = []string{"RS256", "RS384", "RS512", "ES256"}

// Verifier checks access tokens on every API request: ours, signed by the
// [token.KeySet], and those of the configured external issuers. Successful checks
// are cached until the token expires, so a token used again costs about a
// microsecond. It is safe for concurrent use.
type Verifier struct {
	keys     *token.KeySet
	issuer   string
	external map[string]externalIssuer
	now      func() time.Time
	parser   *jwt.Parser
	cache    *cache // nil when off
}

type externalIssuer struct {
	ExternalIssuer
	kf keyfunc.Keyfunc
}

// NewVerifier makes a Verifier. ctx owns the goroutines that refresh
// external JWKS (hourly, and on an unknown kid at most every 5 minutes);
// cancel it to stop them. An external JWKS that cannot be fetched now is
// retried later rather than failing NewVerifier.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Keys == nil && len(cfg.External) == 0 {
		return nil, errors.New("token verifier: no Keys and no External issuers")
	}
	if cfg.Keys != nil && cfg.Issuer == "" {
		return nil, errors.New("token verifier: Issuer is required with Keys")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	v := &Verifier{
		keys:     cfg.Keys,
		issuer:   cfg.Issuer,
		external: make(map[string]externalIssuer, len(cfg.External)),
		now:      cfg.Now,
		parser: jwt.NewParser(jwt.WithValidMethods(verifyAlgs), jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(), jwt.WithLeeway(verifyLeeway), jwt.WithTimeFunc(cfg.Now), jwt.WithStrictDecoding()),
	}
	seen := map[string]bool{}
	for _, e := range cfg.External {
		switch {
		case e.Issuer == "" || e.JWKSURL == "":
			return nil, errors.New("token verifier: an external issuer needs Issuer and JWKSURL")
		case cfg.Keys != nil && e.Issuer == cfg.Issuer:
			return nil, fmt.Errorf("token verifier: external issuer %s is our own issuer", e.Issuer)
		case seen[e.Issuer]:
			return nil, fmt.Errorf("token verifier: external issuer %s given twice", e.Issuer)
		}
		seen[e.Issuer] = true
	}
	for _, e := range cfg.External {
		// One key set per issuer, so that one issuer's keys never verify
		// tokens naming another.
		// RateLimitWaitMax also bounds the refresh an unknown kid triggers:
		// a request never waits long for the rate limiter or the fetch.
		kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{e.JWKSURL}, keyfunc.Override{
			Client: hc, RateLimitWaitMax: 2 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("token verifier: JWKS of %s: %w", e.Issuer, err)
		}
		v.external[e.Issuer] = externalIssuer{ExternalIssuer: e, kf: kf}
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newCache(10_000)
	case cfg.CacheSize > 0:
		v.cache = newCache(cfg.CacheSize)
	}
	return v, nil
}

// maxCacheTTL bounds how long a verification is reused, whatever the
// token's exp, so that a key an external issuer withdraws stops working.
const maxCacheTTL = 5 * time.Minute

// Verify checks an access token and returns its claims. Any failure is an
// error wrapping [token.ErrInvalidToken] whose message is safe to return to the
// caller (it never contains the token).
func (v *Verifier) Verify(raw string) (token.Claims, error) {
	if len(raw) == 0 || len(raw) > maxAccessToken {
		return token.Claims{}, invalid("malformed token")
	}
	now := v.now()
	var key [sha256.Size]byte
	if v.cache != nil {
		key = sha256Key(raw)
		if e, ok := v.cache.get(key); ok {
			// An entry is used only before it expires and, for our own
			// tokens, while the signing key is still published.
			if now.Before(e.until) && (e.kid == "" || v.ownKeyPublished(e.kid)) {
				c := e.claims
				c.Scopes = slices.Clone(c.Scopes)
				return c, nil
			}
			v.cache.remove(key)
		}
	}
	c, kid, err := v.verify(raw)
	if err != nil {
		return token.Claims{}, err
	}
	if v.cache != nil {
		until := c.Expiry.Add(verifyLeeway)
		if limit := now.Add(maxCacheTTL); until.After(limit) {
			until = limit
		}
		v.cache.put(key, cacheEntry{claims: c, kid: kid, until: until}, now)
		c.Scopes = slices.Clone(c.Scopes)
	}
	return c, nil
}

func (v *Verifier) ownKeyPublished(kid string) bool {
	if v.keys == nil {
		return false
	}
	_, ok := v.keys.VerificationKey(kid)
	return ok
}

// verify does the full check. kid is set for our own tokens.
func (v *Verifier) verify(raw string) (token.Claims, string, error) {
	var ac token.AccessClaims
	var ownKID string
	var ext *externalIssuer
	var keyErr error
	_, err := v.parser.ParseWithClaims(raw, &ac, func(t *jwt.Token) (any, error) {
		switch iss := ac.Issuer; {
		case v.keys != nil && iss == v.issuer:
			kid, _ := t.Header["kid"].(string)
			pub, ok := v.keys.VerificationKey(kid)
			if !ok {
				keyErr = invalid("signed with an unknown key")
				return nil, keyErr
			}
			if t.Method.Alg() != "RS256" {
				keyErr = invalid("alg does not fit the key")
				return nil, keyErr
			}
			ownKID = kid
			return pub, nil
		default:
			e, ok := v.external[iss]
			if !ok {
				keyErr = invalid("issuer is not trusted")
				return nil, keyErr
			}
			ext = &e
			key, err := e.kf.Keyfunc(t)
			if err != nil {
				keyErr = invalid("signed with an unknown key")
				return nil, keyErr
			}
			return key, nil
		}
	})
	switch {
	case keyErr != nil:
		return token.Claims{}, "", keyErr
	case errors.Is(err, jwt.ErrTokenExpired):
		return token.Claims{}, "", invalid("token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return token.Claims{}, "", invalid("token is not valid yet")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return token.Claims{}, "", invalid("token has no exp")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return token.Claims{}, "", invalid("signature or alg is not valid")
	case err != nil:
		return token.Claims{}, "", invalid("malformed token")
	}
	if ext != nil && ext.Audience != "" && !slices.Contains(ac.Audience, ext.Audience) {
		return token.Claims{}, "", invalid("token is not for this audience")
	}
	consumer, ok := ac.Consumer.Orgnr()
	if !ok {
		return token.Claims{}, "", invalid("token has no valid consumer claim")
	}
	var supplier string
	if ac.Supplier != nil {
		if supplier, ok = ac.Supplier.Orgnr(); !ok {
			return token.Claims{}, "", invalid("token has an invalid supplier claim")
		}
	}
	return token.Claims{
		Issuer:   ac.Issuer,
		ClientID: ac.ClientID,
		JTI:      ac.ID,
		Scopes:   strings.Fields(ac.Scope),
		Consumer: consumer,
		Supplier: supplier,
		Expiry:   ac.ExpiresAt.Time,
	}, ownKID, nil
}

func invalid(reason string) error { return fmt.Errorf("%w: %s", token.ErrInvalidToken, reason) }
