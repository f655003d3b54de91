package web

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Issue 16, item 12: Swagger UI renders the API's operations from
// /api/openapi.json on the developer page, under the page's
// Content-Security-Policy (script-src 'self', style-src 'self'), with no
// violation or error in the console.
func TestBrowserAPIDoc(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h.srv.URL)
	var (
		mu       sync.Mutex
		problems []string
	)
	if err := chromedp.Listen(b.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			// The browser asks for /favicon.ico by itself; deling has none.
			if (ev.Entry.Level == log.EntryLevelError && !strings.HasSuffix(ev.Entry.URL, "/favicon.ico")) || strings.Contains(ev.Entry.Text, "Content Security Policy") {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text+" "+ev.ExceptionDetails.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}

	b.open("/utvikler")
	b.sees("API for utviklere", "Tilgangstoken", "POST /token", "Nav-Personident")
	// The viewer has rendered the document's operations.
	deadline := time.Now().Add(30 * time.Second)
	for !eval[bool](b, `(() => { const v = document.querySelector("#api-visning .swagger-ui"); return !!v && v.querySelectorAll(".opblock").length > 10 })()`) {
		if time.Now().After(deadline) {
			t.Fatalf("Swagger UI rendered no operations; the viewer shows: %s", eval[string](b, `document.getElementById("api-visning").innerText`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.sees("/api/v2/arbeidstaker/arbeidsforhold", "/api/v2/uttrekk", "/audit/checkpoint", "Nav-Personident")
	// The operations' styles come from swagger-ui.css: a blocked style sheet would leave them unstyled.
	if c := eval[string](b, `getComputedStyle(document.querySelector(".opblock-get")).borderTopColor`); c == "rgb(0, 0, 0)" || c == "" {
		t.Errorf("Swagger UI is unstyled: border %q", c)
	}
	b.check()
	b.screenshot("utvikler")
	time.Sleep(200 * time.Millisecond) // late console messages
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console on /utvikler:\n%s", strings.Join(problems, "\n"))
	}
}
