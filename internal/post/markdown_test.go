package post

import (
	"strings"
	"sync"
	"testing"
)

func TestRenderBodySafe(t *testing.T) {
	r := NewRenderer()
	for _, tc := range []struct {
		name    string
		body    string
		want    []string
		notWant []string
	}{
		{"markdown", "# Vedtak\n\n**Innvilget** og *godt*.", []string{"<h1>Vedtak</h1>", "<strong>Innvilget</strong>"}, nil},
		{"script block", "<script>alert(1)</script>", nil, []string{"<script", "alert(1)</script>"}},
		{"inline html", "Hei <img src=x onerror=alert(1)> du", nil, []string{"<img", "onerror"}},
		{"iframe", "<iframe src=\"https://evil\"></iframe>", nil, []string{"<iframe"}},
		{"https link kept", "[vedtak](https://deling.example/v)", []string{`<a href="https://deling.example/v" rel="noopener noreferrer nofollow">vedtak</a>`}, nil},
		{"mailto link kept", "[skriv](mailto:post@etaten.no)", []string{`href="mailto:post@etaten.no"`}, nil},
		{"javascript link dropped", "[klikk](javascript:alert(1))", []string{"klikk"}, []string{"href", "javascript"}},
		{"data link dropped", "[klikk](data:text/html;base64,PHNjcmlwdD4=)", []string{"klikk"}, []string{"href"}},
		{"relative link dropped", "[klikk](/admin)", []string{"klikk"}, []string{"href"}},
		{"autolink javascript", "<javascript:alert(1)>", []string{"javascript:alert(1)"}, []string{"href"}},
		{"autolink https", "<https://altinn.no>", []string{`href="https://altinn.no"`}, nil},
		{"autolink email", "<post@etaten.no>", []string{`href="mailto:post@etaten.no"`}, nil},
		{"image to alt text", "![logo <b>](https://tracker.example/p.png)", []string{"logo"}, []string{"<img", "tracker", "<b>"}},
		{"escaped text", "5 < 6 & \"x\"", []string{"5 &lt; 6 &amp; &quot;x&quot;"}, nil},
		{"attribute break-out in link", `[x](https://a.no/"onmouseover="alert(1))`, nil, []string{`"onmouseover`}},
		{"link text with html", "[<b>x</b>](https://a.no)", nil, []string{"<b>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Render(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(got), w) {
					t.Errorf("%q has %q", got, w)
				}
			}
		})
	}
}

func TestRendererConcurrent(t *testing.T) {
	r := NewRenderer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := r.Render("[a](javascript:x) **b** <i>c</i>"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func TestHasRawHTML(t *testing.T) {
	for body, want := range map[string]bool{
		"plain *markdown*":      false,
		"a < b and c > d":       false,
		"`<code>` in code":      false,
		"    <indented code>":   false,
		"<div>block</div>":      true,
		"inline <span>x</span>": true,
		"<!-- comment -->":      true,
	} {
		if got := HasRawHTML(body); got != want {
			t.Errorf("HasRawHTML(%q) = %v, want %v", body, got, want)
		}
	}
}

// Plain text as Markdown renders as the very text, line by line.
func TestPlainText(t *testing.T) {
	r := NewRenderer()
	for in, want := range map[string]string{
		"# Ikke overskrift\n*ikke kursiv* <b>x</b> &amp; 1. a": "<p># Ikke overskrift<br>\n*ikke kursiv* &lt;b&gt;x&lt;/b&gt; &amp;amp; 1. a</p>\n",
		"a\nb\n\n    c":                      "<p>a<br>\nb</p>\n<p>c</p>\n",
		"<https://x.example> [l](https://y)": "<p>&lt;https://x.example&gt; [l](https://y)</p>\n",
		"slutt\\":                            "<p>slutt\\</p>\n",
	} {
		got, err := r.Render(PlainText(in))
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, want %q (%v)", in, got, want, err)
		}
	}
}
