package portal

import (
	"net/http"

	"deling/internal/governance"
	"deling/internal/web/portal/applications"
	"deling/internal/web/portal/breach"
	"deling/internal/web/portal/clients"
	"deling/internal/web/portal/dpa"
	"deling/internal/web/portal/openid"
	"deling/internal/web/portal/post"
	"deling/internal/web/portal/site"
	"deling/internal/web/portal/staff"
	"deling/internal/web/portal/terms"
)

// features are the parts of the portal in packages of their own, each built
// from the site and what else it needs. Add a feature here, and its menu
// entries to navigation.
func features(st *site.Site, cfg Config, oid *openid.Feature) []site.Feature {
	return []site.Feature{
		applications.New(st, cfg.Catalogue),                    // søknader, case handling, vedtak, grants (issue 5, items 2–3)
		terms.New(st, cfg.Governance, cfg.DeprecationsChanged), // terms, objections, driftsmeldinger (issue 5, items 4 and 6)
		breach.New(st, cfg.Shared),                             // breaches, /avvik and /portal/avvik (issue 12, Rules AV-01..AV-08, AA-21, AA-22, DPA-08)
		dpa.New(st, cfg.Catalogue),                             // data processing agreements and delegations under them (issue 13, Rules DPA-01..DPA-11, SK-04)
		post.New(st),                                           // digital post: inbox, Post/Arkiv, senders (issue 14, Rules DPV-01..DPV-11)
		clients.New(st),                                        // API clients by public key or certificate (issue 16, item 5)
		staff.New(st),                                          // the register's staff accounts, managed by the forvalter (issue 16, item 5)
		oid,                                                    // sign-in with OpenID Connect: ID-porten, the staff's provider (issue 16, item 6)
	}
}

// routeTable is every route of the portal: public pages, sign-in, and every
// page and form behind it, each signed-in route with the guard that decides
// who may see it (deny by default); then every feature's own (features).
func (s *Server) routeTable() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	var (
		manage        = site.Member(governance.Administrator, governance.Rolleinnehaver)
		extracts      = site.Member(governance.Administrator, governance.Utvikler)
		looker        = site.Member(governance.Oppslagsbruker)
		caseWorker    = site.Staff(governance.Saksbehandler)
		reader        = site.Staff(governance.Saksbehandler, governance.Personvernombud)
		forvalter     = site.Staff(governance.Forvalter)
		registerStaff = site.Staff(governance.Saksbehandler, governance.Forvalter, governance.Personvernombud)
	)
	routes := []site.Route{
		// Public pages (pages.go).
		f("GET /{$}", s.start),
		f("GET /static/", s.Static),
		f("GET /utvikler", s.developer), // the API for developers, with the OpenAPI viewer (issue 16, item 12)

		// Sign-in and the visitor's own page (portal.go).
		f("GET /logg-inn", s.signInForm),
		f("POST /logg-inn", s.signIn),
		f("POST /logg-ut", s.signOut),
		f("POST /velg-virksomhet", s.SignedIn(site.SignedInOnly, s.chooseOrg)),
		f("GET /portal", s.SignedIn(site.SignedInOnly, s.home)),
		f("GET "+site.PasswordPath, s.SignedIn(site.SignedInOnly, s.passwordForm)),
		f("POST "+site.PasswordPath, s.SignedIn(site.SignedInOnly, s.changePassword)),

		// Contacts, users and their review, suspension, termination, Enhetsregisteret (portal_consumers.go; issue 5, item 5).
		// Rule AA-06: contact persons.
		f("GET /portal/kontakter", s.SignedIn(manage, s.contactList)),
		f("POST /portal/kontakter", s.SignedIn(manage, s.addContact)),
		f("GET /portal/kontakter/{id}", s.SignedIn(manage, s.contactEdit)),
		f("POST /portal/kontakter/{id}", s.SignedIn(manage, s.changeContact)),
		f("POST /portal/kontakter/{id}/fjern", s.SignedIn(manage, s.removeContact)),
		// Rule AA-27: users and their review.
		f("GET /portal/brukere", s.SignedIn(manage, s.userList)),
		f("POST /portal/brukere", s.SignedIn(manage, s.addUser)),
		f("GET /portal/brukere/{id}", s.SignedIn(manage, s.userDetail)),
		f("POST /portal/brukere/{id}/bekreft", s.SignedIn(manage, s.confirmUser)),
		f("POST /portal/brukere/{id}/fjern", s.SignedIn(manage, s.removeUserRole)),
		f("GET /aktiver/{token}", s.activationForm),
		f("POST /aktiver/{token}", s.activate),
		// Rule AA-25: the register's side.
		f("GET /portal/konsumenter", s.SignedIn(registerStaff, s.consumerList)),
		f("GET /portal/konsumenter/{orgnr}", s.SignedIn(registerStaff, s.consumerDetail)),
		f("POST /portal/konsumenter/{orgnr}/suspender", s.SignedIn(caseWorker, s.suspendConsumer)),
		f("POST /portal/konsumenter/{orgnr}/gjenoppta", s.SignedIn(caseWorker, s.resumeConsumer)),
		f("GET /portal/brev", s.SignedIn(manage, s.letterList)),
		// Rule AA-26: ending.
		f("GET /portal/avslutt", s.SignedIn(site.Member(governance.Rolleinnehaver), s.terminationForm)),
		f("POST /portal/avslutt", s.SignedIn(site.Member(governance.Rolleinnehaver), s.terminate)),
		f("GET /portal/forvalter/enhetsregisteret", s.SignedIn(forvalter, s.enhetsregisteret)),
		f("POST /portal/forvalter/enhetsregisteret", s.SignedIn(forvalter, s.uploadEnhetsregisteret)),

		// A person's consents (portal_consent.go; issue 5, item 7, Rule SK-08).
		f("GET /portal/samtykker", s.SignedIn(site.PersonOnly, s.consents)),
		f("POST /portal/samtykker", s.SignedIn(site.PersonOnly, s.giveConsent)),
		f("POST /portal/samtykker/{id}/trekk", s.SignedIn(site.PersonOnly, s.withdrawConsent)),

		// Insight into the lookup log (portal_insight.go; Rule AA-17).
		f("GET /portal/innsyn", s.SignedIn(site.PersonOnly, s.myInsight)),
		f("GET /portal/innsyn/kvittering/{index}", s.SignedIn(site.PersonOnly, s.myReceipt)),
		f("GET /portal/innsyn/person", s.SignedIn(reader, s.staffInsightForm)),
		f("POST /portal/innsyn/person", s.SignedIn(reader, s.staffInsight)),
		f("GET /portal/oppslagslogg", s.SignedIn(manage, s.ownLog)),
		f("GET /portal/oppslagslogg/last-ned", s.SignedIn(manage, s.ownLogDownload)),

		// Web lookup (portal_lookup.go; Rules AA-04, AA-11, AA-16).
		f("GET /portal/oppslag", s.SignedIn(looker, s.lookupPage)),
		f("POST /portal/oppslag", s.SignedIn(looker, s.lookupSearch)),
		f("POST /portal/oppslag/vilkar", s.SignedIn(looker, s.lookupTerms)),

		// The consumer's extract jobs (portal_extract.go; issue 6, item 3).
		f("GET /portal/uttrekk", s.SignedIn(extracts, s.extractPage)),
		f("GET /portal/uttrekk/jobber", s.SignedIn(extracts, s.extractJobsFragment)),
		f("POST /portal/uttrekk", s.SignedIn(extracts, s.extractOrder)),
		f("GET /portal/uttrekk/{jobbid}/batch/{n}", s.SignedIn(extracts, s.extractPortalBatch)),
		f("POST /portal/uttrekk/{jobbid}/slett", s.SignedIn(extracts, s.extractPortalDelete)),
	}
	for _, ft := range s.features {
		routes = append(routes, ft.Routes()...)
	}
	return routes
}

// navigation is the portal's menu, in order: each entry shown to those its
// guard lets in (site.Frame). A feature's pages are listed here too.
var navigation = []site.NavEntry{
	{Label: "Min side", Path: "/portal", Guard: site.SignedInOnly},
	{Label: "Saksbehandling", Path: "/portal/saker", Guard: site.Staff(governance.Saksbehandler, governance.Personvernombud)},
	{Label: "Innsigelser", Path: "/portal/innsigelser", Guard: site.Staff(governance.Saksbehandler)},
	{Label: "Konsumenter", Path: "/portal/konsumenter", Guard: site.Staff(governance.Saksbehandler, governance.Forvalter, governance.Personvernombud)},
	{Label: "Vilkår", Path: "/portal/forvalter/vilkar", Guard: site.Staff(governance.Forvalter)},
	{Label: "Driftsmeldinger", Path: "/portal/forvalter/meldinger", Guard: site.Staff(governance.Forvalter, governance.Saksbehandler)},
	{Label: "Enhetsregisteret", Path: "/portal/forvalter/enhetsregisteret", Guard: site.Staff(governance.Forvalter)},
	{Label: "Ansatte", Path: staff.Base, Guard: staff.Guard},
	{Label: "Postavsendere", Path: "/portal/forvalter/post", Guard: site.Staff(governance.Forvalter)},
	{Label: "Post", Path: "/portal/post", Guard: post.Organisation},
	{Label: "Oppslag", Path: "/portal/oppslag", Guard: site.Member(governance.Oppslagsbruker)},
	{Label: "Uttrekk", Path: "/portal/uttrekk", Guard: site.Member(governance.Administrator, governance.Utvikler)},
	{Label: "API-klienter", Path: "/portal/klienter", Guard: site.Member(governance.Administrator, governance.Utvikler)},
	{Label: "Søknader", Path: "/portal/soknader", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Tilganger", Path: "/portal/tilganger", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver, governance.Utvikler, governance.Databehandler)},
	{Label: "Vilkår", Path: "/portal/vilkar", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Kontaktpersoner", Path: "/portal/kontakter", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Brukere", Path: "/portal/brukere", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Brev", Path: "/portal/brev", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Oppslagslogg", Path: "/portal/oppslagslogg", Guard: site.Member(governance.Administrator, governance.Rolleinnehaver)},
	{Label: "Innsyn for person", Path: "/portal/innsyn/person", Guard: site.Staff(governance.Personvernombud, governance.Saksbehandler)},
	{Label: "Innsyn", Path: "/portal/innsyn", Guard: site.PersonOnly},
	{Label: "Databehandleravtaler", Path: dpa.Base, Guard: dpa.Guard},
	{Label: "Avvik", Path: "/portal/avvik", Guard: site.SignedInOnly},
	{Label: "Varsler om avvik", Path: "/portal/avviksvarsler", Guard: site.PersonOnly},          // Rule AV-06
	{Label: "Brukerstøtte", Path: "/portal/support", Guard: breach.SupportMember},               // Rule AA-18
	{Label: "Brukerstøtte og drift", Path: "/portal/support/saker", Guard: breach.ServiceStaff}, // Rules AA-18, AA-19
	{Label: "Samtykker", Path: "/portal/samtykker", Guard: site.PersonOnly},
}
