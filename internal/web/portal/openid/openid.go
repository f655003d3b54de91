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
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

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
	IDPorten = "idporten" // persons and organisations' users: the pid claim is the fødselsnummer
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
}

// Enabled reports whether any provider is configured.
func (c Config) Enabled() bool { return c.IDPorten.Issuer != "" || c.Staff.Issuer != "" }

// Check refuses a provider half configured: an issuer needs a client id and
// a secret, and is an https URL (http only on loopback, for tests and development).
func (c Config) Check() error {
	for name, p := range map[string]ProviderConfig{IDPorten: c.IDPorten, Staff: c.Staff} {
		if p.Issuer == "" && p.ClientID == "" {
			continue
		}
		if p.Issuer == "" || p.ClientID == "" || p.ClientSecret == "" {
			return errors.New("openid " + name + ": the issuer, the client id and the client secret (from the environment) are all required")
		}
		u, err := url.Parse(p.Issuer)
		loopback := err == nil && u.Scheme == "http" && slices.Contains([]string{"127.0.0.1", "::1", "localhost"}, u.Hostname())
		if err != nil || u.Host == "" || (u.Scheme != "https" && !loopback) {
			return errors.New("openid " + name + ": the issuer must be an https URL")
		}
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
}

// provider is one configured provider, discovered at its first use (a
// provider that is down when deling starts does not stop the portal).
type provider struct {
	name string
	cfg  ProviderConfig

	mu       sync.Mutex
	oauth    *oauth2.Config // without RedirectURL: set per request (the site's base)
	verifier *oidc.IDTokenVerifier
}

// New makes the feature on st; signInFailed (nil for none) is told of each refused sign-in, for the operator's metrics.
func New(st *site.Site, cfg Config, signInFailed func(reason string)) *Feature {
	f := &Feature{Site: st, providers: map[string]*provider{}, signInFailed: signInFailed}
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
		f.providers[p.name] = &provider{name: p.name, cfg: p.cfg}
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

// discover fetches the provider's metadata once; an error is tried again at the next sign-in.
func (p *provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	// The provider's keys are fetched later, outside this request: not with its context.
	op, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), providerClient), p.cfg.Issuer)
	if err != nil {
		return nil, nil, err
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
	return p.oauth, p.verifier, nil
}

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
		f.refuse(w, r, http.StatusUnauthorized, "cancelled", "Innloggingen ble avbrutt.", "")
		return
	}
	oc, verifier, err := p.discover(ctx)
	if err != nil {
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
		f.refuse(w, r, http.StatusForbidden, "no-roles", "Brukeren har ingen roller. Kontakt administratoren i virksomheten din.", "")
		return
	}
	if err := f.BeginSession(ctx, u, ms); err != nil {
		f.PageError(w, r, err)
		return
	}
	f.Sessions.Put(ctx, SessionACR, cl.ACR)
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
// identity by the forvalter, or found by an e-mail address the provider
// vouches for (email_verified). An unknown identity is refused (deny by
// default) and shown its subject, to give to the forvalter.
func (f *Feature) staff(w http.ResponseWriter, r *http.Request, id store.Identity, cl claims) (governance.User, bool) {
	email := ""
	if cl.EmailVerified && governance.ValidEmail(cl.Email) {
		email = cl.Email
	}
	u, err := f.DB.SignInStaff(r.Context(), id, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The subject is the provider's pseudonymous id of the person, not an identity number.
		f.Log.Info("openid sign-in refused", "provider", Staff, "reason", "unknown-staff", "issuer", id.Issuer, "subject", id.Subject,
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
