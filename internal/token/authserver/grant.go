package authserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"deling/internal/token"
)

const grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// assertionAlgs are the algorithms an assertion may be signed with:
// Maskinporten's RS256, RS384 and RS512, and ES256. Never "none" or HS*.
var assertionAlgs = []string{"RS256", "RS384", "RS512", "ES256"}

// assertionClaims are the claims an assertion may carry; Maskinporten
// refuses any other.
var assertionClaims = map[string]bool{
	"aud": true, "iss": true, "iat": true, "exp": true, "nbf": true,
	"jti": true, "scope": true, "consumer_org": true, "resource": true,
}

// maxX5C bounds the certificates in an x5c header.
const maxX5C = 8

// grant is a checked assertion: who asks, for whom, for what.
type grant struct {
	client   token.Client
	amr      string   // how the client authenticated: "private_key_jwt" or "virksomhetssertifikat"
	scopes   []string // requested and allowed
	consumer string   // orgnr the token is for
	asker    string   // orgnr of the client; differs from consumer for a data processor
	jti      string
	exp      time.Time
}

// checkAssertion checks a JWT-bearer assertion completely: structure,
// client and key, signature, claims, delegation, scopes, and finally that
// its jti is fresh. Failures carry an RFC 6749 error code.
func (s *Server) checkAssertion(ctx context.Context, raw string) (grant, *grantError) {
	var g grant
	var keyErr *grantError
	claims := jwt.MapClaims{}
	tok, err := s.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		key, gerr := s.assertionKey(ctx, t, claims, &g)
		if gerr != nil {
			keyErr = gerr
			return nil, gerr
		}
		return key, nil
	})
	switch {
	case keyErr != nil:
		return grant{}, keyErr
	case err != nil && tok != nil && tok.Header != nil && !slices.Contains(assertionAlgs, headerString(tok.Header, "alg")):
		return grant{}, invalidGrant("alg must be one of RS256, RS384, RS512, ES256")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return grant{}, clientAuthFailed("signature does not verify")
	case err != nil:
		return grant{}, invalidGrant("assertion is not a well-formed signed JWT")
	}
	// Signature verified: from here the client is who it says it is.

	if gerr := s.checkClaims(claims, &g); gerr != nil {
		return grant{}, gerr
	}
	allowed, err := s.cfg.Authorizer.Scopes(ctx, g.consumer, g.asker)
	switch {
	case errors.Is(err, token.ErrNotDelegated):
		// Rules AA-13, SK-04: a data processor's access derives from an
		// active delegation by the consumer.
		return grant{}, invalidGrant("consumer_org has not delegated access to the client's organisation")
	case err != nil:
		return grant{}, serverError("authorizer: " + err.Error())
	}
	for _, sc := range g.scopes {
		if !slices.Contains(allowed, sc) {
			return grant{}, invalidScope("scope " + sc + " is not granted to the consumer")
		}
	}
	// Last, so that a refused request does not use up its jti.
	switch err := s.cfg.JTIs.Use(ctx, g.client.ID, g.jti, g.exp.Add(s.cfg.ClockSkew)); {
	case errors.Is(err, token.ErrReplay):
		return grant{}, invalidGrant("jti has been used before; make a new assertion for every request")
	case err != nil:
		return grant{}, serverError("jti store: " + err.Error())
	}
	return g, nil
}

// assertionKey is the jwt.Keyfunc of an assertion: it finds the client
// named by iss and the key it signed with, by kid or by x5c. It runs after
// the alg is known to be allowed and before the signature is checked.
func (s *Server) assertionKey(ctx context.Context, t *jwt.Token, claims jwt.MapClaims, g *grant) (crypto.PublicKey, *grantError) {
	if _, ok := t.Header["crit"]; ok {
		return nil, invalidGrant("crit header parameters are not supported")
	}
	for name := range claims {
		if !assertionClaims[name] {
			return nil, invalidRequest("unknown claim; allowed are aud, iss, iat, exp, nbf, jti, scope, consumer_org, resource")
		}
	}
	_, hasKID := t.Header["kid"]
	_, hasX5C := t.Header["x5c"]
	if hasKID == hasX5C {
		return nil, invalidGrant("header must have exactly one of kid and x5c")
	}
	iss, ok := claims["iss"].(string)
	if !ok || iss == "" {
		return nil, invalidGrant("iss (the client_id) is required")
	}
	c, err := s.cfg.Clients.Client(ctx, iss)
	switch {
	case errors.Is(err, token.ErrUnknownClient):
		return nil, clientAuthFailed("unknown client")
	case err != nil:
		return nil, serverError("client source: " + err.Error())
	case !c.Active:
		return nil, clientAuthFailed("client " + c.ID + " is not active")
	}
	g.client = c
	g.asker = c.Orgnr
	alg := t.Method.Alg()
	if hasKID {
		g.amr = "private_key_jwt"
		kid, _ := t.Header["kid"].(string)
		for _, k := range c.Keys {
			if k.KID != kid || kid == "" {
				continue
			}
			if token.CheckKey(k.Key) != nil || !token.AlgFits(k.Key, alg) || (k.Alg != "" && k.Alg != alg) {
				return nil, clientAuthFailed("alg " + alg + " does not fit key " + kid + " of client " + c.ID)
			}
			return k.Key, nil
		}
		return nil, clientAuthFailed("client " + c.ID + " has no key with the kid")
	}
	g.amr = "virksomhetssertifikat"
	return s.certificateKey(t, c, alg)
}

// certificateKey checks an x5c chain: the leaf must be a certificate
// registered for the client, valid now, chained to a trusted root when
// roots are configured, and issued to the client's organisation.
func (s *Server) certificateKey(t *jwt.Token, c token.Client, alg string) (crypto.PublicKey, *grantError) {
	list, ok := t.Header["x5c"].([]any)
	if !ok || len(list) == 0 || len(list) > maxX5C {
		return nil, invalidGrant("x5c must be an array of 1 to 8 base64 DER certificates")
	}
	chain := make([]*x509.Certificate, 0, len(list))
	for _, v := range list {
		str, ok := v.(string)
		if !ok {
			return nil, invalidGrant("x5c must be an array of 1 to 8 base64 DER certificates")
		}
		der, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, invalidGrant("x5c must be an array of 1 to 8 base64 DER certificates")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, invalidGrant("x5c holds a certificate that does not parse")
		}
		chain = append(chain, cert)
	}
	leaf := chain[0]
	if !slices.ContainsFunc(c.Certificates, func(r *x509.Certificate) bool { return r != nil && bytes.Equal(r.Raw, leaf.Raw) }) {
		return nil, clientAuthFailed("the x5c leaf is not a registered certificate of client " + c.ID)
	}
	now := s.cfg.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, invalidGrant("the x5c certificate is expired or not yet valid")
	}
	if s.cfg.TrustedRoots != nil {
		inter := x509.NewCertPool()
		for _, ic := range chain[1:] {
			inter.AddCert(ic)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots: s.cfg.TrustedRoots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			return nil, invalidGrant("the x5c chain does not verify to a trusted root")
		}
	}
	if !token.CertCarriesOrgnr(leaf, c.Orgnr) {
		return nil, invalidGrant("the x5c certificate's subject does not carry the client's organisation number")
	}
	if token.CheckKey(leaf.PublicKey) != nil {
		return nil, invalidGrant("the x5c certificate's key must be RSA of at least 2048 bits or EC P-256")
	}
	if !token.AlgFits(leaf.PublicKey, alg) {
		return nil, invalidGrant("alg does not fit the x5c certificate's key; want " + token.AlgsFor(leaf.PublicKey))
	}
	return leaf.PublicKey, nil
}

// checkClaims checks the claims of an assertion whose signature verified,
// and fills in g.
func (s *Server) checkClaims(claims jwt.MapClaims, g *grant) *grantError {
	if !s.audienceOK(claims["aud"]) {
		return invalidGrant("aud must be the issuer identifier " + s.cfg.Issuer)
	}
	now, skew := s.cfg.Now(), s.cfg.ClockSkew
	iat, ok := numericDate(claims["iat"])
	if !ok {
		return invalidGrant("iat is required and must be a NumericDate")
	}
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return invalidGrant("exp is required and must be a NumericDate")
	}
	switch {
	case !exp.After(now.Add(-skew)):
		return invalidGrant("the assertion has expired")
	case iat.After(now.Add(skew)):
		return invalidGrant("iat is in the future")
	case !exp.After(iat):
		return invalidGrant("exp must be after iat")
	case exp.Sub(iat) > s.cfg.MaxAssertionAge:
		return invalidGrant(fmt.Sprintf("exp − iat is more than %d s", int64(s.cfg.MaxAssertionAge/time.Second)))
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok {
			return invalidGrant("nbf must be a NumericDate")
		}
		if nbf.After(now.Add(skew)) {
			return invalidGrant("the assertion is not valid yet (nbf)")
		}
	}
	g.exp = exp
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return invalidGrant("jti is required")
	}
	if len(jti) > 256 {
		return invalidGrant("jti is longer than 256 characters")
	}
	g.jti = jti
	scope, _ := claims["scope"].(string)
	scopes, gerr := parseScope(scope)
	if gerr != nil {
		return gerr
	}
	g.scopes = scopes
	g.consumer = g.asker
	if v, present := claims["consumer_org"]; present {
		org, _ := v.(string)
		if !token.IsOrgnr(org) {
			return invalidGrant("consumer_org must be an organisation number of 9 digits")
		}
		// Rules AA-13, SK-04: a data processor asks for the consumer; the
		// authorizer checks the delegation.
		g.consumer = org
	}
	return nil
}

// audienceOK accepts our issuer, with or without a trailing slash, as a
// string or a one-element array.
func (s *Server) audienceOK(v any) bool {
	if list, ok := v.([]any); ok && len(list) == 1 {
		v = list[0]
	}
	aud, ok := v.(string)
	return ok && aud != "" && strings.TrimSuffix(aud, "/") == strings.TrimSuffix(s.cfg.Issuer, "/")
}

// numericDate reads a JSON number of seconds since the epoch.
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// parseScope splits a space-separated scope (RFC 6749 §3.3), dropping
// repeats. Each scope-token is printable ASCII without space, '"' or '\',
// which also makes it safe to name in an error description.
func parseScope(scope string) ([]string, *grantError) {
	var out []string
	for sc := range strings.SplitSeq(scope, " ") {
		if sc == "" {
			continue
		}
		if len(sc) > 200 || strings.ContainsFunc(sc, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
			return nil, invalidScope("scope is malformed (RFC 6749 §3.3)")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, invalidScope("scope is required")
	}
	return out, nil
}

// headerString is a string header parameter, or "".
func headerString(h map[string]any, name string) string {
	s, _ := h[name].(string)
	return s
}
