package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests drive the portal in real headless Chromium (chromedp), as the
// people would. Without Chromium they are skipped, except in CI (CI=true),
// where a missing browser fails. DELING_SCREENSHOTS=DIR saves screenshots of
// the pages visited (docs/screenshots holds the committed ones).

// browser is one Chromium tab on the harness's server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chromium is the one Chromium process the package's browser tests share
// (each test has a browser context of its own, see newBrowser): starting
// Chromium costs seconds on a loaded machine.
var chromium struct {
	once   sync.Once
	ctx    context.Context // a tab of the running browser
	cancel context.CancelFunc
	dir    string // its profile
	err    error
}

// startChromium starts the shared browser; stopChromium (from TestMain) ends it.
func startChromium(path string) (context.Context, error) {
	chromium.once.Do(func() {
		if chromium.dir, chromium.err = os.MkdirTemp("", "deling-chromium-"); chromium.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("lang", "nb-NO"),
			chromedp.UserDataDir(chromium.dir),
			chromedp.WindowSize(1280, 900),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(actx)
		chromium.ctx, chromium.cancel = ctx, func() { cancelCtx(); cancelAlloc() }
		// The first action starts the browser: its context has no timeout.
		chromium.err = chromedp.Do(ctx)
	})
	return chromium.ctx, chromium.err
}

func stopChromium() {
	if chromium.cancel != nil {
		chromium.cancel() // waits for Chromium to exit
	}
	if chromium.dir != "" {
		os.RemoveAll(chromium.dir)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopChromium()
	os.Exit(code)
}

// newBrowser opens a tab in a browser context of its own (cookies, storage
// and cache apart from every other test's) in the shared Chromium.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH; CI must install it (.ci/run does)")
		}
		t.Skip("no chromium on PATH: browser tests skipped")
	}
	parent, err := startChromium(path)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	ctx, cancelCtx := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx() })
	b := &browser{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return b
}

// run runs actions, each step within 30 s: a missing element fails the test instead of waiting for ever.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
	return v
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// open loads a page and checks it (see check).
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
	b.check()
}

// fill types into the field labelled by the element with id.
func (b *browser) fill(id, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = ""; return true })()`, id))
	b.run(chromedp.SendKeys(byID(id), value))
}

// tick checks a checkbox or radio button by id.
func (b *browser) tick(id string) {
	b.t.Helper()
	if !eval[bool](b, fmt.Sprintf(`document.getElementById(%q).checked`, id)) {
		b.run(chromedp.Click(byID(id)))
	}
}

// byID selects the element with id; ids may hold characters a CSS selector would need escaped ("@").
func byID(id string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`document.getElementById(%q)`, id))
}

// choose sets a select element's or a date input's value.
func (b *browser) choose(id, value string) {
	b.t.Helper()
	got := eval[string](b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event("change", {bubbles: true})); return e.value })()`, id, value))
	if got != value {
		b.t.Fatalf("select %s has no option %q", id, value)
	}
}

// press clicks the button or link whose visible text is text, waits for the
// next page to load, and checks it.
func (b *browser) press(text string) {
	b.t.Helper()
	// The page's own buttons and links first, then the header's.
	sel := fmt.Sprintf(`//main//button[normalize-space()=%q] | //main//a[normalize-space()=%q]`, text, text)
	if !eval[bool](b, fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue !== null`, sel)) {
		sel = fmt.Sprintf(`//button[normalize-space()=%q] | //a[normalize-space()=%q]`, text, text)
	}
	b.run(
		discard(chromedp.Evaluate[bool](`window.__delingOld = true`)),
		chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible),
	)
	b.waitForNewPage()
	b.check()
}

// waitForNewPage waits until the document that set window.__delingOld is
// replaced and the new one has loaded. Evaluations fail while the old
// document's context goes away; they are retried.
func (b *browser) waitForNewPage() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__delingOld === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("browser: no new page after 30 s (at %s)", b.location())
}

// text is the visible text of the page's main content.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
	return s
}

// sees fails the test unless the main content shows every one of want.
func (b *browser) sees(want ...string) {
	b.t.Helper()
	got := b.text()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("the page at %s does not show %q; it shows:\n%s", b.location(), w, got)
		}
	}
}

// doesNotSee fails the test if the main content shows any of these.
func (b *browser) doesNotSee(unwanted ...string) {
	b.t.Helper()
	got := b.text()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			b.t.Fatalf("the page at %s shows %q", b.location(), w)
		}
	}
}

// a11yScript lists what makes a page hard to use with assistive technology:
// the checks WCAG 2.1 AA needs that a page's markup alone can fail.
const a11yScript = `(() => {
  const p = [];
  if (!document.documentElement.lang) p.push("no lang on <html>");
  if (!document.title.trim()) p.push("no <title>");
  const h1 = document.querySelectorAll("h1");
  if (h1.length !== 1) p.push(h1.length + " h1 elements");
  let last = 0;
  document.querySelectorAll("main h1, main h2, main h3, main h4").forEach(h => {
    const n = +h.tagName[1];
    if (last && n > last + 1) p.push("heading " + h.tagName + " '" + h.textContent.trim() + "' skips a level");
    last = n;
  });
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(el => {
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) p.push("unlabelled " + el.tagName.toLowerCase() + " name=" + el.name);
  });
  document.querySelectorAll("button, a[href]").forEach(el => {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) p.push("a " + el.tagName.toLowerCase() + " without text");
  });
  document.querySelectorAll("img").forEach(el => { if (!el.hasAttribute("alt")) p.push("img without alt"); });
  const ids = {};
  document.querySelectorAll("[id]").forEach(el => { if (ids[el.id]) p.push("duplicate id " + el.id); ids[el.id] = 1; });
  document.querySelectorAll("table").forEach(t => { if (!t.querySelector("th")) p.push("table without headers"); });
  if (!document.querySelector("a.ds-skip-link[href='#innhold']")) p.push("no skip link");
  return p;
})()`

// check runs the accessibility checks on the page shown, and saves a screenshot when asked.
func (b *browser) check() {
	b.t.Helper()
	problems := eval[[]string](b, a11yScript)
	if len(problems) > 0 {
		b.t.Fatalf("accessibility problems at %s: %s", b.location(), strings.Join(problems, "; "))
	}
}

// screenshot saves the page as DIR/name.png when DELING_SCREENSHOTS=DIR.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("DELING_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// discard makes an action's value go away, to run it among others.
func discard[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// signIn signs in through the sign-in page.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.open("/logg-inn")
	b.fill("epost", email)
	b.fill("passord", testPassword)
	b.press("Logg inn")
	b.sees("Min side")
}

// signOut signs out with the header's button.
func (b *browser) signOut() {
	b.t.Helper()
	b.press("Logg ut")
	b.sees("Logg inn")
}

// Browsers in the shared Chromium do not share cookies or storage: a test
// that signs in cannot leak its session into the next.
func TestBrowsersAreIsolated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>t</title><body>t</body>")
	}))
	defer srv.Close()
	first := newBrowser(t, srv.URL)
	first.run(chromedp.Navigate(srv.URL + "/"))
	if got := eval[string](first, `document.cookie = "sesjon=1"; localStorage.setItem("k", "v"); document.cookie`); got != "sesjon=1" {
		t.Fatalf("first browser's cookie: %q", got)
	}
	second := newBrowser(t, srv.URL)
	second.run(chromedp.Navigate(srv.URL + "/"))
	if got := eval[string](second, `document.cookie + "|" + (localStorage.getItem("k") || "")`); got != "|" {
		t.Fatalf("second browser sees the first's cookie or storage: %q", got)
	}
}
