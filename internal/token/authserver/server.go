package authserver

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"deling/internal/token"
)

// ClientSource looks up clients. It returns an error wrapping
// [token.ErrUnknownClient] when there is no client with the id.
type ClientSource interface {
	Client(ctx context.Context, id string) (token.Client, error)
}

// JTIStore remembers the jti of every accepted assertion so that none is
// used twice. Use records (clientID, jti) and returns an error wrapping
// [token.ErrReplay] if it was recorded before; the record may be dropped after exp,
// when the assertion can no longer be accepted anyway.
type JTIStore interface {
	Use(ctx context.Context, clientID, jti string, exp time.Time) error
}

// Authorizer says which scopes an organisation may get. asker is the
// client's organisation; consumer is the organisation the token is for:
// the same, unless the client is a data processor asking on a consumer's
// behalf (the "consumer_org" claim). Then an active delegation from
// consumer to asker is required (Rules AA-13, SK-04), otherwise Scopes
// returns an error wrapping [token.ErrNotDelegated]. It returns the scopes the
// consumer's active grants allow.
type Authorizer interface {
	Scopes(ctx context.Context, consumer, asker string) ([]string, error)
}

// Config configures a [Server]. Zero durations take the defaults.
type Config struct {
	// Issuer is our issuer identifier, e.g. "http://localhost:8080/": the
	// "iss" of our tokens and the "aud" assertions must have (with or
	// without a trailing slash). The token endpoint is Issuer + "token" and
	// the JWKS Issuer + "jwks".
	Issuer          string
	TokenLifetime   time.Duration // access-token lifetime; default 120 s
	MaxAssertionAge time.Duration // largest exp − iat of an assertion; default 120 s
	ClockSkew       time.Duration // tolerance for the client's clock; default 10 s
	Now             func() time.Time

	Clients    ClientSource
	JTIs       JTIStore
	Authorizer Authorizer
	Keys       *token.KeySet

	// TrustedRoots, when set, are the roots an x5c chain must verify to.
	// Either way the leaf must be a certificate registered for the client.
	TrustedRoots *x509.CertPool
	// ScopesSupported lists the scopes for the metadata document; optional.
	ScopesSupported func() []string
	// Log receives refused grants with the precise reason (never the
	// assertion) and server errors; optional.
	Log *slog.Logger
}

// Server is the authorisation server: the token endpoint, our JWKS and the
// RFC 8414 metadata. Its handlers are safe for concurrent use.
type Server struct {
	cfg    Config
	parser *jwt.Parser
	log    *slog.Logger
}

// New checks cfg, fills in defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("token server: Issuer is required")
	case cfg.Clients == nil, cfg.JTIs == nil, cfg.Authorizer == nil, cfg.Keys == nil:
		return nil, errors.New("token server: Clients, JTIs, Authorizer and Keys are required")
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 120 * time.Second
	}
	if cfg.MaxAssertionAge <= 0 {
		cfg.MaxAssertionAge = 120 * time.Second
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg: cfg,
		// Claims are checked by hand, after the signature, for precise errors.
		parser: jwt.NewParser(jwt.WithValidMethods(assertionAlgs), jwt.WithJSONNumber(),
			jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding()),
		log: log,
	}, nil
}

// maxTokenRequest bounds the token request body.
const maxTokenRequest = 64 << 10

// tokenResponse is the RFC 6749 §5.1 answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Token handles POST /token: an RFC 7523 JWT-bearer grant, as Maskinporten
// takes it. Refusals are RFC 6749 §5.2 JSON errors.
func (s *Server) Token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, r, &grantError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "use POST"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		s.refuse(w, r, invalidRequest("Content-Type must be application/x-www-form-urlencoded"))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, invalidRequest("the body is not a valid form of at most 64 KiB"))
		return
	}
	form := r.PostForm
	for _, p := range []string{"grant_type", "assertion"} {
		if len(form[p]) > 1 {
			s.refuse(w, r, invalidRequest(p+" is repeated"))
			return
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		s.refuse(w, r, invalidRequest("grant_type is required"))
		return
	case grantTypeJWTBearer:
	default:
		s.refuse(w, r, &grantError{status: 400, code: "unsupported_grant_type", desc: "grant_type must be " + grantTypeJWTBearer})
		return
	}
	assertion := form.Get("assertion")
	if assertion == "" {
		s.refuse(w, r, invalidRequest("assertion is required"))
		return
	}
	g, gerr := s.checkAssertion(r.Context(), assertion)
	if gerr != nil {
		s.refuse(w, r, gerr)
		return
	}
	resp, err := s.issue(g)
	if err != nil {
		s.refuse(w, r, serverError("sign access token: "+err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, "no-store", resp)
}

// refuse writes an OAuth error and logs why.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *grantError) {
	level := slog.LevelInfo
	if e.status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "token request refused", "error", e.code, "description", e.desc, "detail", e.detail)
	writeJSON(w, e.status, "no-store", struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{e.code, e.desc})
}

// issue makes the access token for a checked grant.
func (s *Server) issue(g grant) (tokenResponse, error) {
	now := s.cfg.Now()
	scope := strings.Join(g.scopes, " ")
	c := token.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.TokenLifetime)),
			ID:        rand.Text(),
		},
		ClientID:  g.client.ID,
		Scope:     scope,
		Consumer:  token.NewOrgID(g.consumer),
		ClientAMR: g.amr,
	}
	if g.consumer != g.asker {
		c.Supplier = token.NewOrgID(g.asker)
	}
	raw, err := s.cfg.Keys.Sign(c)
	if err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{
		AccessToken: raw,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.cfg.TokenLifetime / time.Second),
		Scope:       scope,
	}, nil
}

// JWKS handles GET /jwks: the public keys that verify our access tokens.
func (s *Server) JWKS(w http.ResponseWriter, r *http.Request) {
	b, err := s.cfg.Keys.JWKS()
	if err != nil {
		s.log.ErrorContext(r.Context(), "jwks", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Short, so that a new key is seen soon; retired keys stay for a day.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// metadata is the RFC 8414 §2 document.
type metadata struct {
	Issuer                  string   `json:"issuer"`
	TokenEndpoint           string   `json:"token_endpoint"`
	JWKSURI                 string   `json:"jwks_uri"`
	ScopesSupported         []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported  []string `json:"response_types_supported"`
	GrantTypesSupported     []string `json:"grant_types_supported"`
	AuthMethodsSupported    []string `json:"token_endpoint_auth_methods_supported"`
	AuthSigningAlgSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
}

// Metadata handles GET /.well-known/oauth-authorization-server (RFC 8414).
func (s *Server) Metadata(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(s.cfg.Issuer, "/") + "/"
	m := metadata{
		Issuer:        s.cfg.Issuer,
		TokenEndpoint: base + "token",
		JWKSURI:       base + "jwks",
		// RFC 8414 requires the member; there is no authorization endpoint, so no response types.
		ResponseTypesSupported:  []string{},
		GrantTypesSupported:     []string{grantTypeJWTBearer},
		AuthMethodsSupported:    []string{"private_key_jwt"},
		AuthSigningAlgSupported: assertionAlgs,
	}
	if s.cfg.ScopesSupported != nil {
		m.ScopesSupported = s.cfg.ScopesSupported()
	}
	writeJSON(w, http.StatusOK, "public, max-age=300", m)
}

func writeJSON(w http.ResponseWriter, status int, cacheControl string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	if cacheControl == "no-store" {
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
