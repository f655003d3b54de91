package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"deling/internal/access"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/token/authserver"
	"deling/internal/token/bearer"
	"deling/internal/web/machineapi"
)

// instance is another deling node over the harness's store, serving another
// environment: the production API beside the test one, as a register runs
// them. Grants say which environment they are for (Rule AA-03).
type instance struct {
	h      *harness
	srv    *httptest.Server
	issuer string
	last   string // the last access token lookup got
}

func (h *harness) instance(env register.Env) *instance {
	h.t.Helper()
	in := &instance{h: h, srv: httptest.NewUnstartedServer(nil)}
	in.issuer = "http://" + in.srv.Listener.Addr().String() + "/"
	in.srv.Config.Handler = h.server(env, in.issuer, Config{Audit: h.db}).Handler()
	in.srv.Start()
	h.t.Cleanup(in.srv.Close)
	return in
}

// server makes a deling Server over the harness's store for env, with its own
// token server and verifier for issuer; cfg adds the rest (Audit is required).
func (h *harness) server(env register.Env, issuer string, cfg Config) *Server {
	h.t.Helper()
	ctx := context.Background()
	stored, err := h.db.SigningKeys(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	keys, err := token.NewKeySet(stored, time.Now)
	if err != nil {
		h.t.Fatal(err)
	}
	tokens, err := authserver.New(authserver.Config{Issuer: issuer, Clients: h.db, JTIs: h.db.JTIs(), Keys: keys,
		Authorizer:      store.Scopes{DB: h.db, APIScope: DefaultAPIScope, Env: env},
		ScopesSupported: func() []string { return []string{DefaultAPIScope} }})
	if err != nil {
		h.t.Fatal(err)
	}
	vctx, cancel := context.WithCancel(ctx)
	h.t.Cleanup(cancel)
	verifier, err := bearer.NewVerifier(vctx, bearer.Config{Keys: keys, Issuer: issuer})
	if err != nil {
		h.t.Fatal(err)
	}
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.DB, cfg.Env, cfg.Catalogue, cfg.Tokens, cfg.Verifier, cfg.Now = h.db, env, cat, tokens, verifier, h.clock.now
	var out io.Writer = io.Discard
	if h.logs != nil {
		out = h.logs
	}
	cfg.Log, cfg.Registry = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})), prometheus.NewRegistry()
	h.registry = cfg.Registry
	s, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// lookup looks a person up with cf's client on this instance and returns the
// HTTP status. It asks for a new token; when the token server refuses one (no
// active grant in this environment) it uses the last token it got, to see what
// the API itself answers, or reports 401 when it never got one.
func (in *instance) lookup(cf token.ClientFile, ident string) int {
	in.h.t.Helper()
	cf.TokenEndpoint, cf.Audience = in.issuer+"token", in.issuer
	if tok, err := authserver.RequestToken(context.Background(), cf, in.srv.Client()); err == nil {
		in.last = tok
	}
	if in.last == "" {
		return http.StatusUnauthorized
	}
	req, _ := http.NewRequest("GET", in.srv.URL+"/api/v2/arbeidstaker/arbeidsforhold", nil)
	req.Header.Set("Authorization", "Bearer "+in.last)
	req.Header.Set(machineapi.HeaderPerson, ident)
	resp, err := in.srv.Client().Do(req)
	if err != nil {
		in.h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// realPerson is a valid fødselsnummer of the ordinary kind, not in the
// synthetic register: production takes real identities only (Rule AA-14), so
// its lookups use this one and answer as for an unknown person.
const realPerson = "20036914700"
