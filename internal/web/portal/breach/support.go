package breach

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// The support channel and service incidents (issue 12 items 1 and 8; Rules
// AA-18, AA-19). A consumer's user reads the FAQ first, then reports a fault
// or a change request; a fault becomes a service incident. The register's
// staff see every case, set each incident's priority, and post status
// updates, which go out as operational notices; the clocks of the priority
// run in the Norwegian working calendar. A consumer sees the incidents that
// affect it, with their clocks; others are "not found".

// SupportMember lets in those acting for an organisation: a consumer's users (Rule AA-18).
func SupportMember(v *site.Visitor) bool { return v.Org != "" }

// ServiceStaff are the register's staff who handle support and service incidents.
var ServiceStaff = site.Staff(governance.Saksbehandler, governance.Forvalter)

var supportFields = []string{"type", incident.FieldTitle, incident.FieldDescription}

type serviceRow struct {
	ID, Title, Priority, Reported, Status string
	FirstBy, ReactBy                      string // the clocks: when each is due, "" without a priority
	FirstLate, ReactLate                  bool
	due                                   time.Time
}

type supportCaseRow struct {
	ID, Kind, Title, Description, Reporter, Reported, Answer, Service string
}

type supportPage struct {
	site.Frame
	incidentForm
	ErrorList []site.FieldError
	FAQ       []struct{ Question, Answer string }
	Cases     []supportCaseRow
	Incidents []serviceRow
	Staff     bool
	SLA       []slaRow
}

type slaRow struct {
	Quarter, Priority     string
	Incidents, Pending    int
	FirstNotice, Reaction string
}

// serviceRow is an incident in a list, with its clocks at now (Rule AA-19).
func (s *Feature) serviceRow(si store.ServiceIncidentRecord, now time.Time) serviceRow {
	row := serviceRow{ID: si.ID, Title: si.Title, Priority: "Ikke satt", Reported: s.OsloTime(si.ReportedAt), Status: serviceStatus(si)}
	if si.Priority != "" {
		row.Priority = si.Priority.Label()
		first, react := si.FirstNoticeBy(s.calendar), si.ReactionBy(s.calendar)
		row.FirstBy, row.ReactBy = s.OsloTime(first), s.OsloTime(react)
		row.FirstLate = late(si.FirstNoticeAt, first, now)
		row.ReactLate = late(si.ReactedAt, react, now)
		if si.ResolvedAt.IsZero() {
			if due := si.Due(s.calendar); len(due) > 0 {
				incident.SortDue(due)
				row.due = due[0].At
			}
		}
	}
	return row
}

// late reports whether a target due at due was missed: done after it, or not done by now.
func late(done, due, now time.Time) bool {
	if done.IsZero() {
		return now.After(due)
	}
	return done.After(due)
}

func serviceStatus(si store.ServiceIncidentRecord) string {
	switch {
	case !si.ResolvedAt.IsZero():
		return "Løst"
	case !si.ReactedAt.IsZero():
		return "Under arbeid"
	case si.Priority == "":
		return "Mottatt – prioriteres"
	}
	return "Prioritert"
}

// visibleIncidents are the service incidents v may see, due first.
func (s *Feature) visibleIncidents(r *http.Request, v *site.Visitor, staff bool) ([]serviceRow, []store.ServiceIncidentRecord, error) {
	all, err := s.DB.ServiceIncidents(r.Context())
	if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	var rows []serviceRow
	var kept []store.ServiceIncidentRecord
	for _, si := range all {
		if staff || si.VisibleTo(v.Org) {
			rows = append(rows, s.serviceRow(si, now))
			kept = append(kept, si)
		}
	}
	slices.SortStableFunc(rows, func(x, y serviceRow) int {
		switch {
		case x.due.IsZero() && y.due.IsZero():
			return 0
		case x.due.IsZero():
			return 1
		case y.due.IsZero():
			return -1
		}
		return x.due.Compare(y.due)
	})
	return rows, kept, nil
}

func (s *Feature) supportPageData(r *http.Request, v *site.Visitor, staff bool) (supportPage, error) {
	p := supportPage{Frame: s.Frame(r, v, "Brukerstøtte"), FAQ: faq, Staff: staff,
		incidentForm: incidentForm{Values: map[string]string{}, Errors: map[string]string{}}}
	org := v.Org
	if staff {
		org = ""
		p.Title = "Brukerstøtte og driftshendelser"
	}
	cases, err := s.DB.SupportCases(r.Context(), org)
	if err != nil {
		return p, err
	}
	for _, c := range cases {
		row := supportCaseRow{ID: c.ID, Kind: supportKindLabel(c.Kind), Title: c.Title, Description: c.Description, Reporter: c.ReporterName,
			Reported: s.OsloTime(c.ReportedAt), Answer: c.Answer, Service: c.ServiceIncident}
		if staff {
			row.Reporter = s.reporterName(r, incident.Actor{Org: c.ReporterOrg, Name: c.ReporterName})
		}
		p.Cases = append(p.Cases, row)
	}
	var kept []store.ServiceIncidentRecord
	if p.Incidents, kept, err = s.visibleIncidents(r, v, staff); err != nil {
		return p, err
	}
	if staff {
		// SLA compliance per quarter and priority (Rule AA-19).
		var incs []incident.ServiceIncident
		for _, si := range kept {
			incs = append(incs, si.ServiceIncident)
		}
		for _, q := range incident.Compliance(incs, s.calendar, s.Now()) {
			p.SLA = append(p.SLA, slaRow{Quarter: fmt.Sprintf("%d K%d", q.Year, q.Quarter), Priority: q.Priority.Label(), Incidents: q.Incidents,
				Pending: q.Pending, FirstNotice: percent(q.FirstNoticeRate()), Reaction: percent(q.ReactionRate())})
		}
	}
	return p, nil
}

func percent(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }

func supportKindLabel(k string) string {
	if k == store.SupportFault {
		return "Feil"
	}
	return "Endringsønske"
}

// supportForm is the FAQ, then the form, then the organisation's cases and incidents (Rule AA-18).
func (s *Feature) supportForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.supportPageData(r, v, false)
	if err != nil {
		return err
	}
	s.Render(w, r, "avvik_support.html", p)
	return nil
}

// supportReport receives a fault or a change request; a fault becomes a service incident (Rules AA-18, AA-19).
func (s *Feature) supportReport(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	sc := store.SupportCase{Kind: r.PostFormValue("type"), Title: r.PostFormValue(incident.FieldTitle), Description: r.PostFormValue(incident.FieldDescription),
		ReporterUser: v.User.ID, ReporterName: v.User.Navn, ReporterOrg: v.Org}
	check := incident.ServiceIncident{Title: sc.Title, Description: sc.Description}
	bad := check.Validate()
	sc.Title, sc.Description = check.Title, check.Description
	if sc.Kind != store.SupportFault && sc.Kind != store.SupportChange {
		bad["type"] = "Velg om det gjelder en feil eller et endringsønske."
	}
	if len(bad) > 0 {
		p, err := s.supportPageData(r, v, false)
		if err != nil {
			return err
		}
		p.Values = map[string]string{"type": sc.Kind, incident.FieldTitle: r.PostFormValue(incident.FieldTitle), incident.FieldDescription: r.PostFormValue(incident.FieldDescription)}
		p.Errors, p.ErrorList = bad, site.ErrorList(bad, supportFields...)
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "avvik_support.html", p)
		return nil
	}
	id, err := s.DB.ReportSupport(r.Context(), sc, v.Actor())
	if err != nil {
		return err
	}
	s.Log.Info("support case reported", "support", id, "kind", sc.Kind, "user", v.User.ID)
	msg := "Endringsønsket er mottatt."
	if sc.Kind == store.SupportFault {
		msg = "Feilen er meldt. Registerforvalteren setter prioritet, og du ser fristene under Driftshendelser nedenfor."
	}
	s.Flash(r, msg)
	site.Redirect(w, r, "/portal/support")
	return nil
}

// supportCases is the register's list: every support case and service incident, due first, and SLA compliance.
func (s *Feature) supportCases(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.supportPageData(r, v, true)
	if err != nil {
		return err
	}
	s.Render(w, r, "avvik_support_saker.html", p)
	return nil
}

// supportAnswer records the register's answer to a support case.
func (s *Feature) supportAnswer(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	answer := strings.TrimSpace(r.PostFormValue("svar"))
	if answer == "" || len([]rune(answer)) > 8000 {
		s.Flash(r, "Skriv et svar (høyst 8000 tegn). Ingenting er lagret.")
		site.Redirect(w, r, "/portal/support/saker")
		return nil
	}
	err := s.DB.AnswerSupport(r.Context(), r.PathValue("id"), answer, "Se saken på "+s.AbsoluteBase(r)+"/portal/support", v.Actor())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httperr.ErrNotFound
	case errors.Is(err, store.ErrExists):
		s.Flash(r, "Saken er allerede besvart, og et svar kan ikke overskrives. Ingenting er lagret.")
		site.Redirect(w, r, "/portal/support/saker")
		return nil
	case err != nil:
		return err
	}
	s.Flash(r, "Svaret er lagret. Den som meldte saken, får det også på e-post.")
	site.Redirect(w, r, "/portal/support/saker")
	return nil
}

// serviceNew records a service incident the register finds itself, with its priority (Rule AA-19).
func (s *Feature) serviceNew(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	si := incident.ServiceIncident{Title: r.PostFormValue(incident.FieldTitle), Description: r.PostFormValue(incident.FieldDescription),
		Priority: incident.Priority(r.PostFormValue(incident.FieldPriority)), ReportedBy: incidentActor(v)}
	bad := si.Validate()
	if si.Priority == "" {
		bad[incident.FieldPriority] = "Velg prioritet A, B eller C."
	}
	if len(bad) > 0 {
		p, err := s.supportPageData(r, v, true)
		if err != nil {
			return err
		}
		p.Values = map[string]string{incident.FieldTitle: r.PostFormValue(incident.FieldTitle), incident.FieldDescription: r.PostFormValue(incident.FieldDescription),
			incident.FieldPriority: r.PostFormValue(incident.FieldPriority)}
		p.Errors, p.ErrorList = bad, site.ErrorList(bad, incident.FieldTitle, incident.FieldDescription, incident.FieldPriority)
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "avvik_support_saker.html", p)
		return nil
	}
	id, err := s.DB.RecordServiceIncident(r.Context(), store.ServiceIncidentRecord{ServiceIncident: si}, v.Actor())
	if err != nil {
		return err
	}
	s.Flash(r, "Driftshendelsen er registrert. Send første varsel innen fristen.")
	site.Redirect(w, r, "/portal/driftshendelser/"+id)
	return nil
}

type servicePage struct {
	site.Frame
	incidentForm
	ErrorList   []site.FieldError
	S           store.ServiceIncidentRecord
	Row         serviceRow
	Staff       bool
	Description string
	Updates     []historyView
	Priorities  []labelled
	// PriorityChanges are the changes of priority, for the register's staff (Rule AA-19).
	PriorityChanges []priorityChangeView
}

type priorityChangeView struct{ At, By, From, To string }

// loadService is the incident if v may see it; 404 alike for none and another's.
func (s *Feature) loadService(r *http.Request, v *site.Visitor) (store.ServiceIncidentRecord, bool, error) {
	si, err := s.DB.ServiceIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		return si, false, err
	}
	staff := ServiceStaff(v)
	if !staff && !si.VisibleTo(v.Org) {
		return store.ServiceIncidentRecord{}, false, httperr.ErrNotFound
	}
	return si, staff, nil
}

func (s *Feature) servicePageData(r *http.Request, v *site.Visitor, si store.ServiceIncidentRecord, staff bool) servicePage {
	p := servicePage{Frame: s.Frame(r, v, "Driftshendelse: "+si.Title), S: si, Row: s.serviceRow(si, s.Now()), Staff: staff, Description: si.Description,
		incidentForm: incidentForm{Values: map[string]string{}, Errors: map[string]string{}}}
	for _, u := range si.Updates {
		p.Updates = append(p.Updates, historyView{At: s.OsloTime(u.At), By: u.By, Note: u.Body})
	}
	for _, pr := range incident.Priorities() {
		p.Priorities = append(p.Priorities, labelled{string(pr), pr.Label(), si.Priority == pr})
	}
	for _, pc := range si.Priorities {
		from := pc.Old.Label()
		if pc.Old == "" {
			from = "Ikke satt"
		}
		p.PriorityChanges = append(p.PriorityChanges, priorityChangeView{At: s.OsloTime(pc.At), By: pc.By, From: from, To: pc.New.Label()})
	}
	return p
}

// servicePage shows an incident with its clocks (Rule AA-19).
func (s *Feature) servicePage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	si, staff, err := s.loadService(r, v)
	if err != nil {
		return err
	}
	s.Render(w, r, "avvik_driftshendelse.html", s.servicePageData(r, v, si, staff))
	return nil
}

// serviceChange sets the priority and posts a status update, published as an
// operational notice; the first is the first notice. It can record the
// reaction and the resolution (Rule AA-19).
func (s *Feature) serviceChange(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	si, _, err := s.loadService(r, v)
	if err != nil {
		return err
	}
	values := map[string]string{incident.FieldPriority: r.PostFormValue(incident.FieldPriority), "oppdatering": strings.TrimSpace(r.PostFormValue("oppdatering")),
		"reagert": r.PostFormValue("reagert"), "lost": r.PostFormValue("lost")}
	bad := map[string]string{}
	ch := store.ServiceChange{Reacted: values["reagert"] == "ja", Resolved: values["lost"] == "ja", By: v.User.Navn}
	if pr := values[incident.FieldPriority]; pr != "" {
		if ch.Priority, err = incident.ParsePriority(pr); err != nil {
			bad[incident.FieldPriority] = "Velg prioritet A, B eller C."
		}
	}
	if si.Priority == "" && ch.Priority == "" && bad[incident.FieldPriority] == "" {
		bad[incident.FieldPriority] = "Sett prioritet før hendelsen behandles videre."
	}
	if text := values["oppdatering"]; text != "" {
		if len([]rune(text)) > 8000 {
			bad["oppdatering"] = "Teksten er for lang (høyst 8000 tegn)."
		}
		n := governance.Notice{Kind: governance.NoticeNews, Title: "Driftshendelse: " + si.Title, Body: text}
		ch.Notice = &n
		ch.Letter = governance.Letter{Subject: "Driftshendelse: " + si.Title,
			Body: text + "\n\nSe driftsmeldingene på " + s.AbsoluteBase(r) + "/driftsmeldinger\n"}
		if len(si.Consumers) > 0 {
			// Not public (the store sends it to the affected consumers only): the link is the incident's page.
			ch.Letter.Body = text + "\n\nSe hendelsen på " + s.AbsoluteBase(r) + "/portal/driftshendelser/" + si.ID + "\n"
		}
	} else if ch.Resolved || ch.Priority == "" && !ch.Reacted {
		bad["oppdatering"] = "Skriv en statusoppdatering."
	}
	if len(bad) > 0 {
		p := s.servicePageData(r, v, si, true)
		p.Values, p.Errors, p.ErrorList = values, bad, site.ErrorList(bad, incident.FieldPriority, "oppdatering")
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "avvik_driftshendelse.html", p)
		return nil
	}
	err = s.DB.ChangeServiceIncident(r.Context(), si.ID, si.Version, ch, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		s.Flash(r, "Hendelsen ble endret av noen andre mens du arbeidet. Se over og prøv igjen.")
	case err != nil:
		return err
	default:
		s.Log.Info("service incident changed", "service", si.ID, "user", v.User.ID)
		s.Flash(r, "Driftshendelsen er oppdatert.")
	}
	site.Redirect(w, r, "/portal/driftshendelser/"+si.ID)
	return nil
}
