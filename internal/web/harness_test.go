package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/tmpldir"
	"deling/internal/token"
	"deling/internal/token/authserver"
	"deling/internal/web/httperr"
	"deling/internal/web/machineapi"
)

// clock is the server's clock in tests: real time plus an offset the test can move.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// failingLog is an audit log that can be made to fail, to prove the API fails closed.
type failingLog struct {
	audit.Log
	mu   sync.Mutex
	fail bool
}

func (f *failingLog) Append(ctx context.Context, r *audit.Record) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return f.Log.Append(ctx, r)
}

func (f *failingLog) set(fail bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// harness is a whole deling over real HTTP: SQLite store, token server,
// verifier and API, with a synthetic register.
type harness struct {
	registry *prometheus.Registry // the metrics of the last server made (h.server)
	t        testing.TB
	db       *store.DB
	dataDir  string // the SQLite files, read whole by tests that prove what never reaches them
	srv      *httptest.Server
	clock    *clock
	log      *failingLog
	issuer   string
	today    register.Date
	persons  []register.Person
	afs      []register.Arbeidsforhold
	pop      *register.Population
	signer   note.Signer
	vkey     string
	// logs is everything the servers logged, at debug level and up.
	logs *logBuffer
}

// logBuffer collects the server's log output for a test to search.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const testAdminToken = "test-admin-token"

// checkpoint integrates the log and signs and stores a checkpoint of it as it is.
func (h *harness) checkpoint() (uint64, []byte) {
	h.t.Helper()
	if _, err := h.db.Integrate(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	size, root, err := h.db.LogRoot(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	signed, err := audit.Checkpoint{Origin: "test.deling/log", Size: size, Root: root}.Sign(h.signer)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.db.AddCheckpoint(context.Background(), size, root, signed); err != nil {
		h.t.Fatal(err)
	}
	return size, root
}

const testPersons = 400

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, clock: &clock{}, logs: &logBuffer{}}
	oslo, _ := time.LoadLocation("Europe/Oslo")
	h.today = register.Date(time.Now().In(oslo).Format(time.DateOnly))
	var err error
	h.pop, err = register.NewPopulation(register.PopulationConfig{Persons: testPersons, Seed: 11, AsOf: h.today})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < testPersons; i++ {
		p, afs := h.pop.Person(i)
		h.persons = append(h.persons, p)
		h.afs = append(h.afs, afs...)
	}
	// The migrated schema and the register are written once per test binary
	// (and date) and copied for each harness: writing them takes seconds.
	dir := tmpldir.New(t, "web-register-"+string(h.today), func(dir string) error {
		db, err := store.Open(ctx, store.Config{DataDir: dir})
		if err != nil {
			return err
		}
		_, err1 := db.UpsertOrganisations(ctx, h.pop.Organisations())
		_, err2 := db.UpsertPersons(ctx, h.persons)
		_, err3 := db.UpsertArbeidsforhold(ctx, h.afs)
		return errors.Join(err1, err2, err3, db.Close())
	})
	h.dataDir = dir
	db, err := store.Open(ctx, store.Config{DataDir: dir, Now: h.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	sk, err := token.NewSigningKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RotateSigningKey(ctx, sk, "test"); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewUnstartedServer(nil)
	h.issuer = "http://" + h.srv.Listener.Addr().String() + "/"
	h.log = &failingLog{Log: db}
	skey, vkey, err := audit.NewKey("test.deling/log")
	if err != nil {
		t.Fatal(err)
	}
	h.signer, _ = note.NewSigner(skey)
	h.vkey = vkey
	s := h.server(register.EnvTest, h.issuer, Config{Audit: h.log, RateBlockFor: time.Minute, LogVerifierKey: vkey,
		AdminToken: testAdminToken, InsightCategories: []string{"privat"}})
	h.srv.Config.Handler = s.Handler()
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

var orgSeq int

// consumer registers a consumer organisation with grants (ids filled in) and returns its orgnr.
func (h *harness) consumer(name string, grants ...access.Grant) (string, []access.Grant) {
	h.t.Helper()
	orgSeq++
	orgnr := string(syntheticOrg(9_000_000 + orgSeq))
	if err := h.db.UpsertConsumer(context.Background(), access.Consumer{Orgnr: orgnr, Navn: name, Status: access.Active}, "test"); err != nil {
		h.t.Fatal(err)
	}
	var out []access.Grant
	for _, g := range grants {
		g.Consumer = orgnr
		g2, err := h.db.AddGrant(context.Background(), g, "test")
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, g2)
	}
	return orgnr, out
}

// grant is an active test-environment API grant.
func grant(packages []string, kinds ...access.QueryKind) access.Grant {
	return access.Grant{Packages: packages, Channel: access.ChannelAPI, Env: register.EnvTest,
		LegalBasis: "aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "saksbehandling",
		QueryKinds: kinds, ValidFrom: time.Now().Add(-time.Hour), Status: access.Active}
}

// client registers an API client of orgnr and returns the file its owner keeps.
func (h *harness) client(orgnr string) token.ClientFile {
	h.t.Helper()
	priv, kid, jwk, err := token.NewClientKey("RS256")
	if err != nil {
		h.t.Fatal(err)
	}
	orgSeq++
	id := "client-" + orgnr + "-" + itoa(orgSeq)
	if err := h.db.AddClient(context.Background(), store.ClientInfo{ID: id, Orgnr: orgnr, Keys: []store.ClientKey{{KID: kid, Kind: store.KeyJWK, Material: string(jwk)}}}, "test"); err != nil {
		h.t.Fatal(err)
	}
	pemText, err := token.EncodePrivateKey(priv)
	if err != nil {
		h.t.Fatal(err)
	}
	return token.ClientFile{ClientID: id, KID: kid, PrivateKeyPEM: pemText, TokenEndpoint: h.issuer + "token", Audience: h.issuer, Scope: DefaultAPIScope}
}

// token gets an access token over HTTP, as a Maskinporten client would.
func (h *harness) token(cf token.ClientFile) string {
	h.t.Helper()
	tok, err := authserver.RequestToken(context.Background(), cf, h.srv.Client())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) problem() httperr.Problem {
	var p httperr.Problem
	json.Unmarshal(a.body, &p)
	return p
}

func (h *harness) do(method, tok, path string, body any, headers ...string) answer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

func (h *harness) person(tok, ident string, query string, headers ...string) answer {
	return h.do("GET", tok, "/api/v2/arbeidstaker/arbeidsforhold"+query, nil, append([]string{machineapi.HeaderPerson, ident}, headers...)...)
}

// records is the lookup log as stored.
func (h *harness) records(consumer string) []audit.Record {
	recs, err := h.db.AuditRecords(context.Background(), consumer, 100_000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Kind == audit.KindLookup {
			out = append(out, r)
		}
	}
	return out
}

// employed is a person with active arbeidsforhold whose data may be delivered.
func (h *harness) employed(n int) []register.Person {
	var out []register.Person
	for _, p := range h.persons {
		if p.Protected() {
			continue
		}
		active := 0
		for i := range h.afs {
			a := &h.afs[i]
			if a.ArbeidstakerIdent() == p.Ident && a.Ansettelsesperiode.StatusAt(h.today) == register.StatusAktiv && a.Arbeidssted.Type == register.EnhetUnderenhet {
				active++
			}
		}
		if active > 0 {
			out = append(out, p)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

func (h *harness) afsOf(ident string) []register.Arbeidsforhold {
	var out []register.Arbeidsforhold
	for _, a := range h.afs {
		if a.ArbeidstakerIdent() == ident {
			out = append(out, a)
		}
	}
	return out
}

// Every filter value, as the API's defaults (machineapi/api.go).
var (
	allTypes     = []string{register.TypeOrdinaer, register.TypeMaritim, register.TypeForenklet, register.TypeFrilanser}
	allOrdninger = []string{register.AOrdningen, register.FoerAOrdningen}
	allStatuses  = []string{string(register.StatusAktiv), string(register.StatusAvsluttet), string(register.StatusFremtidig)}
)
