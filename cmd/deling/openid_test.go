package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"deling/internal/store"
)

// The forvalter links a member of staff to their identity at the staff's
// provider (issue 16, item 6); once only; an unknown account is an error.
func TestUserLink(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runCmd(t, nil, "user", "add", "--data", dir, "--email", "cw@etaten.no", "--navn", "Cw", "--role", "saksbehandler"); err != nil {
		t.Fatal(err)
	}
	link := func(email, subject string) (string, error) {
		out, _, err := runCmd(t, nil, "user", "link", "--data", dir, "--email", email, "--issuer", "https://login.example/t/v2.0", "--subject", subject)
		return out, err
	}
	if out, err := link("cw@etaten.no", "entra-1"); err != nil || !strings.Contains(out, "linked cw@etaten.no") {
		t.Fatalf("link: %q %v", out, err)
	}
	if _, err := link("cw@etaten.no", "entra-1"); err == nil || !strings.Contains(err.Error(), "linked to an account already") {
		t.Fatalf("linked twice: %v", err)
	}
	if _, err := link("nobody@etaten.no", "entra-2"); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("unknown account: %v", err)
	}
	if _, err := link("cw@etaten.no", ""); err == nil {
		t.Fatal("no subject accepted")
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.SignInStaff(context.Background(), store.Identity{Issuer: "https://login.example/t/v2.0", Subject: "entra-1"}, "")
	if err != nil || u.Email != "cw@etaten.no" {
		t.Fatalf("the linked identity signs in as %q: %v", u.Email, err)
	}
	if _, err := db.SignInStaff(context.Background(), store.Identity{Issuer: "https://login.example/t/v2.0", Subject: "entra-2"}, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an identity not linked: %v", err)
	}
}

// The providers are configured by flag or environment; the client secret
// only from the environment (there is no flag for it); a provider half
// configured is refused at start-up.
func TestOpenIDOptions(t *testing.T) {
	parse := func(env map[string]string, args ...string) error {
		var o openidOptions
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.bind(fs)
		if err := fs.Parse(args); err != nil {
			return err
		}
		c, err := o.config(func(k string) string { return env[k] })
		if err == nil && c.IDPorten.Issuer != "" && c.IDPorten.ClientSecret != env[idportenSecretEnv] {
			t.Fatal("the secret is not the environment's")
		}
		return err
	}
	if err := parse(nil); err != nil {
		t.Fatalf("none configured: %v", err)
	}
	if err := parse(nil, "--idporten-client-secret", "x"); err == nil {
		t.Fatal("a client secret accepted as a flag")
	}
	if err := parse(nil, "--idporten-issuer", "https://idporten.no", "--idporten-client-id", "c"); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("no secret: %v", err)
	}
	for _, iss := range []string{"http://idporten.example", "http://127.0.0.1.evil.example", "idporten.no", "https://"} {
		if err := parse(map[string]string{idportenSecretEnv: "s"}, "--idporten-issuer", iss, "--idporten-client-id", "c"); err == nil {
			t.Fatalf("issuer %s accepted", iss)
		}
	}
	if err := parse(map[string]string{idportenSecretEnv: "s"}, "--idporten-issuer", "http://127.0.0.1:8081", "--idporten-client-id", "c"); err != nil {
		t.Fatalf("a loopback issuer for development: %v", err)
	}
	env := map[string]string{"DELING_IDPORTEN_ISSUER": "https://idporten.no", "DELING_IDPORTEN_CLIENT_ID": "c", idportenSecretEnv: "s",
		"DELING_STAFF_ISSUER": "https://login.microsoftonline.com/t/v2.0", "DELING_STAFF_CLIENT_ID": "d"}
	if err := parse(env); err == nil || !strings.Contains(err.Error(), "ansatt") {
		t.Fatalf("the staff's provider without a secret: %v", err)
	}
	env[staffSecretEnv] = "s2"
	if err := parse(env); err != nil {
		t.Fatalf("both from the environment: %v", err)
	}
}
