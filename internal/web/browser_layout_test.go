package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"deling/internal/access"
	"deling/internal/governance"
)

// overflowScript is how far the page is wider than the window: 0 when nothing
// makes the page scroll sideways.
const overflowScript = `document.documentElement.scrollWidth - window.innerWidth`

// tableOverflowScript is how far the widest table is wider than the page's
// column: at 1280 px a table fits without scrolling of its own.
const tableOverflowScript = `Math.max(0, ...[...document.querySelectorAll("table")].map(t => t.scrollWidth - t.parentElement.clientWidth))`

// Issue 16, item 11: the pages with the widest tables fit the window at 1280
// px and on a phone (390 px): no horizontal scrolling of the page itself.
func TestBrowserTablesFit(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	all := webGrant(access.ByArbeidstaker, access.ByArbeidssted)
	all.Packages = []string{"grunnopplysninger@1", "stillingsdetaljer@1", "permisjoner@1"}
	org, _ := h.consumer("Kommunen med et svært langt navn som ikke får plass på en smal skjerm", all)
	email := h.account(governance.Oppslagsbruker, org, "")
	admin := h.account(governance.Administrator, org, "")
	sted, _ := h.busiestArbeidssted()

	b.signIn(email)
	b.open("/portal/oppslag")
	b.tick("bekreft")
	b.press("Bekreft og gå videre")
	b.tick("sok-arbeidssted")
	b.fill("ident", sted)
	b.press("Søk")
	b.sees("Yrke", "Stilling", "Periode")
	fits := func(page string) {
		t.Helper()
		for _, w := range []int64{1280, 390} {
			// Not EmulateMobile: a mobile browser zooms out to fit a wide page, which would hide the overflow.
			b.run(chromedp.EmulateViewport(w, 900))
			if over := eval[int](b, overflowScript); over > 0 {
				b.screenshot(fmt.Sprintf("overflow-%s-%d", page, w))
				t.Errorf("%s at %d px: the page is %d px wider than the window", page, w, over)
			}
			if over := eval[int](b, tableOverflowScript); w == 1280 && over > 0 {
				b.screenshot(fmt.Sprintf("overflow-%s-table-%d", page, w))
				t.Errorf("%s at %d px: a table is %d px wider than the page", page, w, over)
			}
		}
		b.run(chromedp.EmulateViewport(1280, 900))
	}
	fits("oppslag")

	b.signOut()
	b.signIn(admin)
	b.open("/portal/oppslagslogg")
	b.sees("Tillatt")
	fits("oppslagslogg")

	// The forvalter's staff page (issue 16, item 5): a row of role boxes and buttons per account.
	b.signOut()
	h.account(governance.Saksbehandler, governance.AuthorityOrg, "")
	b.signIn(h.account(governance.Forvalter, governance.AuthorityOrg, ""))
	b.open("/portal/forvalter/ansatte")
	b.sees("Ansatte i registeret", "Personvernombud")
	fits("ansatte")
}
