package portal

import (
	"net/http"

	"deling/internal/governance"
)

// route is one line of the route table.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable is every route of the portal: public pages, sign-in, and every
// page and form behind it, each signed-in route with the guard that decides
// who may see it (deny by default).
func (s *Server) routeTable() []route {
	f := func(p string, h http.HandlerFunc) route { return route{p, h} }
	var (
		applicant     = member(governance.Administrator, governance.Rolleinnehaver)
		consumer      = applicant
		manage        = applicant
		extracts      = member(governance.Administrator, governance.Utvikler)
		looker        = member(governance.Oppslagsbruker)
		caseWorker    = staff(governance.Saksbehandler)
		reader        = staff(governance.Saksbehandler, governance.Personvernombud)
		forvalter     = staff(governance.Forvalter)
		publishers    = staff(governance.Forvalter, governance.Saksbehandler)
		registerStaff = staff(governance.Saksbehandler, governance.Forvalter, governance.Personvernombud)
	)
	return []route{
		// Public pages (pages.go).
		f("GET /{$}", s.start),
		f("GET /static/", s.static),
		f("GET /utvikler", s.developer), // the API for developers, with the OpenAPI viewer (issue 16, item 12)

		// Sign-in and the visitor's own page (portal.go).
		f("GET /logg-inn", s.signInForm),
		f("POST /logg-inn", s.signIn),
		f("POST /logg-ut", s.signOut),
		f("POST /velg-virksomhet", s.signedIn(signedInOnly, s.chooseOrg)),
		f("GET /portal", s.signedIn(signedInOnly, s.home)),

		// Søknader, case handling, vedtak, grants (portal_applications.go; issue 5, items 2–3).
		f("GET /portal/soknader", s.signedIn(applicant, s.applicationList)),
		f("GET /portal/soknader/ny", s.signedIn(applicant, s.applicationNew)),
		f("POST /portal/soknader/ny", s.signedIn(applicant, s.applicationCreate)),
		f("GET /portal/soknader/{id}", s.signedIn(applicant, s.applicationPage)),
		f("POST /portal/soknader/{id}", s.signedIn(applicant, s.applicationSave)),
		f("POST /portal/soknader/{id}/signer", s.signedIn(applicant, s.applicationSign)),
		f("POST /portal/soknader/{id}/endre", s.signedIn(applicant, s.applicationAmend)),
		f("GET /portal/tilganger", s.signedIn(member(governance.Administrator, governance.Rolleinnehaver, governance.Utvikler, governance.Databehandler), s.grantsPage)),
		f("POST /portal/tilganger/{id}/integrasjonstest", s.signedIn(applicant, s.confirmIntegrationTest)),
		f("GET /portal/saker", s.signedIn(reader, s.caseQueue)),
		f("GET /portal/saker/{id}", s.signedIn(reader, s.casePage)),
		f("POST /portal/saker/{id}/ta", s.signedIn(caseWorker, s.caseTake)),
		f("POST /portal/saker/{id}/sporsmal", s.signedIn(caseWorker, s.caseAsk)),
		f("POST /portal/saker/{id}/godkjenn", s.signedIn(caseWorker, s.caseApprove)),
		f("POST /portal/saker/{id}/avslag", s.signedIn(caseWorker, s.caseRefuse)),
		f("POST /portal/saker/{id}/produksjon", s.signedIn(caseWorker, s.caseApproveProduction)),
		f("GET /portal/vedtak/{id}", s.signedIn(anyOf(applicant, reader), s.decisionPage)),
		f("GET /portal/vedtak/{id}/last-ned", s.signedIn(anyOf(applicant, reader), s.decisionDownload)),

		// Bruksvilkår and delingsvilkår, acceptance, objections (portal_terms.go; issue 5, item 4).
		f("GET /vilkar", s.termsPublic),
		f("GET /portal/vilkar", s.signedIn(consumer, s.termsConsumer)),
		f("POST /portal/vilkar/{id}/godta", s.signedIn(consumer, s.acceptTerms)),
		f("GET /portal/vilkar/{id}/innsigelse", s.signedIn(consumer, s.objectionForm)),
		f("POST /portal/vilkar/{id}/innsigelse", s.signedIn(consumer, s.objectToTerms)),
		f("GET /portal/forvalter/vilkar", s.signedIn(forvalter, s.termsAdmin)),
		f("POST /portal/forvalter/vilkar", s.signedIn(forvalter, s.publishTerms)),
		f("GET /portal/innsigelser", s.signedIn(caseWorker, s.objectionQueue)),
		f("GET /portal/innsigelser/{id}", s.signedIn(caseWorker, s.objectionCase)),
		f("POST /portal/innsigelser/{id}", s.signedIn(caseWorker, s.resolveObjection)),

		// Driftsmeldinger as a page, an Atom feed and e-mail (portal_notices.go; issue 5, item 6).
		// Public: no sign-in (Rule AA-20: a channel every consumer can follow).
		f("GET /driftsmeldinger", s.noticesPage),
		f("GET /driftsmeldinger.atom", s.noticesAtom),
		f("GET /portal/forvalter/meldinger", s.signedIn(publishers, s.noticeAdmin)),
		f("POST /portal/forvalter/meldinger", s.signedIn(publishers, s.publishNotice)),

		// Contacts, users and their review, suspension, termination, Enhetsregisteret (portal_consumers.go; issue 5, item 5).
		// Rule AA-06: contact persons.
		f("GET /portal/kontakter", s.signedIn(manage, s.contactList)),
		f("POST /portal/kontakter", s.signedIn(manage, s.addContact)),
		f("GET /portal/kontakter/{id}", s.signedIn(manage, s.contactEdit)),
		f("POST /portal/kontakter/{id}", s.signedIn(manage, s.changeContact)),
		f("POST /portal/kontakter/{id}/fjern", s.signedIn(manage, s.removeContact)),
		// Rule AA-27: users and their review.
		f("GET /portal/brukere", s.signedIn(manage, s.userList)),
		f("POST /portal/brukere", s.signedIn(manage, s.addUser)),
		f("GET /portal/brukere/{id}", s.signedIn(manage, s.userDetail)),
		f("POST /portal/brukere/{id}/bekreft", s.signedIn(manage, s.confirmUser)),
		f("POST /portal/brukere/{id}/fjern", s.signedIn(manage, s.removeUserRole)),
		f("GET /aktiver/{token}", s.activationForm),
		f("POST /aktiver/{token}", s.activate),
		// Rule AA-25: the register's side.
		f("GET /portal/konsumenter", s.signedIn(registerStaff, s.consumerList)),
		f("GET /portal/konsumenter/{orgnr}", s.signedIn(registerStaff, s.consumerDetail)),
		f("POST /portal/konsumenter/{orgnr}/suspender", s.signedIn(caseWorker, s.suspendConsumer)),
		f("POST /portal/konsumenter/{orgnr}/gjenoppta", s.signedIn(caseWorker, s.resumeConsumer)),
		f("GET /portal/brev", s.signedIn(manage, s.letterList)),
		// Rule AA-26: ending.
		f("GET /portal/avslutt", s.signedIn(member(governance.Rolleinnehaver), s.terminationForm)),
		f("POST /portal/avslutt", s.signedIn(member(governance.Rolleinnehaver), s.terminate)),
		f("GET /portal/forvalter/enhetsregisteret", s.signedIn(forvalter, s.enhetsregisteret)),
		f("POST /portal/forvalter/enhetsregisteret", s.signedIn(forvalter, s.uploadEnhetsregisteret)),

		// A person's consents (portal_consent.go; issue 5, item 7, Rule SK-08).
		f("GET /portal/samtykker", s.signedIn(personOnly, s.consents)),
		f("POST /portal/samtykker", s.signedIn(personOnly, s.giveConsent)),
		f("POST /portal/samtykker/{id}/trekk", s.signedIn(personOnly, s.withdrawConsent)),

		// Insight into the lookup log (portal_insight.go; Rule AA-17).
		f("GET /portal/innsyn", s.signedIn(personOnly, s.myInsight)),
		f("GET /portal/innsyn/kvittering/{index}", s.signedIn(personOnly, s.myReceipt)),
		f("GET /portal/innsyn/person", s.signedIn(reader, s.staffInsightForm)),
		f("POST /portal/innsyn/person", s.signedIn(reader, s.staffInsight)),
		f("GET /portal/oppslagslogg", s.signedIn(manage, s.ownLog)),
		f("GET /portal/oppslagslogg/last-ned", s.signedIn(manage, s.ownLogDownload)),

		// Web lookup (portal_lookup.go; Rules AA-04, AA-11, AA-16).
		f("GET /portal/oppslag", s.signedIn(looker, s.lookupPage)),
		f("POST /portal/oppslag", s.signedIn(looker, s.lookupSearch)),
		f("POST /portal/oppslag/vilkar", s.signedIn(looker, s.lookupTerms)),

		// Breaches (portal_incidents.go; issue 12, Rules AV-01..AV-07, AA-21, DPA-08).
		// Public: anyone reports without an account, and follows the report with its reference.
		f("GET /avvik", s.publicReportForm),
		f("POST /avvik", s.publicReport),
		f("GET /avvik/mottatt", s.publicReceived),
		f("GET /avvik/folg", s.publicFollowForm),
		f("POST /avvik/folg", s.publicFollow),
		f("GET /portal/avvik", s.signedIn(signedInOnly, s.incidentList)),
		f("GET /portal/avvik/ny", s.signedIn(signedInOnly, s.incidentNew)),
		f("POST /portal/avvik/ny", s.signedIn(signedInOnly, s.incidentReport)),
		f("GET /portal/avvik/{id}", s.signedIn(signedInOnly, s.incidentPage)),
		f("POST /portal/avvik/{id}/ta", s.signedIn(reader, s.incidentTake)),
		f("POST /portal/avvik/{id}/tiltak", s.signedIn(reader, s.incidentMeasure)),
		f("POST /portal/avvik/{id}/risiko", s.signedIn(reader, s.incidentAssess)),
		f("POST /portal/avvik/{id}/beslutning", s.signedIn(reader, s.incidentDecide)),
		f("POST /portal/avvik/{id}/melding", s.signedIn(reader, s.incidentFile)),
		f("GET /portal/avvik/{id}/melding/last-ned", s.signedIn(reader, s.incidentDocument)),
		f("POST /portal/avvik/{id}/lukk", s.signedIn(reader, s.incidentClose)),
		// Who was affected, from the lookup log (portal_affected.go; issue 12 item 6, Rules AV-05, AA-16, AA-22).
		f("POST /portal/avvik/{id}/berorte", s.signedIn(reader, s.incidentAffected)),
		f("GET /portal/avvik/{id}/berorte/{beregning}", s.signedIn(reader, s.incidentAffectedPage)),
		f("GET /portal/avvik/{id}/berorte/{beregning}/last-ned", s.signedIn(reader, s.incidentAffectedDownload)),

		// The consumer's extract jobs (portal_extract.go; issue 6, item 3).
		f("GET /portal/uttrekk", s.signedIn(extracts, s.extractPage)),
		f("GET /portal/uttrekk/jobber", s.signedIn(extracts, s.extractJobsFragment)),
		f("POST /portal/uttrekk", s.signedIn(extracts, s.extractOrder)),
		f("GET /portal/uttrekk/{jobbid}/batch/{n}", s.signedIn(extracts, s.extractPortalBatch)),
		f("POST /portal/uttrekk/{jobbid}/slett", s.signedIn(extracts, s.extractPortalDelete)),
	}
}
