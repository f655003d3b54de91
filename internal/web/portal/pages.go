package portal

import (
	"embed"
	"errors"
	"net/http"

	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// templateFiles are the portal's own pages, parsed with the site's layout and the features' (New).
//
//go:embed templates/*.html
var templateFiles embed.FS

// startPage is what the start page shows.
type startPage struct {
	site.Frame
	Counts store.Counts
	// CountsUnavailable: the register could not be counted now.
	CountsUnavailable bool
	LogSize           uint64
	CheckpointSize    uint64
	HasCheckpoint     bool
}

// start answers GET /: what deling is and where its interfaces are, in Norwegian.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	v, err := s.LoadVisitor(r)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p := startPage{Frame: s.Frame(r, v, "Aa-registeret")}
	// A read replica down or behind (register.ErrUnavailable) leaves the counts out, not the page.
	if p.Counts, err = s.DB.Count(r.Context()); errors.Is(err, register.ErrUnavailable) {
		p.CountsUnavailable = true
	} else if err != nil {
		s.PageError(w, r, err)
		return
	}
	if p.LogSize, err = s.DB.LogSize(r.Context()); err != nil {
		s.PageError(w, r, err)
		return
	}
	switch size, _, err := s.DB.LatestCheckpoint(r.Context()); {
	case err == nil:
		p.CheckpointSize, p.HasCheckpoint = size, true
	case !errors.Is(err, store.ErrNotFound):
		s.PageError(w, r, err)
		return
	}
	s.Render(w, r, "start.html", p)
}

// developerPage is what the developer page shows besides its frame.
type developerPage struct {
	site.Frame
	Scope string
}

// developer answers GET /utvikler: the API for developers, in Norwegian — how
// to get a client, the token flow with examples that run on the demo,
// identifiers in headers, problems — and the OpenAPI document rendered by
// Swagger UI (static/apidok.js). Without JavaScript the text and the link to
// /api/openapi.json are the page.
func (s *Server) developer(w http.ResponseWriter, r *http.Request) {
	v, err := s.LoadVisitor(r)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Render(w, r, "utvikler.html", developerPage{Frame: s.Frame(r, v, "API for utviklere"), Scope: s.apiScope})
}
