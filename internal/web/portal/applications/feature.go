package applications

import (
	"embed"
	"io/fs"
	"net/http"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Feature is the application, case and grant pages. Build one with New.
type Feature struct {
	*site.Site
	catalogue *access.Catalogue // the packages (rettighetspakker) an application may ask for
}

// New makes the application, case and grant pages on st.
func New(st *site.Site, catalogue *access.Catalogue) *Feature {
	return &Feature{Site: st, catalogue: catalogue}
}

// Templates are the pages' templates (soknad*, sak*, vedtak, tilganger).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Routes are the application, case and grant pages, each with its guard (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	var (
		applicant  = site.Member(governance.Administrator, governance.Rolleinnehaver)
		caseWorker = site.Staff(governance.Saksbehandler)
		reader     = site.Staff(governance.Saksbehandler, governance.Personvernombud)
	)
	return []site.Route{
		// Søknader, case handling, vedtak, grants (issue 5, items 2–3).
		f("GET /portal/soknader", s.SignedIn(applicant, s.applicationList)),
		f("GET /portal/soknader/ny", s.SignedIn(applicant, s.applicationNew)),
		f("POST /portal/soknader/ny", s.SignedIn(applicant, s.applicationCreate)),
		f("GET /portal/soknader/{id}", s.SignedIn(applicant, s.applicationPage)),
		f("POST /portal/soknader/{id}", s.SignedIn(applicant, s.applicationSave)),
		f("POST /portal/soknader/{id}/signer", s.SignedIn(applicant, s.applicationSign)),
		f("POST /portal/soknader/{id}/endre", s.SignedIn(applicant, s.applicationAmend)),
		f("GET /portal/tilganger", s.SignedIn(site.Member(governance.Administrator, governance.Rolleinnehaver, governance.Utvikler, governance.Databehandler), s.grantsPage)),
		f("POST /portal/tilganger/{id}/integrasjonstest", s.SignedIn(applicant, s.confirmIntegrationTest)),
		f("GET /portal/saker", s.SignedIn(reader, s.caseQueue)),
		f("GET /portal/saker/{id}", s.SignedIn(reader, s.casePage)),
		f("POST /portal/saker/{id}/ta", s.SignedIn(caseWorker, s.caseTake)),
		f("POST /portal/saker/{id}/sporsmal", s.SignedIn(caseWorker, s.caseAsk)),
		f("POST /portal/saker/{id}/godkjenn", s.SignedIn(caseWorker, s.caseApprove)),
		f("POST /portal/saker/{id}/avslag", s.SignedIn(caseWorker, s.caseRefuse)),
		f("POST /portal/saker/{id}/produksjon", s.SignedIn(caseWorker, s.caseApproveProduction)),
		f("GET /portal/vedtak/{id}", s.SignedIn(site.AnyOf(applicant, reader), s.decisionPage)),
		f("GET /portal/vedtak/{id}/last-ned", s.SignedIn(site.AnyOf(applicant, reader), s.decisionDownload)),
	}
}
