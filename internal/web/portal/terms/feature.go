package terms

import (
	"context"
	"embed"
	"io/fs"
	"net/http"

	"deling/internal/governance"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Feature is the terms and notice pages. Build one with New.
type Feature struct {
	*site.Site
	rules governance.Settings
	// deprecationsChanged is called after a published notice that may change the API's deprecation headers.
	deprecationsChanged func(context.Context)
}

// New makes the terms and notice pages on st, with the rules' numbers
// (zero fields take the defaults) and deprecationsChanged (nil for none).
func New(st *site.Site, rules governance.Settings, deprecationsChanged func(context.Context)) *Feature {
	if deprecationsChanged == nil {
		deprecationsChanged = func(context.Context) {}
	}
	return &Feature{Site: st, rules: rules.WithDefaults(), deprecationsChanged: deprecationsChanged}
}

// Templates are the terms and notice pages' templates (vilkar*, innsigelse*, melding*).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Routes are the terms and notice pages, each signed-in route with its guard (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	var (
		consumer   = site.Member(governance.Administrator, governance.Rolleinnehaver)
		forvalter  = site.Staff(governance.Forvalter)
		caseWorker = site.Staff(governance.Saksbehandler)
		publishers = site.Staff(governance.Forvalter, governance.Saksbehandler)
	)
	return []site.Route{
		// Bruksvilkår and delingsvilkår, acceptance, objections (terms.go; issue 5, item 4).
		f("GET /vilkar", s.termsPublic),
		f("GET /portal/vilkar", s.SignedIn(consumer, s.termsConsumer)),
		f("POST /portal/vilkar/{id}/godta", s.SignedIn(consumer, s.acceptTerms)),
		f("GET /portal/vilkar/{id}/innsigelse", s.SignedIn(consumer, s.objectionForm)),
		f("POST /portal/vilkar/{id}/innsigelse", s.SignedIn(consumer, s.objectToTerms)),
		f("GET /portal/forvalter/vilkar", s.SignedIn(forvalter, s.termsAdmin)),
		f("POST /portal/forvalter/vilkar", s.SignedIn(forvalter, s.publishTerms)),
		f("GET /portal/innsigelser", s.SignedIn(caseWorker, s.objectionQueue)),
		f("GET /portal/innsigelser/{id}", s.SignedIn(caseWorker, s.objectionCase)),
		f("POST /portal/innsigelser/{id}", s.SignedIn(caseWorker, s.resolveObjection)),

		// Driftsmeldinger as a page, an Atom feed and e-mail (notices.go; issue 5, item 6).
		// Public: no sign-in (Rule AA-20: a channel every consumer can follow).
		f("GET /driftsmeldinger", s.noticesPage),
		f("GET /driftsmeldinger.atom", s.noticesAtom),
		f("GET /portal/forvalter/meldinger", s.SignedIn(publishers, s.noticeAdmin)),
		f("POST /portal/forvalter/meldinger", s.SignedIn(publishers, s.publishNotice)),
	}
}
