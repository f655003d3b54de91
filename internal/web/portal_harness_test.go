package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"deling/internal/governance"
)

// testPassword is every test account's password.
const testPassword = "riktig hest batteri stift"

// testPasswordHash is testPassword's argon2id hash at a test-only low cost
// (64 KiB, 1 pass): every sign-in verifies it, and at the production cost
// (governance.HashPassword: 64 MiB, 3 passes) the race detector makes that
// seconds a sign-in. The server verifies it with the production code, which
// takes the cost from the hash; accounts the portal makes get the production cost.
var testPasswordHash = sync.OnceValue(func() string {
	salt := make([]byte, 16)
	rand.Read(salt)
	const mem, passes, threads = 64, 1, 1
	key := argon2.IDKey([]byte(testPassword), salt, passes, mem, threads, 32)
	enc := base64.RawStdEncoding
	h := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, mem, passes, threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
	if err := governance.VerifyPassword(h, testPassword); err != nil {
		panic(err)
	}
	return h
})

var accountSeq int

// account makes a portal account holding role for org (governance.AuthorityOrg
// for the register's staff, "" for a person, who also needs pid) and returns its e-mail address.
func (h *harness) account(role governance.Role, org, pid string) string {
	h.t.Helper()
	accountSeq++
	email := string(role) + itoa(accountSeq) + "@test.example"
	u := governance.User{Email: email, Navn: role.Label() + " " + itoa(accountSeq), PID: pid}
	if _, err := h.db.CreateUser(context.Background(), u, testPasswordHash(), []governance.Membership{{Org: org, Role: role}}, "test"); err != nil {
		h.t.Fatal(err)
	}
	return email
}

// browserless is a portal user's HTTP client: a cookie jar, no JavaScript.
type browserless struct {
	h      *harness
	client *http.Client
	base   string // the server's URL, when not the harness's
}

func (b *browserless) url() string {
	if b.base != "" {
		return b.base
	}
	return b.h.srv.URL
}

// page is an HTML answer.
type page struct {
	status int
	body   string
	url    string // after redirects
}

func (p page) has(s string) bool { return strings.Contains(p.body, s) }

// visitor signs in as email and returns the signed-in client; it fails the test if sign-in fails.
func (h *harness) signIn(email string) *browserless {
	h.t.Helper()
	b := h.anonymous()
	p := b.post("/logg-inn", url.Values{"epost": {email}, "passord": {testPassword}})
	if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal") {
		h.t.Fatalf("sign in as %s: status %d at %s", email, p.status, p.url)
	}
	return b
}

// anonymous is a client with an empty cookie jar.
func (h *harness) anonymous() *browserless {
	jar, _ := cookiejar.New(nil)
	c := *h.srv.Client()
	c.Jar = jar
	return &browserless{h: h, client: &c}
}

func (b *browserless) get(path string) page {
	b.h.t.Helper()
	resp, err := b.client.Get(b.url() + path)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return readPage(b.h.t, resp)
}

// post sends a form as a same-origin browser would.
func (b *browserless) post(path string, form url.Values, headers ...string) page {
	b.h.t.Helper()
	req, _ := http.NewRequest("POST", b.url()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.url())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return readPage(b.h.t, resp)
}

func readPage(t testing.TB, resp *http.Response) page {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, body: string(body), url: resp.Request.URL.String()}
}
