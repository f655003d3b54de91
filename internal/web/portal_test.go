package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deling/internal/governance"
)

func TestSignIn(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Testkommune")
	admin := h.account(governance.Administrator, org, "")

	t.Run("wrong password and unknown address answer alike", func(t *testing.T) {
		b := h.anonymous()
		p1 := b.post("/logg-inn", url.Values{"epost": {admin}, "passord": {"feil passord her"}})
		p2 := b.post("/logg-inn", url.Values{"epost": {"ingen@test.example"}, "passord": {"feil passord her"}})
		if p1.status != http.StatusUnauthorized || p2.status != http.StatusUnauthorized || !p1.has("Feil e-postadresse eller passord") || !p2.has("Feil e-postadresse eller passord") {
			t.Fatalf("statuses %d, %d", p1.status, p2.status)
		}
	})

	t.Run("pages need sign-in and return after it", func(t *testing.T) {
		b := h.anonymous()
		p := b.get("/portal")
		if !strings.HasSuffix(p.url, "/logg-inn") || !p.has(`name="passord"`) {
			t.Fatalf("not sent to sign-in: %s", p.url)
		}
		p = b.post("/logg-inn", url.Values{"epost": {admin}, "passord": {testPassword}, "neste": {"/portal/kontakter"}})
		if !strings.HasSuffix(p.url, "/portal/kontakter") {
			t.Fatalf("after sign-in at %s", p.url)
		}
		// Only local paths are returned to (safeNext itself: portal/portal_test.go).
		// The whole way: a tab in neste never reaches a Location header.
		p = h.anonymous().post("/logg-inn", url.Values{"epost": {admin}, "passord": {testPassword}, "neste": {"/\t/evil.example"}})
		if !strings.HasSuffix(p.url, "/portal") {
			t.Fatalf("after sign-in with a bad neste: %s", p.url)
		}
	})

	t.Run("deny by default: a role's pages only", func(t *testing.T) {
		b := h.signIn(admin)
		if p := b.get("/portal"); p.status != http.StatusOK || !p.has("Administrator for Testkommune (org.nr. "+org+")") {
			t.Fatalf("home: %d", p.status)
		}
		// A consumer's administrator is not the register's case worker: not in the menu.
		if p := b.get("/portal"); p.has(`href="/portal/saker"`) {
			t.Fatal("the case queue is offered to a consumer's administrator")
		}
		// Nor may it act for an organisation it holds no role for.
		if p := b.post("/velg-virksomhet", url.Values{"org": {"310000001"}}); p.status != http.StatusNotFound {
			t.Fatalf("choosing another organisation: %d", p.status)
		}
	})

	t.Run("a cross-site form post is refused", func(t *testing.T) {
		b := h.signIn(admin)
		p := b.post("/logg-ut", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if p.status != http.StatusForbidden {
			t.Fatalf("cross-site sign-out: %d", p.status)
		}
		if p := b.get("/portal"); p.status != http.StatusOK || !strings.HasSuffix(p.url, "/portal") {
			t.Fatal("the cross-site post signed the user out")
		}
	})

	t.Run("a removed user is signed out at the next click", func(t *testing.T) {
		email := h.account(governance.Oppslagsbruker, org, "")
		b := h.signIn(email)
		u, _, err := h.db.UserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.RemoveMembership(context.Background(), u.ID, org, governance.Oppslagsbruker, "test"); err != nil {
			t.Fatal(err)
		}
		if p := b.get("/portal"); !strings.Contains(p.url, "/logg-inn") {
			t.Fatalf("still signed in at %s", p.url)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h, err := governance.HashPassword("et langt passord")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	if err := governance.VerifyPassword(h, "et langt passord"); err != nil {
		t.Fatal(err)
	}
	if err := governance.VerifyPassword(h, "et langt passorD"); err != governance.ErrWrongPassword {
		t.Fatalf("wrong password: %v", err)
	}
	if err := governance.VerifyPassword("$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "x"); err == nil {
		t.Fatal("a hash asking for 99 GB was tried")
	}
}
