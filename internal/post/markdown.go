package post

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// A message body is CommonMark (Altinn's messageBody). It is rendered with
// github.com/yuin/goldmark with raw HTML off: HTML in the body is dropped,
// never passed through, so a sender cannot put script or markup in front of
// the recipient. Links are kept only to http, https and mailto addresses, and
// get rel="noopener noreferrer nofollow"; images become their alt text, so
// that opening a letter loads nothing from elsewhere (no tracking pixels).

// Renderer renders message bodies. Build it once with NewRenderer and share
// it: rendering is safe for concurrent use.
type Renderer struct {
	md goldmark.Markdown
}

// NewRenderer is the body renderer: CommonMark, raw HTML off, links filtered.
func NewRenderer() *Renderer {
	md := goldmark.New(goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(linkFilter{}, 100)),
	))
	// goldmark's HTML renderer omits raw HTML unless html.WithUnsafe is set; it is not.
	return &Renderer{md: md}
}

// Render is the body as HTML that is safe to put in a page as it is.
func (r *Renderer) Render(body string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(body), &buf); err != nil {
		return "", fmt.Errorf("render body: %w", err)
	}
	return template.HTML(buf.String()), nil // #nosec: raw HTML is off and links are filtered
}

// AllowedLink reports whether a link destination may stay a link: an
// absolute http, https or mailto address.
func AllowedLink(dest string) bool {
	u, err := url.Parse(strings.TrimSpace(dest))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// HasRawHTML reports whether a Markdown body holds HTML (blocks or inline),
// which Altinn refuses as not Markdown (1003) and the renderer would drop.
func HasRawHTML(body string) bool {
	src := []byte(body)
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	found := false
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindHTMLBlock, ast.KindRawHTML:
			found = true
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return found
}

// linkFilter unwraps links to anything but http, https and mailto, turns
// images into their alt text, and marks the links it keeps.
type linkFilter struct{}

func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var unwrap, images []ast.Node
	var autolinks []*ast.AutoLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Link:
			if AllowedLink(string(v.Destination)) {
				v.SetAttributeString("rel", []byte("noopener noreferrer nofollow"))
			} else {
				unwrap = append(unwrap, v)
			}
		case *ast.Image:
			images = append(images, v)
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			dest := string(v.URL(src))
			if v.AutoLinkType == ast.AutoLinkEmail {
				dest = "mailto:" + dest
			}
			if !AllowedLink(dest) {
				autolinks = append(autolinks, v)
			} else {
				v.SetAttributeString("rel", []byte("noopener noreferrer nofollow"))
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unwrap {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
	for _, n := range images {
		alt := ast.NewString(altText(n, src))
		n.Parent().ReplaceChild(n.Parent(), n, alt)
	}
	for _, n := range autolinks {
		s := ast.NewString(n.URL(src))
		n.Parent().ReplaceChild(n.Parent(), n, s)
	}
}

// altText is the plain text of an image's description.
func altText(n ast.Node, src []byte) []byte {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := c.(type) {
		case *ast.Text:
			b.Write(v.Segment.Value(src))
		case *ast.String:
			b.Write(v.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.Bytes()
}

// PlainText is text as a Markdown body that renders as that very text: every
// ASCII punctuation character is escaped, so that nothing in it becomes a
// link, emphasis or heading, and each line break is kept as a hard break
// (blank lines stay paragraph breaks). Leading blanks are dropped, so that no
// line becomes code. The register's own letters are plain text, and may
// quote what other organisations wrote.
func PlainText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		for _, r := range strings.TrimLeft(l, " \t") {
			if r < 0x80 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		if i == len(lines)-1 {
			break
		}
		if strings.TrimSpace(l) != "" && strings.TrimSpace(lines[i+1]) != "" {
			b.WriteByte('\\') // a hard line break
		}
		b.WriteByte('\n')
	}
	return b.String()
}
