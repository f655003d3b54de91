package web

import (
	"testing"

	"deling/internal/governance"
)

func TestBrowserSignIn(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	org, _ := h.consumer("Nettleserkommune")
	admin := h.account(governance.Administrator, org, "")

	b.open("/")
	b.sees("Aa-registeret", "Oppslagsloggen")
	b.screenshot("forside")
	b.press("Logg inn")
	b.fill("epost", admin)
	b.fill("passord", "ikke riktig passord")
	b.press("Logg inn")
	b.sees("Feil e-postadresse eller passord")
	b.screenshot("logg-inn")
	b.fill("passord", testPassword)
	b.press("Logg inn")
	b.sees("Min side", "Administrator for Nettleserkommune (org.nr. "+org+")")
	b.doesNotSee("Saksbehandling")
	b.screenshot("min-side")
	b.signOut()
	// Signed out: the portal sends the visitor to sign in again.
	b.open("/portal")
	b.sees("Logg inn")
}
