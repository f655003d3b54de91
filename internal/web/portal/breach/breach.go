package breach

import (
	"embed"
	"io/fs"
	"net/http"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/web/channel"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Feature is the breach pages. Build one with New.
type Feature struct {
	*site.Site
	*channel.Shared // the lookup log's insight records (affected.go)
	// calendar is the Norwegian working calendar the service incidents' clocks run in (support.go, Rule AA-19).
	calendar *incident.Calendar
}

// New makes the breach pages on st.
func New(st *site.Site, shared *channel.Shared) *Feature {
	c, err := incident.NewCalendar(st.Oslo, incident.DefaultWorkStart, incident.DefaultWorkEnd)
	if err != nil {
		panic(err) // only without a location, which site.New refuses
	}
	return &Feature{Site: st, Shared: shared, calendar: c}
}

// Templates are the breach pages' templates (avvik*.html).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Routes are the breach pages, each signed-in route with its guard (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	reader := site.Staff(governance.Saksbehandler, governance.Personvernombud) // the register's case workers and DPO
	return []site.Route{
		// Public: anyone reports without an account, and follows the report with its reference (Rule AV-01).
		f("GET /avvik", s.publicReportForm),
		f("POST /avvik", s.publicReport),
		f("GET /avvik/mottatt", s.publicReceived),
		f("GET /avvik/folg", s.publicFollowForm),
		f("POST /avvik/folg", s.publicFollow),
		f("GET /portal/avvik", s.SignedIn(site.SignedInOnly, s.incidentList)),
		f("GET /portal/avvik/ny", s.SignedIn(site.SignedInOnly, s.incidentNew)),
		f("POST /portal/avvik/ny", s.SignedIn(site.SignedInOnly, s.incidentReport)),
		f("GET /portal/avvik/{id}", s.SignedIn(site.SignedInOnly, s.incidentPage)),
		f("POST /portal/avvik/{id}/ta", s.SignedIn(reader, s.incidentTake)),
		f("POST /portal/avvik/{id}/tiltak", s.SignedIn(reader, s.incidentMeasure)),
		f("POST /portal/avvik/{id}/risiko", s.SignedIn(reader, s.incidentAssess)),
		f("POST /portal/avvik/{id}/beslutning", s.SignedIn(reader, s.incidentDecide)),
		f("POST /portal/avvik/{id}/melding", s.SignedIn(reader, s.incidentFile)),
		f("GET /portal/avvik/{id}/melding/last-ned", s.SignedIn(reader, s.incidentDocument)),
		f("POST /portal/avvik/{id}/lukk", s.SignedIn(reader, s.incidentClose)),
		// Who was affected, from the lookup log (affected.go; issue 12 item 6, Rules AV-05, AA-16, AA-22).
		f("POST /portal/avvik/{id}/berorte", s.SignedIn(reader, s.incidentAffected)),
		f("GET /portal/avvik/{id}/berorte/{beregning}", s.SignedIn(reader, s.incidentAffectedPage)),
		f("GET /portal/avvik/{id}/berorte/{beregning}/last-ned", s.SignedIn(reader, s.incidentAffectedDownload)),
		// The rest of the case (followup.go): a stopped client resumed (Rule AV-02), notices to the persons
		// (Rule AV-06) and letters to the consumers affected (Rule AA-22), the learning follow-up (Rule AV-08).
		f("POST /portal/avvik/{id}/gjenoppta-klient", s.SignedIn(site.Staff(governance.Saksbehandler), s.incidentResumeClient)),
		f("POST /portal/avvik/{id}/gjenoppta-konsument", s.SignedIn(site.Staff(governance.Saksbehandler), s.incidentResumeConsumer)),
		// Notifying the persons as a job, after a preview, and the public notice (notify.go; Rule AV-06).
		f("POST /portal/avvik/{id}/varsle-berorte/forhandsvis", s.SignedIn(reader, s.incidentNotifyPreview)),
		f("POST /portal/avvik/{id}/varsle-berorte", s.SignedIn(reader, s.incidentNotifyPersons)),
		f("POST /portal/avvik/{id}/offentlig-kunngjoring", s.SignedIn(reader, s.incidentPublicNotice)),
		f("POST /portal/avvik/{id}/brev-konsumenter", s.SignedIn(reader, s.incidentConsumerLetters)),
		f("POST /portal/avvik/{id}/laerdom", s.SignedIn(reader, s.incidentLessons)),
		f("POST /portal/avvik/{id}/oppfolging", s.SignedIn(reader, s.incidentFollowUpItem)),
		f("POST /portal/avvik/{id}/oppfolging/{n}/utfort", s.SignedIn(reader, s.incidentFollowUpDone)),
		// The support channel and service incidents (support.go; Rules AA-18, AA-19).
		f("GET /portal/support", s.SignedIn(SupportMember, s.supportForm)),
		f("POST /portal/support", s.SignedIn(SupportMember, s.supportReport)),
		f("GET /portal/support/saker", s.SignedIn(ServiceStaff, s.supportCases)),
		f("POST /portal/support/{id}/svar", s.SignedIn(ServiceStaff, s.supportAnswer)),
		f("POST /portal/driftshendelser", s.SignedIn(ServiceStaff, s.serviceNew)),
		f("GET /portal/driftshendelser/{id}", s.SignedIn(site.AnyOf(SupportMember, ServiceStaff), s.servicePage)),
		f("POST /portal/driftshendelser/{id}", s.SignedIn(ServiceStaff, s.serviceChange)),
		// A person's notices about breaches that affected them (Rule AV-06).
		f("GET /portal/avviksvarsler", s.SignedIn(site.PersonOnly, s.personNotices)),
	}
}
