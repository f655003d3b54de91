package post

import (
	"embed"
	"io/fs"
	"net/http"

	"deling/internal/governance"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Feature is the digital post pages. Build one with New.
type Feature struct {
	*site.Site
}

// New makes the digital post pages on st.
func New(st *site.Site) *Feature { return &Feature{Site: st} }

// Templates are the pages' templates (post_*.html).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Organisation lets in whoever acts for an organisation other than the
// register: what they may read of its post is decided message by message
// (Rule DPV-03), and someone without Post/Arkiv sees an empty inbox.
func Organisation(v *site.Visitor) bool { return v.Org != "" && v.Org != governance.AuthorityOrg }

// Routes are the pages, each signed-in route with its guard (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	staff := site.Staff(governance.Forvalter)
	return []site.Route{
		// The organisation's post (inbox.go; Rules DPV-03, DPV-06).
		f("GET /portal/post", s.SignedIn(Organisation, s.inbox)),
		f("GET /portal/post/arkiv", s.SignedIn(Organisation, s.archive)),
		f("GET /portal/post/melding/{id}", s.SignedIn(Organisation, s.message)),
		f("POST /portal/post/melding/{id}/bekreft", s.SignedIn(Organisation, s.confirm)),
		f("GET /portal/post/melding/{id}/vedlegg/{vedlegg}", s.SignedIn(Organisation, s.attachment)),
		// Who may read it (access.go; Rule DPV-03).
		f("GET /portal/post/tilgang", s.SignedIn(Organisation, s.accessPage)),
		f("POST /portal/post/tilgang", s.SignedIn(Organisation, s.grant)),
		f("POST /portal/post/tilgang/{id}/trekk", s.SignedIn(Organisation, s.revoke)),
		// The register's senders (senders.go; Rules DPV-01, DPV-09, DPV-10, DPV-11).
		f("GET /portal/forvalter/post", s.SignedIn(staff, s.senders)),
		f("POST /portal/forvalter/post", s.SignedIn(staff, s.registerSender)),
		f("POST /portal/forvalter/post/{orgnr}/utmeld", s.SignedIn(staff, s.senderLeaves)),
	}
}
