package openid

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Provider names, in the sign-in routes (/logg-inn/oidc/{provider}).
const (
	IDPorten = "idporten" // persons (accounts with the Person role only): the pid claim is the fødselsnummer
	Staff    = "ansatt"   // the register's staff: Entra ID or any OpenID Connect provider
)

// ProviderConfig is one provider: none when Issuer is "".
type ProviderConfig struct {
	Issuer, ClientID string
	// ClientSecret is read from the environment only, never a flag; never logged.
	ClientSecret string
	// Label is the provider's name on the sign-in button ("ID-porten", "Entra ID").
	Label string
}

// Config is the sign-in with OpenID Connect: both providers optional.
type Config struct {
	IDPorten, Staff ProviderConfig
	// StaffLinkByEmail links a member of staff's first sign-in to the
	// account holding the e-mail address the provider vouches for
	// (email_verified); off by default: the forvalter links (deling user link).
	StaffLinkByEmail bool
	// StaffEmailDomains, when any, are the only domains whose addresses
	// StaffLinkByEmail links (lower case, e.g. "etaten.no").
	StaffEmailDomains []string
}

// Enabled reports whether any provider is configured.
func (c Config) Enabled() bool { return c.IDPorten.Issuer != "" || c.Staff.Issuer != "" }

// Check refuses a provider half configured: an issuer needs a client id and
// a secret, and is an https URL (http only on loopback, for tests and development).
func (c Config) Check() error {
	if len(c.StaffEmailDomains) > 0 && !c.StaffLinkByEmail {
		return errors.New("openid ansatt: allowed e-mail domains are given without linking by e-mail turned on")
	}
	for _, d := range c.StaffEmailDomains {
		if d == "" || d != strings.ToLower(d) || strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			return errors.New("openid ansatt: " + strconv.Quote(d) + " is not an e-mail domain in lower case (e.g. etaten.no)")
		}
	}
	for name, p := range map[string]ProviderConfig{IDPorten: c.IDPorten, Staff: c.Staff} {
		if p.Issuer == "" && p.ClientID == "" {
			continue
		}
		if p.Issuer == "" || p.ClientID == "" || p.ClientSecret == "" {
			return errors.New("openid " + name + ": the issuer, the client id and the client secret (from the environment) are all required")
		}
		if err := CheckIssuer(p.Issuer); err != nil {
			return errors.New("openid " + name + ": " + err.Error())
		}
	}
	return nil
}

// CheckIssuer refuses an issuer that is not an https URL (http only on
// loopback, for tests and development).
func CheckIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	loopback := err == nil && u.Scheme == "http" && slices.Contains([]string{"127.0.0.1", "::1", "localhost"}, u.Hostname())
	if err != nil || u.Host == "" || (u.Scheme != "https" && !loopback) {
		return errors.New("the issuer must be an https URL")
	}
	return nil
}

// Button is a sign-in button on the sign-in page.
type Button struct {
	Provider, Label string
}

// Feature is sign-in with OpenID Connect. Build one with New.
type Feature struct {
	*site.Site
	providers    map[string]*provider
	buttons      []Button
	signInFailed func(reason string)
	// linkByEmail and emailDomains: Config.StaffLinkByEmail and StaffEmailDomains.
	linkByEmail  bool
	emailDomains []string
}

// provider is one configured provider, discovered at its first use (a
// provider that is down when deling starts does not stop the portal).
type provider struct {
	name string
	cfg  ProviderConfig
	now  func() time.Time

	// discovery is the one discovery under way: sign-ins that start meanwhile wait for it.
	discovery singleflight.Group

	mu       sync.Mutex
	oauth    *oauth2.Config // without RedirectURL: set per request (the site's base)
	verifier *oidc.IDTokenVerifier
	// failedAt and failure: the last discovery's failure, answered at once
	// for discoveryRetry rather than waited for again by every sign-in.
	failedAt time.Time
	failure  error
}

// New makes the feature on st; signInFailed (nil for none) is told of each refused sign-in, for the operator's metrics.
func New(st *site.Site, cfg Config, signInFailed func(reason string)) *Feature {
	f := &Feature{Site: st, providers: map[string]*provider{}, signInFailed: signInFailed,
		linkByEmail: cfg.StaffLinkByEmail, emailDomains: cfg.StaffEmailDomains}
	for _, p := range []struct {
		name, label string
		cfg         ProviderConfig
	}{{IDPorten, "ID-porten", cfg.IDPorten}, {Staff, "Entra ID", cfg.Staff}} {
		if p.cfg.Issuer == "" {
			continue
		}
		if p.cfg.Label == "" {
			p.cfg.Label = p.label
		}
		f.providers[p.name] = &provider{name: p.name, cfg: p.cfg, now: time.Now}
		f.buttons = append(f.buttons, Button{Provider: p.name, Label: p.cfg.Label})
	}
	return f
}

// Buttons are the sign-in page's buttons, one a configured provider.
func (f *Feature) Buttons() []Button { return f.buttons }

// Templates are the feature's pages (innlogging-*).
func (f *Feature) Templates() fs.FS { return templateFiles }

// Routes start a sign-in (a form post: a cross-site page cannot start one)
// and take the provider's answer.
func (f *Feature) Routes() []site.Route {
	return []site.Route{
		{Pattern: "POST /logg-inn/oidc/{provider}", Handler: http.HandlerFunc(f.start)},
		{Pattern: "GET /logg-inn/oidc/{provider}/tilbake", Handler: http.HandlerFunc(f.callback)},
	}
}

// discover is the provider's metadata, fetched once. One discovery runs
// at a time, bounded by discoveryTimeout, and the sign-ins that start
// meanwhile wait for it or for their own request's end, whichever is
// first; a failure is answered at once for discoveryRetry, so that a
// provider that is down costs each sign-in nothing.
func (p *provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	oc, v, failedAt, failure := p.oauth, p.verifier, p.failedAt, p.failure
	p.mu.Unlock()
	if oc != nil {
		return oc, v, nil
	}
	if failure != nil && p.now().Sub(failedAt) < discoveryRetry {
		return nil, nil, failure
	}
	select {
	case res := <-p.discovery.DoChan("discover", func() (any, error) { return nil, p.fetch() }):
		if res.Err != nil {
			return nil, nil, res.Err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.oauth, p.verifier, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// fetch discovers the provider, outside any one sign-in's request: its
// result serves every sign-in. Its keys are fetched later, as tokens need
// them (go-oidc keeps the key set's context without this one's deadline).
func (p *provider) fetch() error {
	ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
	defer cancel()
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, providerClient), p.cfg.Issuer)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failedAt, p.failure = p.now(), err
		return err
	}
	scopes := []string{oidc.ScopeOpenID}
	if p.name == IDPorten {
		scopes = append(scopes, "profile")
	} else {
		scopes = append(scopes, "email")
	}
	p.oauth = &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(), Scopes: scopes}
	// The verifier checks the signature by the provider's published keys,
	// the issuer, the audience (our client id) and the expiry.
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID})
	p.failure = nil
	return nil
}

// How long a discovery may take, and how long its failure is answered
// without trying again (variables for the tests).
var (
	discoveryTimeout = 15 * time.Second
	discoveryRetry   = 30 * time.Second
)

// providerClient is how deling talks to the providers (discovery, keys,
// the token endpoint): a provider that hangs fails the sign-in, not the server.
var providerClient = &http.Client{Timeout: 15 * time.Second}

// flow is a sign-in under way, kept in the visitor's session until the
// provider answers: one at a time, used once.
type flow struct {
	Provider, State, Nonce, Verifier, Next string
	Started                                time.Time
}

const (
	sessionFlow = "oidc_flow"
	// flowTTL is how long a sign-in may take at the provider.
	flowTTL = 10 * time.Minute
	// Session keys of the sign-in's assurance (recorded, issue 16 item 6).
	SessionACR = "auth_acr"
	SessionAMR = "auth_amr"
)

func (f *Feature) redirectURL(r *http.Request, p *provider) string {
	return f.AbsoluteBase(r) + "/logg-inn/oidc/" + p.name + "/tilbake"
}

// start sends the visitor to the provider with a fresh state, nonce and PKCE verifier.
func (f *Feature) start(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p, ok := f.providers[r.PathValue("provider")]
	if !ok {
		f.NotFound(w, r, nil)
		return
	}
	oc, _, err := p.discover(r.Context())
	if err != nil {
		f.Log.Warn("openid provider unreachable", "provider", p.name, "err", err, "correlation_id", httperr.CorrelationID(r.Context()))
		f.refuse(w, r, http.StatusBadGateway, "unavailable", "Innloggingstjenesten svarer ikke akkurat nå. Prøv igjen om litt, eller logg inn med e-post og passord.", "")
		return
	}
	fl := flow{Provider: p.name, State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: site.SafeNext(r.PostFormValue("neste")), Started: f.Now()}
	b, err := json.Marshal(fl)
	if err != nil {
		f.PageError(w, r, err)
		return
	}
	f.Sessions.Put(r.Context(), sessionFlow, string(b))
	c := *oc
	c.RedirectURL = f.redirectURL(r, p)
	http.Redirect(w, r, c.AuthCodeURL(fl.State, oidc.Nonce(fl.Nonce), oauth2.S256ChallengeOption(fl.Verifier)), http.StatusSeeOther)
}

// refusePage is a sign-in that did not go through.
type refusePage struct {
	site.Frame
	Message, Subject string
}

// refuse answers a sign-in that did not go through with a page in Norwegian
// and no session; subject is shown to a member of staff who is not linked,
// to give to the forvalter ("" for none).
func (f *Feature) refuse(w http.ResponseWriter, r *http.Request, status int, reason, msg, subject string) {
	if f.signInFailed != nil {
		f.signInFailed("openid-" + reason)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	f.Render(w, r, "innlogging-avvist.html", refusePage{Frame: f.PublicFrame(r, "Innloggingen ble ikke fullført"), Message: msg, Subject: subject})
}

// takeFlow reads and removes the sign-in under way: a provider's answer is used once.
func (f *Feature) takeFlow(r *http.Request) (flow, bool) {
	var fl flow
	s := f.Sessions.PopString(r.Context(), sessionFlow)
	if s == "" || json.Unmarshal([]byte(s), &fl) != nil {
		return fl, false
	}
	return fl, f.Now().Sub(fl.Started) < flowTTL
}

// ID-porten's levels of assurance that may sign in: substantial and high.
var personACR = []string{"idporten-loa-substantial", "idporten-loa-high", "Level3", "Level4"}

// callback takes the provider's answer: the state must be the one this
// session sent, the code is exchanged with the PKCE verifier, the ID token
// verified (signature, issuer, audience, expiry) and its nonce the one
// sent; then the account is found by the verified claim, never by anything
// the visitor typed.
func (f *Feature) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx := oidc.ClientContext(r.Context(), providerClient)
	p, ok := f.providers[r.PathValue("provider")]
	if !ok {
		f.NotFound(w, r, nil)
		return
	}
	const again = "Innloggingen kunne ikke fullføres. Gå tilbake til innloggingssiden og prøv igjen."
	fl, ok := f.takeFlow(r)
	q := r.URL.Query()
	if !ok || fl.Provider != p.name || subtle.ConstantTimeCompare([]byte(fl.State), []byte(q.Get("state"))) != 1 {
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "state", "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusBadRequest, "state", again, "")
		return
	}
	if q.Get("error") != "" {
		// The provider's error code (e.g. access_denied), never its free-text description.
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "cancelled", "error", providerError(q.Get("error")), "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusUnauthorized, "cancelled", "Innloggingen ble avbrutt.", "")
		return
	}
	oc, verifier, err := p.discover(ctx)
	if err != nil {
		f.Log.Warn("openid provider unreachable", "provider", p.name, "err", err, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusBadGateway, "unavailable", "Innloggingstjenesten svarer ikke akkurat nå. Prøv igjen om litt.", "")
		return
	}
	c := *oc
	c.RedirectURL = f.redirectURL(r, p)
	tok, err := c.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(fl.Verifier))
	if err != nil {
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "code", "err", err, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusUnauthorized, "code", again, "")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(fl.Nonce)) != 1 {
		if err == nil {
			err = errors.New("nonce does not match")
		}
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "id-token", "err", err, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusUnauthorized, "id-token", again, "")
		return
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "claims", "err", err, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusUnauthorized, "claims", again, "")
		return
	}
	cl, err := parseClaims(payload)
	if err != nil {
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "claims", "err", err, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusUnauthorized, "claims", again, "")
		return
	}
	id := store.Identity{Issuer: idt.Issuer, Subject: idt.Subject}
	var u governance.User
	switch p.name {
	case IDPorten:
		u, ok = f.person(w, r, id, cl)
	default:
		u, ok = f.staff(w, r, id, cl)
	}
	if !ok {
		return
	}
	ms, err := f.DB.Memberships(ctx, u.ID)
	if err != nil {
		f.PageError(w, r, err)
		return
	}
	if len(ms) == 0 {
		f.Log.Info("openid sign-in refused", "provider", p.name, "reason", "no-roles", "user", u.ID, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusForbidden, "no-roles", "Brukeren har ingen roller. Kontakt administratoren i virksomheten din.", "")
		return
	}
	if err := f.BeginSession(ctx, u, ms); err != nil {
		f.PageError(w, r, err)
		return
	}
	f.Sessions.Put(ctx, SessionACR, cl.ACR)
	f.Sessions.Put(ctx, site.SessionProvider, p.name) // no password used: none to change first
	f.Sessions.Put(ctx, SessionAMR, strings.Join(cl.AMR, " "))
	f.Log.Info("signed in", "user", u.ID, "provider", p.name, "acr", cl.ACR, "amr", strings.Join(cl.AMR, " "))
	next := fl.Next
	if next == "" {
		next = "/portal"
	}
	site.Redirect(w, r, next)
}

// person is the account of a person ID-porten vouches for by their
// fødselsnummer (the pid claim), at level substantial or high; made at the
// first sign-in. The fødselsnummer is checked like any other and never
// logged or shown.
func (f *Feature) person(w http.ResponseWriter, r *http.Request, id store.Identity, cl claims) (governance.User, bool) {
	ctx := r.Context()
	refused := func(reason, msg string) (governance.User, bool) {
		f.Log.Info("openid sign-in refused", "provider", IDPorten, "reason", reason, "correlation_id", httperr.CorrelationID(ctx))
		f.refuse(w, r, http.StatusForbidden, reason, msg, "")
		return governance.User{}, false
	}
	if !slices.Contains(personACR, cl.ACR) {
		return refused("acr", "Innloggingen må være på sikkerhetsnivå betydelig eller høyt.")
	}
	person, err := ident.ParsePerson(cl.PID)
	if err != nil {
		return refused("pid", "ID-porten ga ikke et gyldig fødselsnummer.")
	}
	// Rule AA-14: a test environment holds synthetic persons only.
	if f.Env == register.EnvTest && !person.IsSynthetic() {
		return refused("pid", "Testmiljøet tar bare imot syntetiske testpersoner.")
	}
	u, created, err := f.DB.SignInPerson(ctx, id, cl.PID)
	switch {
	case errors.Is(err, store.ErrConflict):
		return refused("account", "Kontoen din kan ikke brukes til innlogging. Kontakt registeret.")
	case err != nil:
		f.PageError(w, r, err)
		return u, false
	}
	if created {
		f.Log.Info("person account made at first sign-in", "user", u.ID, "provider", IDPorten)
	}
	return u, true
}

// staff is the account of a member of the register's staff: linked to the
// identity by the forvalter, or — when the operator turned it on — found by
// an e-mail address the provider vouches for (email_verified), in an allowed
// domain, on an account not linked at the provider yet. An unknown identity
// is refused (deny by default) and shown its subject, to give to the forvalter.
func (f *Feature) staff(w http.ResponseWriter, r *http.Request, id store.Identity, cl claims) (governance.User, bool) {
	email := ""
	if f.linkByEmail && cl.EmailVerified && governance.ValidEmail(cl.Email) && f.emailDomainAllowed(cl.Email) {
		email = cl.Email
	}
	u, err := f.DB.SignInStaff(r.Context(), id, email)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		reason := "unknown-staff"
		if errors.Is(err, store.ErrConflict) {
			// Another identity at this provider holds the account: not linked by its address.
			reason = "staff-linked-elsewhere"
		}
		// The subject is the provider's pseudonymous id of the person, not an identity number.
		f.Log.Info("openid sign-in refused", "provider", Staff, "reason", reason, "issuer", id.Issuer, "subject", id.Subject,
			"correlation_id", httperr.CorrelationID(r.Context()))
		f.refuse(w, r, http.StatusForbidden, "unknown-staff",
			"Du er ikke registrert som ansatt i registeret. Be forvalteren koble brukeren din til denne identiteten.", id.Subject)
		return u, false
	case err != nil:
		f.PageError(w, r, err)
		return u, false
	}
	return u, true
}

// emailDomainAllowed reports whether addr's domain is one the operator allows to link by e-mail (any when none are given).
func (f *Feature) emailDomainAllowed(addr string) bool {
	if len(f.emailDomains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	return slices.Contains(f.emailDomains, domain)
}

// providerErrors are the error codes a provider answers a sign-in with
// (RFC 6749 4.1.2.1, OpenID Connect Core 3.1.2.6): logged as they are,
// anything else as "other" — the parameter is the visitor's to write.
var providerErrors = []string{"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable", "interaction_required", "login_required",
	"account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
	"request_not_supported", "request_uri_not_supported", "registration_not_supported"}

func providerError(code string) string {
	if slices.Contains(providerErrors, code) {
		return code
	}
	return "other"
}
