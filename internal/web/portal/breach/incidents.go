package breach

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Breaches (avvik; issue 12). Anyone reports — signed in, or on the public
// form with a reference to follow it (Rule AV-01); the register's case
// workers and data protection officer handle the case: take it, record
// measures (stop access suspends a consumer), assess the risk with ENISA's
// method, decide on notifying, and file to Datatilsynet in phases (Rules
// AV-02..AV-05, DPA-08). internal/incident decides what may happen and when
// things are due; store carries each step out with its event in the log.
// Reporters see their own and their organisation's reports (incident.CanSee);
// everything else is "not found".

// Limits of the public pages, per source address and hour.
const (
	publicReportsPerHour = 5
	publicLookupsPerHour = 20
)

// incidentActor is the visitor as internal/incident sees them: the
// register's case worker or DPO acting for the controller, or a reporter
// acting for the organisation they act for.
func incidentActor(v *site.Visitor) incident.Actor {
	a := incident.Actor{UserID: v.User.ID, Name: v.User.Navn, Role: incident.Reporter, Org: v.Org}
	switch {
	case v.Staff(governance.Saksbehandler):
		a.Org, a.Role = incident.ControllerOrg, incident.CaseWorker
	case v.Staff(governance.Personvernombud):
		a.Org, a.Role = incident.ControllerOrg, incident.DPO
	case v.Org == governance.AuthorityOrg:
		a.Org = "" // the register's other staff report as themselves
	}
	return a
}

// asController reports whether the visitor acts for their organisation as
// its administrator or role holder: the people who read a processor's
// breach report under an agreement where it is the controller (Rule DPA-07).
func asController(v *site.Visitor) bool {
	return v.Org != governance.AuthorityOrg && v.For(governance.Administrator, governance.Rolleinnehaver)
}

// canSee reports whether the visitor may see a case reported as r: as
// staff or reporter (incident.CanSee), or as the controller's people for a
// processor's report under their agreement (Rule DPA-07).
func canSee(v *site.Visitor, r incident.Report) bool {
	return incident.CanSee(incidentActor(v), r.ReportedBy) || incident.CanSeeAsController(v.Org, asController(v), r)
}

// ---- Reporting (Rules AV-01, AV-03, AA-18, AA-21, DPA-07) ----

// reportFields are the report form's fields, in the order the error summary lists them.
var reportFields = []string{incident.FieldWhat, incident.FieldDiscoveredAt, incident.FieldDiscoveredBy, incident.FieldSystem,
	incident.FieldDamage, incident.FieldImmediateAction, incident.FieldKinds, incident.FieldCause,
	incident.FieldProcessorAwareAt, incident.FieldConsumerDTAt}

// incidentForm is a form's values and messages by field, for the layout's "field" partial.
type incidentForm struct{ Values, Errors map[string]string }

// Field is a field of the form: {{template "field" (.Field "navn" "Navn" "" "")}}; typ "" is text.
func (f incidentForm) Field(name, label, typ, help string) site.Field {
	return site.Field{Name: name, Label: label, Value: f.Values[name], Error: f.Errors[name], Type: typ, Help: help}
}

type reportPage struct {
	site.Frame
	incidentForm
	Action    string // where the form posts
	Public    bool
	Processor bool // the visitor reports as a data processor (Rule AV-03)
	KindsSet  map[incident.Kind]bool
	ErrorList []site.FieldError
	Kinds     []incident.Kind
	Causes    []incident.Cause
	Reference string // the public report's reference, once received
	Status    string // the followed report's status
	Received  string
}

func (s *Feature) reportPageData(r *http.Request, v *site.Visitor, public bool) reportPage {
	p := reportPage{Frame: s.Frame(r, v, "Meld avvik"), Action: "/portal/avvik/ny", Public: public,
		incidentForm: incidentForm{Values: map[string]string{}, Errors: map[string]string{}}, KindsSet: map[incident.Kind]bool{},
		Kinds: incident.Kinds(), Causes: incident.Causes()}
	if public {
		p.Action = "/avvik"
	}
	if v != nil {
		p.Processor = v.For(governance.Databehandler)
	}
	return p
}

// readReport reads the report form; messages of unreadable times go to bad.
func (s *Feature) readReport(r *http.Request, p *reportPage, bad map[string]string) incident.Report {
	for _, f := range reportFields {
		p.Values[f] = r.PostFormValue(f)
	}
	rep := incident.Report{What: p.Values[incident.FieldWhat], DiscoveredBy: p.Values[incident.FieldDiscoveredBy],
		System: p.Values[incident.FieldSystem], Damage: p.Values[incident.FieldDamage],
		ImmediateAction: p.Values[incident.FieldImmediateAction], Cause: incident.Cause(p.Values[incident.FieldCause])}
	for _, k := range r.PostForm[incident.FieldKinds] {
		rep.Kinds = append(rep.Kinds, incident.Kind(k))
		p.KindsSet[incident.Kind(k)] = true
	}
	if t := s.ParseFormTime(strings.TrimSpace(p.Values[incident.FieldDiscoveredAt]), incident.FieldDiscoveredAt, "når avviket ble oppdaget", bad); t != nil {
		rep.DiscoveredAt = *t
	}
	if p.Processor {
		rep.ByProcessor = true
		if t := s.ParseFormTime(strings.TrimSpace(p.Values[incident.FieldProcessorAwareAt]), incident.FieldProcessorAwareAt, "når dere fikk kjennskap til avviket", bad); t != nil {
			rep.ProcessorAwareAt = *t
		}
	}
	if !p.Public {
		p.Values["meldt"] = r.PostFormValue("meldt")
		if rep.ConsumerNotifiedDT = p.Values["meldt"] == "ja"; rep.ConsumerNotifiedDT {
			if t := s.ParseFormTime(strings.TrimSpace(p.Values[incident.FieldConsumerDTAt]), incident.FieldConsumerDTAt, "når dere meldte avviket til Datatilsynet", bad); t != nil {
				rep.ConsumerNotifiedDTAt = *t
			}
		}
	}
	return rep
}

// validReport validates rep at now, merging the form's own messages; false renders the form again.
func validReport(rep *incident.Report, now time.Time, p *reportPage, bad map[string]string) bool {
	for k, v := range rep.Validate(now) {
		if _, ok := bad[k]; !ok {
			bad[k] = v
		}
	}
	p.Errors, p.ErrorList = bad, site.ErrorList(bad, reportFields...)
	return len(bad) == 0
}

// incidentNew is the signed-in report form.
func (s *Feature) incidentNew(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.Render(w, r, "avvik_meld.html", s.reportPageData(r, v, false))
	return nil
}

// incidentReport receives a signed-in report (Rule AV-01). A consumer that
// has notified Datatilsynet says so, and the register's DPO is told by
// e-mail in the same transaction (Rule AA-21).
func (s *Feature) incidentReport(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p := s.reportPageData(r, v, false)
	bad := map[string]string{}
	rep := s.readReport(r, &p, bad)
	now := s.Now()
	rep.ReportedBy, rep.ReportedAt = incidentActor(v), now
	if !validReport(&rep, now, &p, bad) {
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "avvik_meld.html", p)
		return nil
	}
	var letters []governance.Letter
	if rep.TellDPO() {
		var err error
		if letters, err = s.dpoLetters(r, rep, v); err != nil {
			return err
		}
	}
	id, err := s.DB.ReportIncident(r.Context(), rep, "", letters, v.Actor())
	if err != nil {
		return err
	}
	s.Log.Info("breach reported", "incident", id, "user", v.User.ID)
	msg := "Avviket er meldt. Registerforvalteren behandler det."
	if len(letters) > 0 {
		msg += " Personvernombudet er varslet om at dere har meldt avviket til Datatilsynet."
	}
	s.Flash(r, msg)
	site.Redirect(w, r, "/portal/avvik/"+id)
	return nil
}

// dpoLetters are the e-mails to the register's data protection officers
// that a consumer has notified Datatilsynet of a breach (Rule AA-21).
func (s *Feature) dpoLetters(r *http.Request, rep incident.Report, v *site.Visitor) ([]governance.Letter, error) {
	dpos, err := s.DB.UsersWithRole(r.Context(), governance.AuthorityOrg, governance.Personvernombud)
	if err != nil {
		return nil, err
	}
	org := v.OrgName
	if org == "" {
		org = v.User.Navn
	}
	var out []governance.Letter
	for _, u := range dpos {
		out = append(out, governance.Letter{Kind: "incident.dpo", To: u.Email,
			Subject: "Avvik meldt til Datatilsynet av " + org,
			Body: fmt.Sprintf("Hei %s,\n\n%s har meldt et avvik til registerforvalteren og opplyser at de har meldt avviket til Datatilsynet %s (regel AA-21).\n\n"+
				"Hva skjedde:\n%s\n\nMeldt av: %s (%s)\n\nSe avviket i portalen: %s/portal/avvik\n",
				u.Navn, org, s.OsloTime(rep.ConsumerNotifiedDTAt), rep.What, v.User.Navn, v.User.Email, s.AbsoluteBase(r))})
	}
	return out, nil
}

// sourceOf is the request's source address as the public pages limit it (governance.SourceKey).
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	return governance.SourceKey(addr)
}

// overLimit counts an attempt of kind from the request's source and reports whether it is over limit in the hour.
func (s *Feature) overLimit(r *http.Request, kind string, limit int) (bool, error) {
	n, err := s.DB.CountIncidentAttempt(r.Context(), kind, sourceOf(r), s.Now(), time.Hour)
	return n > limit, err
}

// publicReportForm is the report form for anyone, without an account (Rule AV-01).
func (s *Feature) publicReportForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, "avvik_meld.html", s.reportPageData(r, nil, true))
}

// publicReport receives a report without an account, limited per source
// address, and shows the reference to follow it with once: only its hash is
// kept, and it is long enough that nobody guesses another's.
func (s *Feature) publicReport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := s.reportPageData(r, nil, true)
	over, err := s.overLimit(r, "meld", publicReportsPerHour)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	if over {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		p.ErrorList = []site.FieldError{{Field: incident.FieldWhat, Message: "Det er sendt for mange meldinger herfra den siste timen. Prøv igjen senere, eller kontakt registerforvalteren."}}
		s.Render(w, r, "avvik_meld.html", p)
		return
	}
	bad := map[string]string{}
	rep := s.readReport(r, &p, bad)
	now := s.Now()
	rep.ReportedBy, rep.ReportedAt = incident.Actor{Role: incident.Reporter, Name: "Meldt uten innlogging"}, now
	if !validReport(&rep, now, &p, bad) {
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "avvik_meld.html", p)
		return
	}
	ref := newIncidentReference()
	id, err := s.DB.ReportIncident(r.Context(), rep, store.IncidentReferenceHash(ref), nil, "public")
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Log.Info("breach reported on the public form", "incident", id)
	s.Sessions.Put(r.Context(), "avvik_referanse", ref)
	site.Redirect(w, r, "/avvik/mottatt")
}

// publicReceived shows the reference of the report just sent, once.
func (s *Feature) publicReceived(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := s.reportPageData(r, nil, true)
	p.Title = "Avviket er mottatt"
	p.Reference = s.Sessions.PopString(r.Context(), "avvik_referanse")
	if p.Reference == "" {
		site.Redirect(w, r, "/avvik/folg")
		return
	}
	s.Render(w, r, "avvik_mottatt.html", p)
}

// newIncidentReference is a public report's reference: 120 random bits in
// base32, in groups of four (AVVIK-XXXX-…).
func newIncidentReference() string {
	b := make([]byte, 15)
	rand.Read(b)
	enc := base32.StdEncoding.EncodeToString(b)
	var parts []string
	for i := 0; i < len(enc); i += 4 {
		parts = append(parts, enc[i:min(i+4, len(enc))])
	}
	return "AVVIK-" + strings.Join(parts, "-")
}

// normalReference reads a reference as typed: case, spaces and dashes do not matter.
func normalReference(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u2013", "").Replace(strings.TrimSpace(s)))
	s = strings.TrimPrefix(s, "AVVIK")
	if len(s) != 24 {
		return ""
	}
	var parts []string
	for i := 0; i < 24; i += 4 {
		parts = append(parts, s[i:i+4])
	}
	return "AVVIK-" + strings.Join(parts, "-")
}

// publicFollowForm asks for a reference. It is a form, not a link: the
// reference never travels in a URL.
func (s *Feature) publicFollowForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := s.reportPageData(r, nil, true)
	p.Title = "Følg et avvik"
	s.Render(w, r, "avvik_folg.html", p)
}

// publicFollow shows a public report's status to whoever holds its
// reference. Every look-up counts against the source's limit, found or not,
// and an unknown reference gets the same answer as a mistyped one.
func (s *Feature) publicFollow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := s.reportPageData(r, nil, true)
	p.Title = "Følg et avvik"
	over, err := s.overLimit(r, "folg", publicLookupsPerHour)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	if over {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		p.Errors["referanse"] = "For mange oppslag herfra den siste timen. Prøv igjen senere."
		s.Render(w, r, "avvik_folg.html", p)
		return
	}
	ref := normalReference(r.PostFormValue("referanse"))
	p.Values["referanse"] = r.PostFormValue("referanse")
	c, err := s.DB.IncidentByReference(r.Context(), store.IncidentReferenceHash(ref))
	switch {
	case ref == "" || errors.Is(err, store.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
		p.Errors["referanse"] = "Fant ikke et avvik med denne referansen. Sjekk at du har skrevet den riktig."
	case err != nil:
		s.PageError(w, r, err)
		return
	default:
		p.Status, p.Received = c.Status.Label(), s.OsloTime(c.Report.ReportedAt)
	}
	s.Render(w, r, "avvik_folg.html", p)
}

// ---- The list (Rule AV-05: clocks, sorted by what is due first) ----

type incidentRow struct {
	ID, What, Status, Reported, Reporter string
	Deadline, Left                       string // the next deadline and the time left, "" when none
	Overdue                              bool
	due                                  time.Time
}

type incidentListPage struct {
	site.Frame
	Staff bool
	Rows  []incidentRow
}

func (s *Feature) incidentList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a := incidentActor(v)
	f := store.IncidentFilter{All: a.Staff(), User: a.UserID, Org: a.Org}
	if asController(v) {
		f.Controller = v.Org // Rule DPA-07
	}
	cases, err := s.DB.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	now := s.Now()
	p := incidentListPage{Frame: s.Frame(r, v, "Avvik"), Staff: a.Staff()}
	for _, c := range cases {
		if !canSee(v, c.Report) {
			continue
		}
		row := incidentRow{ID: c.ID, What: shorten(c.Report.What, 80), Status: c.Status.Label(),
			Reported: s.OsloTime(c.Report.ReportedAt), Reporter: s.reporterName(r, c.Report.ReportedBy)}
		due := c.Due()
		incident.SortDue(due)
		if len(due) > 0 {
			row.due = due[0].At
			row.Deadline = due[0].What.Label() + ": " + s.OsloTime(due[0].At)
			row.Left, row.Overdue = leftText(due[0].Left(now)), due[0].Overdue(now)
		}
		p.Rows = append(p.Rows, row)
	}
	// What is due first; cases without a deadline last, newest first.
	slices.SortStableFunc(p.Rows, func(x, y incidentRow) int {
		switch {
		case x.due.IsZero() && y.due.IsZero():
			return strings.Compare(y.Reported, x.Reported)
		case x.due.IsZero():
			return 1
		case y.due.IsZero():
			return -1
		}
		return x.due.Compare(y.due)
	})
	s.Render(w, r, "avvik_liste.html", p)
	return nil
}

func (s *Feature) reporterName(r *http.Request, a incident.Actor) string {
	switch {
	case a.Org == incident.ControllerOrg:
		return "Registerforvalteren (" + a.Name + ")"
	case a.Org != "":
		if c, err := s.DB.Consumer(r.Context(), a.Org); err == nil {
			return c.Navn + " (" + a.Name + ")"
		}
		return a.Org + " (" + a.Name + ")"
	case a.Name == "":
		// A person whose account ID-porten made has no name on it.
		return "Privatperson"
	}
	return a.Name
}

// leftText is the time left in Norwegian: "2 t 30 min igjen", or "forfalt for 1 t 5 min siden".
func leftText(d time.Duration) string {
	over := d < 0
	if over {
		d = -d
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	t := fmt.Sprintf("%d t %d min", h, m)
	if over {
		return "forfalt for " + t + " siden"
	}
	return t + " igjen"
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ---- The case (Rules AV-02, AV-04, AV-07) ----

// loadIncident is the case id if the visitor may see it; store.ErrNotFound
// (404) when it does not exist or they may not: the same answer for both.
func (s *Feature) loadIncident(r *http.Request, v *site.Visitor) (store.IncidentCase, error) {
	c, err := s.DB.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return c, err
	}
	if !canSee(v, c.Report) {
		return store.IncidentCase{}, httperr.ErrNotFound
	}
	return c, nil
}

type labelled struct {
	Value, Label string
	Selected     bool
}

type factorRow struct {
	Field, Label, Reason, Error string
	Present                     bool
}

type incidentPage struct {
	site.Frame
	C                                 store.IncidentCase
	Staff                             bool
	Reporter, Reported, Discovered    string
	Aware, Deadline, Left             string
	Overdue, Open                     bool
	ProcessorAware, ProcessorDeadline string
	ProcessorLate                     bool
	ConsumerDT                        string
	Kinds                             []string
	Cause                             string
	Measures                          []measureView
	Missing                           []string
	Risk                              *riskView
	Decision                          *decisionView
	Filings                           []filingView
	Affected                          []affectedView
	History                           []historyView
	CanTake, CanMeasure, CanAssess    bool
	CanDecide, CanFile, CanClose      bool
	FilePhase                         incident.Phase
	LateReasonNeeded                  bool
	Form                              string // the form that failed, whose errors are shown
	incidentForm
	ErrorList                          []site.FieldError
	MeasureKinds, DataCategories, EIs  []labelled
	CBLevels                           []labelled
	CBFields                           []string
	Factors                            []factorRow
	Exemptions, PersonsChoices, Phases []labelled
	// followup.go
	StoppedClients                       []string
	SuspendedConsumers                   []string   // the consumers whose suspension this case holds (Rule AV-02)
	StopConsumers                        []labelled // the consumers the stop-access measure may suspend
	LetterPhases                         []labelled // the phases of the letters to the consumers (Rule AA-22)
	CanNotifyPersons, CanLetterConsumers bool
	PersonsEmail, PersonsPortal          int
	CanFollowUp                          bool
	FollowUp                             []followUpView
	Lessons, ReviewAt                    string
	LessonAreas                          []labelled

	// notify.go
	NotifyJobs      []notifyJobView
	CanPublicNotice bool
	CloseMissing    []string // what keeps the case from closing, in Norwegian
}

type measureView struct {
	Label, Note, Target, By, At string
	Done                        bool
}

type riskView struct {
	Score, Band string
	DPC         int
	EI, CB      string
	Flags       []string
	Suggestion  string
}

type decisionView struct {
	NotifyDT                               bool
	Reason, Persons, PersonsReason, By, At string
	Exemption, PublicNotice                string
}

type filingView struct {
	Phase, At, By, LateReason, Channel string
	First                              string // a supplement: the initial notice's time
	MoreToFollow                       bool
	Content                            incident.Content
}

type historyView struct{ At, Step, Status, By, Note string }

// stepLabels name the history's steps in Norwegian.
var stepLabels = map[string]string{
	string(incident.StepReport): "Meldt", string(incident.StepAssess): "Tatt til behandling",
	string(incident.StepDecideNotify): "Besluttet å melde til Datatilsynet", string(incident.StepDecideNoNotif): "Besluttet å ikke melde",
	string(incident.StepReconsider): "Vurderes på nytt", string(incident.StepFileInitial): "Første melding sendt til Datatilsynet",
	string(incident.StepFileSupplement): "Tilleggsmelding sendt til Datatilsynet", string(incident.StepClose): "Lukket",
	store.StepAffected: "Berørte beregnet fra oppslagsloggen",
	store.StepMeasure:  "Tiltak registrert", store.StepRisk: "Risikovurdering registrert", store.StepReminder: "Påminnelse sendt",
	store.StepPersons: "Varsling av de berørte startet", store.StepPersonsDone: "Alle berørte varslet", store.StepPublicNotice: "Offentlig kunngjøring publisert",
}

func fmtScore(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', -1, 64), ".", ",", 1)
}

// incidentPageData builds the case page; form, values and bad are a failed form's.
func (s *Feature) incidentPageData(r *http.Request, v *site.Visitor, c store.IncidentCase, form string, values, bad map[string]string, fields []string) incidentPage {
	a := incidentActor(v)
	now := s.Now()
	b := &c.Breach
	p := incidentPage{Frame: s.Frame(r, v, "Avvik"), C: c, Staff: a.Staff(),
		Reporter: s.reporterName(r, b.Report.ReportedBy), Reported: s.OsloTime(b.Report.ReportedAt),
		Discovered: s.OsloTime(b.Report.DiscoveredAt), Aware: s.OsloTime(b.Awareness()),
		Cause: b.Report.Cause.Label(), Open: b.Status.Open(),
		Form: form, incidentForm: incidentForm{Values: values, Errors: bad}, ErrorList: site.ErrorList(bad, fields...)}
	if p.Values == nil {
		p.Values = map[string]string{}
	}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	deadline := incident.NotifyDeadline(b.Awareness())
	p.Deadline = s.OsloTime(deadline)
	p.Left, p.Overdue = leftText(deadline.Sub(now)), now.After(deadline)
	if b.Report.ByProcessor {
		pd := incident.ProcessorDeadline(b.Report.ProcessorAwareAt, b.ProcessorNoticeHours)
		p.ProcessorAware, p.ProcessorDeadline, p.ProcessorLate = s.OsloTime(b.Report.ProcessorAwareAt), s.OsloTime(pd), !b.ProcessorOnTime()
	}
	if b.Report.ConsumerNotifiedDT {
		p.ConsumerDT = s.OsloTime(b.Report.ConsumerNotifiedDTAt)
	}
	for _, k := range b.Report.Kinds {
		p.Kinds = append(p.Kinds, k.Label())
	}
	for _, m := range b.Measures {
		target := m.Target
		if !p.Staff {
			target = "" // another consumer's orgnr or client id is the register's to see (Rule AV-02)
		}
		if id, ok := strings.CutPrefix(target, clientTarget); ok {
			target = "klient " + id
		} else if target != "" {
			target = "org.nr. " + target
		}
		p.Measures = append(p.Measures, measureView{Label: m.Kind.Label(), Note: m.Note, Target: target, By: m.By.Name, At: s.OsloTime(m.At), Done: m.Done})
	}
	for _, k := range incident.Considered(b.Measures) {
		p.Missing = append(p.Missing, k.Label())
	}
	if rk := b.Risk; rk != nil {
		sg := rk.Band().Suggest()
		p.Risk = &riskView{Score: fmtScore(rk.Score()), Band: rk.Band().Label(), DPC: rk.DPC(), EI: fmtScore(rk.EI.Value()),
			CB: fmtScore(rk.CB()), Flags: rk.Factors.Flags()}
		switch {
		case sg.ConsiderPersons:
			p.Risk.Suggestion = "Meld til Datatilsynet, og vurder å varsle de berørte."
		case sg.NotifyDT:
			p.Risk.Suggestion = "Meld til Datatilsynet."
		default:
			p.Risk.Suggestion = "Dokumenter avviket; melding er trolig ikke nødvendig."
		}
	}
	if d := b.Decision; d != nil {
		p.Decision = &decisionView{NotifyDT: d.NotifyDT, Reason: d.Reason, Persons: personsLabel(d.Persons), PersonsReason: d.PersonsReason,
			By: d.By.Name, At: s.OsloTime(d.At), PublicNotice: d.PublicNotice}
		if d.Exemption != "" {
			p.Decision.Exemption = d.Exemption.Label()
		}
	}
	for _, f := range b.Filings {
		fv := filingView{Phase: phaseLabel(f.Phase), At: s.OsloTime(f.At), By: f.By.Name, LateReason: f.LateReason, Channel: f.Channel,
			MoreToFollow: f.MoreToFollow, Content: f.Content}
		if !f.FirstAt.IsZero() {
			fv.First = s.OsloTime(f.FirstAt)
		}
		p.Filings = append(p.Filings, fv)
	}
	for _, h := range c.History {
		label := stepLabels[h.Step]
		if label == "" {
			label = h.Step
		}
		note := h.Note
		if !p.Staff && (h.Step == store.StepResume || h.Step == store.StepLetters) {
			note = "" // names other consumers and their clients: the register's staff only
		}
		p.History = append(p.History, historyView{At: s.OsloTime(h.At), Step: label, Status: h.Status.Label(), By: h.By, Note: note})
	}
	if p.Staff {
		p.Affected = s.affectedViews(b)
		_, errTake := incident.Transition(b.Status, incident.StepAssess, a)
		p.CanTake = errTake == nil
		p.CanMeasure = b.Status != incident.StatusFollowedUp
		p.CanAssess = b.Status == incident.StatusAssessing
		p.CanDecide = b.Status == incident.StatusAssessing && b.Risk != nil
		p.FilePhase = incident.PhaseInitial
		if len(b.Filings) > 0 {
			p.FilePhase = incident.PhaseSupplement
		}
		_, errFile := incident.Transition(b.Status, map[incident.Phase]incident.Step{incident.PhaseInitial: incident.StepFileInitial,
			incident.PhaseSupplement: incident.StepFileSupplement}[p.FilePhase], a)
		p.CanFile = errFile == nil && incident.MayFile(a) == nil
		p.LateReasonNeeded = p.FilePhase == incident.PhaseInitial && incident.LateReasonRequired(b.Awareness(), now)
		p.CanClose = slices.Contains(incident.Steps(b.Status, a), incident.StepClose) && b.Ready(incident.StepClose, a) == nil
		p.fillChoices(b)
		p.StoppedClients = s.stoppedClients(r, b)
		p.SuspendedConsumers = s.suspendedConsumers(r, b)
		p.StopConsumers = s.stopChoices(r, b, p.Values["konsument"])
		for _, ph := range letterPhases {
			p.LetterPhases = append(p.LetterPhases, labelled{ph.Value, ph.Label, p.Values["brevfase"] == ph.Value})
		}
		s.fillNotify(r, &p, b)
		p.CanLetterConsumers = len(b.Affected) > 0 && b.Status != incident.StatusReported && b.Status != incident.StatusFollowedUp
		if b.PersonsNotified > 0 {
			counts, err := s.DB.IncidentNoticeCounts(r.Context(), b.ID)
			if err == nil {
				p.PersonsEmail, p.PersonsPortal = counts[store.DeliveryEmail], counts[store.DeliveryPortal]
			}
		}
		p.CanFollowUp = b.Status == incident.StatusClosed
		for _, a := range incident.LessonAreas() {
			p.LessonAreas = append(p.LessonAreas, labelled{string(a), a.Label(), p.Values[incident.FieldArea] == string(a)})
		}
		if p.Form == "" {
			p.Values["laerdom"] = b.Lessons
			if !b.ReviewAt.IsZero() {
				p.Values["evaluering"] = b.ReviewAt.In(s.Oslo).Format("2006-01-02T15:04")
			}
		}
	}
	if p.Staff && (b.Status == incident.StatusClosed || b.Status == incident.StatusFollowedUp) {
		p.FollowUp, p.Lessons = s.followUpViews(b, now), b.Lessons
		if !b.ReviewAt.IsZero() {
			p.ReviewAt = s.OsloTime(b.ReviewAt)
		}
	}
	return p
}

func personsLabel(c incident.PersonsChoice) string {
	switch c {
	case incident.PersonsNotify:
		return "De berørte varsles direkte (art. 34)"
	case incident.PersonsNotRequired:
		return "Risikoen for de berørte er ikke høy"
	case incident.PersonsExempt:
		return "Unntak etter art. 34 nr. 3"
	}
	return string(c)
}

func phaseLabel(ph incident.Phase) string {
	if ph == incident.PhaseInitial {
		return "Første melding"
	}
	return "Tilleggsmelding"
}

// fillChoices fills the forms' choices and, where no failed form gave values, sensible starting values from the case.
func (p *incidentPage) fillChoices(b *incident.Breach) {
	v := p.Values
	for _, k := range incident.MeasureKinds() {
		p.MeasureKinds = append(p.MeasureKinds, labelled{string(k), k.Label(), v[incident.FieldMeasureKind] == string(k)})
	}
	for _, c := range incident.DataCategories() {
		p.DataCategories = append(p.DataCategories, labelled{string(c), c.Label(), v[incident.FieldData] == string(c)})
	}
	for _, e := range incident.EILevels() {
		p.EIs = append(p.EIs, labelled{string(e), e.Label(), v[incident.FieldEI] == string(e)})
	}
	p.CBFields = []string{incident.FieldConfidentiality, incident.FieldIntegrity, incident.FieldAvailability}
	p.CBLevels = []labelled{{"0", "0 – ikke berørt, eller uten tegn til skade", false}, {"1", "+0,25", false}, {"2", "+0,5", false}}
	for _, e := range incident.Exemptions() {
		p.Exemptions = append(p.Exemptions, labelled{string(e), e.Label(), v[incident.FieldExemption] == string(e)})
	}
	for _, c := range []incident.PersonsChoice{incident.PersonsNotRequired, incident.PersonsNotify, incident.PersonsExempt} {
		p.PersonsChoices = append(p.PersonsChoices, labelled{string(c), personsLabel(c), v[incident.FieldPersons] == string(c)})
	}
	for _, f := range factorFields {
		p.Factors = append(p.Factors, factorRow{Field: f.field, Label: f.label, Present: v[f.field] == "ja", Reason: v[f.field+"_begrunnelse"], Error: p.Errors[f.field]})
	}
	if p.Form == "" {
		v[incident.FieldNature] = b.Report.What
		v[incident.FieldConsequences] = b.Report.Damage
		var ms []string
		for _, m := range b.Measures {
			if m.Done {
				ms = append(ms, m.Kind.Label()+": "+m.Note)
			}
		}
		v[incident.FieldMeasures] = strings.Join(ms, "\n")
		// A consumer's own report: that consumer. A processor's is not a
		// consumer: the choices are the consumers it acts for (stopChoices),
		// none chosen; the lookups to look through are its controller's.
		switch {
		case b.Report.ByProcessor:
			v[fieldAffConsumer] = b.Report.Controller
		case b.Report.ReportedBy.Org != "" && b.Report.ReportedBy.Org != incident.ControllerOrg:
			v["konsument"] = b.Report.ReportedBy.Org
			v[fieldAffConsumer] = v["konsument"]
		}
		v["kanal"] = "altinn"
		// The numbers for the filing and the assessment, from the newest
		// computation of who was affected (issue 12 item 6).
		if a := b.LatestAffected(); a != nil {
			v[incident.FieldSubjects] = a.SubjectsApprox().String()
			v[incident.FieldRecords] = a.RecordsApprox().String()
			v[incident.FieldPersonsCount] = a.SubjectsApprox().String()
		}
	}
}

// factorFields are the seed's risk factors on the assessment form (Rule AV-04).
var factorFields = []struct{ field, label string }{
	{incident.FieldSpecialCategories, "Særlige kategorier av personopplysninger"},
	{incident.FieldReputationalLoss, "Risiko for omdømmetap"},
	{incident.FieldIdentityTheft, "Risiko for identitetstyveri"},
	{incident.FieldFinancialLoss, "Risiko for økonomisk tap"},
	{incident.FieldSecurity, "Sikkerhetsrisiko for de berørte"},
	{incident.FieldNeedsMeasures, "Behov for tiltak for å begrense virkningene"},
	{incident.FieldUnintelligible, "Opplysningene var uleselige for uvedkommende (f.eks. kryptert)"},
}

func (s *Feature) incidentPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	s.Render(w, r, "avvik.html", s.incidentPageData(r, v, c, "", nil, nil, nil))
	return nil
}

// incidentFail shows the case page again with a form's messages.
func (s *Feature) incidentFail(w http.ResponseWriter, r *http.Request, v *site.Visitor, c store.IncidentCase, form string, values, bad map[string]string, fields []string) error {
	w.WriteHeader(http.StatusBadRequest)
	s.Render(w, r, "avvik.html", s.incidentPageData(r, v, c, form, values, bad, fields))
	return nil
}

// incidentChange carries out a step, answering a case changed meanwhile with a message instead of an error.
func (s *Feature) incidentChange(w http.ResponseWriter, r *http.Request, c store.IncidentCase, ch store.IncidentChange, v *site.Visitor, done string) error {
	ch.By = v.User.Navn
	if ch.Status == "" {
		ch.Status = c.Status
	}
	if ch.Owner == "" {
		ch.Owner = c.Owner
	}
	if ch.AwareAt.IsZero() {
		ch.AwareAt = c.AwareAt
	}
	if ch.Risk == nil {
		ch.Risk = c.Risk
	}
	if ch.Decision == nil {
		ch.Decision = c.Decision
	}
	res, err := s.DB.ChangeIncident(r.Context(), c.ID, c.Version, ch, v.Actor())
	switch {
	case errors.Is(err, store.ErrNoActiveGrant):
		s.Flash(r, "Konsumenten har ingen aktive tilganger å stanse. Tiltaket er ikke registrert.")
	case errors.Is(err, store.ErrConflict) && (ch.StopClient != "" || ch.ResumeClient != "" || ch.Suspend != nil || ch.ResumeConsumer != ""):
		s.Flash(r, "Tilgangen er ikke lenger i den tilstanden siden viste, eller saken holder allerede stansen. Ingenting er endret.")
	case errors.Is(err, store.ErrExists) && len(ch.ConsumerLetters) > 0:
		// Rule AA-22: once per case, consumer and phase.
		s.Flash(r, "Dette brevet er allerede sendt til alle konsumentene i beregningen. Ingenting er sendt på nytt.")
	case errors.Is(err, store.ErrConflict):
		s.Flash(r, "Saken ble endret av noen andre mens du arbeidet. Se over og prøv igjen.")
	case err != nil:
		return err
	default:
		switch {
		case ch.Suspend != nil && res.Grants == 0:
			// Rule AV-02: suspended already by another holder; this case holds it too.
			done += " Konsumenten var allerede suspendert. Saken holder nå også suspensjonen."
		case ch.Suspend != nil:
			done += fmt.Sprintf(" Tilgangen er suspendert (%d vedtak), og varsel er sendt til %d kontaktpersoner.", res.Grants, res.Letters)
		}
		if len(ch.ConsumerLetters) > 0 {
			// Rule AA-22: the letters actually sent, and the consumers no letter reached.
			done = fmt.Sprintf("Brevet er sendt til kontaktpersonene hos %d konsumenter.", res.Consumers)
			if before := len(ch.ConsumerLetters) - res.Consumers - len(res.NoRecipients); before > 0 {
				done += fmt.Sprintf(" %d hadde fått dette brevet før og fikk det ikke på nytt.", before)
			}
			if len(res.NoRecipients) > 0 {
				done += " Ikke sendt, fordi ingen kontaktperson, administrator eller rolleinnehaver finnes: " + s.consumerNames(r, res.NoRecipients) +
					". Be dem registrere en kontaktperson, og send brevet på nytt."
			}
		}
		if len(res.SameKey) > 0 {
			// Rule AV-02: the organisation's other clients with the same key go with it.
			done += " Klientene med samme nøkkel følger med: " + strings.Join(res.SameKey, ", ") + "."
		}
		if res.StillHeld > 0 {
			// Rule AV-02: another holder keeps the stop.
			done = fmt.Sprintf("Saken har sluppet stansen, men tilgangen er fortsatt stanset: %d andre holder stansen (andre avvikssaker eller en suspensjon fra konsumentens side).", res.StillHeld)
		}
		s.Log.Info("breach case changed", "incident", c.ID, "step", ch.Step, "user", v.User.ID)
		s.Flash(r, done)
	}
	site.Redirect(w, r, "/portal/avvik/"+c.ID)
	return nil
}

// consumerNames are the consumers as "Name (org.nr. X)", comma-separated.
func (s *Feature) consumerNames(r *http.Request, orgnrs []string) string {
	out := make([]string, len(orgnrs))
	for i, o := range orgnrs {
		out[i] = "org.nr. " + o
		if c, err := s.DB.Consumer(r.Context(), o); err == nil {
			out[i] = c.Navn + " (org.nr. " + o + ")"
		}
	}
	return strings.Join(out, ", ")
}

// incidentTake takes a reported case: the case worker owns it and records
// when the register became aware (WP250: a recorded decision); a
// processor's awareness still starts the clock (Rule AV-03).
func (s *Feature) incidentTake(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	to, err := incident.Transition(c.Status, incident.StepAssess, incidentActor(v))
	if err != nil {
		return httperr.ErrNotFound
	}
	values := map[string]string{"kjent": r.PostFormValue("kjent")}
	bad := map[string]string{}
	// The register is aware at the latest when the report reached it: taking
	// the case later does not move the 72-hour clock (Rule AV-05).
	aware := c.Report.ReportedAt
	if t := s.ParseFormTime(strings.TrimSpace(values["kjent"]), "kjent", "når registerforvalteren ble kjent med avviket", bad); t != nil {
		aware = *t
	}
	switch {
	case aware.After(s.Now()):
		bad["kjent"] = "Tidspunktet kan ikke være frem i tid."
	case !c.Report.ReportedAt.IsZero() && aware.After(c.Report.ReportedAt):
		bad["kjent"] = "Registerforvalteren ble kjent med avviket senest da meldingen kom inn, " + s.OsloTime(c.Report.ReportedAt) + "."
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "ta", values, bad, []string{"kjent"})
	}
	taken := c.Breach
	taken.AwareAt = aware
	return s.incidentChange(w, r, c, store.IncidentChange{Step: string(incident.StepAssess), Status: to, Owner: v.User.ID, AwareAt: aware}, v,
		"Du har tatt saken. Fristen for melding til Datatilsynet løper fra "+s.OsloTime(taken.Awareness())+".")
}

// stopTargets are the consumers whose access a case reported by org may stop:
// org itself, and the consumers a processor org acts for under a delegation.
func (s *Feature) stopTargets(r *http.Request, b *incident.Breach) ([]string, error) {
	org := b.Report.ReportedBy.Org
	if org == "" || org == governance.AuthorityOrg {
		return nil, nil
	}
	ds, err := s.DB.ProcessorDelegations(r.Context(), org)
	if err != nil {
		return nil, err
	}
	out := []string{org}
	for _, d := range ds {
		// A processor's report under an agreement (Rule DPA-07) reaches that agreement's controller only.
		if d.ActiveAt(s.Now()) && (b.Report.Controller == "" || d.Consumer == b.Report.Controller) && !slices.Contains(out, d.Consumer) {
			out = append(out, d.Consumer)
		}
	}
	return out, nil
}

// stopChoices are the consumers a case's stop-access measure may suspend,
// by name, chosen as selected says: the reporting consumer, and the
// consumers a reporting processor acts for — never the processor itself,
// which is no consumer of its own in the case (issue 12).
func (s *Feature) stopChoices(r *http.Request, b *incident.Breach, selected string) []labelled {
	targets, err := s.stopTargets(r, b)
	if err != nil {
		return nil
	}
	var out []labelled
	for _, orgnr := range targets {
		if b.Report.ByProcessor && orgnr == b.Report.ReportedBy.Org {
			continue
		}
		cons, err := s.DB.Consumer(r.Context(), orgnr)
		if err != nil {
			continue // not a consumer: nothing to suspend
		}
		out = append(out, labelled{orgnr, cons.Navn + " (org.nr. " + orgnr + ")", orgnr == selected})
	}
	return out
}

// incidentMeasure records an immediate measure, done or considered and set
// aside (Rule AV-02); "stop access" with a consumer suspends it in the same
// transaction, with the written notice to its contacts (Rule AA-25).
func (s *Feature) incidentMeasure(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	fields := []string{incident.FieldMeasureKind, incident.FieldMeasureNote, incident.FieldMeasureAt, "konsument", fieldClient}
	values := map[string]string{}
	for _, f := range append(fields, "utfort") {
		values[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	bad := map[string]string{}
	m := incident.Measure{Kind: incident.MeasureKind(values[incident.FieldMeasureKind]), Done: values["utfort"] != "nei",
		Note: values[incident.FieldMeasureNote], By: incidentActor(v), At: s.Now()}
	if t := s.ParseFormTime(values[incident.FieldMeasureAt], incident.FieldMeasureAt, "når tiltaket ble gjort", bad); t != nil {
		m.At = *t
	}
	for k, msg := range m.Validate(s.Now()) {
		if _, ok := bad[k]; !ok {
			bad[k] = msg
		}
	}
	ch := store.IncidentChange{Step: store.StepMeasure, Measure: &m, Note: m.Kind.Label()}
	if m.Kind == incident.MeasureStopAccess && m.Done && values["konsument"] != "" {
		// Stopping access from a case is suspension (Rule AA-25): the case
		// workers' power, as on the consumer's page, on a case that is being
		// handled, and only for the organisations the breach concerns.
		if !v.Staff(governance.Saksbehandler) || c.Status == incident.StatusReported || c.Status == incident.StatusFollowedUp {
			return httperr.ErrForbidden
		}
		targets, err := s.stopTargets(r, &c.Breach)
		if err != nil {
			return err
		}
		cons, err := s.DB.Consumer(r.Context(), values["konsument"])
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(targets, cons.Orgnr)):
			bad["konsument"] = "Fra en avvikssak kan du bare stanse tilgangen til virksomheten som meldte avviket, eller konsumentene en " +
				"databehandler som meldte det, handler for. Andre konsumenter suspenderes fra konsumentens side."
		case err != nil:
			return err
		default:
			m.Target = cons.Orgnr
			reason := "avvik på personopplysningssikkerheten: " + m.Note
			ch.Suspend = &store.IncidentSuspension{Consumer: cons.Orgnr, Reason: reason, Letter: governance.Letter{
				Subject: "Varsel: tilgangen til Aa-registeret er suspendert",
				Body: fmt.Sprintf("Til %s (org.nr. %s)\n\nRegisterforvalteren har suspendert virksomhetens tilgang til Aa-registeret fra %s, med virkning straks, "+
					"for å stanse ytterligere tilgang etter et avvik på personopplysningssikkerheten (regel AV-02). "+
					"Et brudd på konfidensialiteten stanser utvekslingen til forholdet er rettet (regel AA-25).\n\n"+
					"Dette er gjort:\n%s\n\nRegisterforvalteren gjenopptar tilgangen når forholdet er rettet. Brevet finnes også i portalen under Brev.\n\n"+
					"Saksbehandler: %s (%s)\n", cons.Navn, cons.Orgnr, s.OsloTime(s.Now()), m.Note, v.User.Navn, v.User.Email)}}
		}
	}
	if m.Kind == incident.MeasureStopAccess && m.Done && values[fieldClient] != "" && len(bad) == 0 {
		if err := s.stopClient(r, v, c, &m, &ch, values[fieldClient], bad); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "tiltak", values, bad, fields)
	}
	return s.incidentChange(w, r, c, ch, v, "Tiltaket er registrert.")
}

// assessmentFields are the assessment form's fields, in the order the error summary lists them.
var assessmentFields = []string{incident.FieldData, incident.FieldDataReason(0), incident.FieldAdjustment(0, 0), incident.FieldEI,
	incident.FieldConfidentiality, incident.FieldIntegrity, incident.FieldAvailability, incident.FieldMalicious,
	incident.FieldSpecialCategories, incident.FieldPersonsCount, incident.FieldReputationalLoss, incident.FieldIdentityTheft,
	incident.FieldFinancialLoss, incident.FieldSecurity, incident.FieldNeedsMeasures, incident.FieldCauseNote,
	incident.FieldWhoGotAccess, incident.FieldUnintelligible}

// incidentAssess records the risk assessment: ENISA's inputs with a reason
// for each, and the seed's factors (Rule AV-04).
func (s *Feature) incidentAssess(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	if c.Status != incident.StatusAssessing || !incidentActor(v).Staff() {
		return httperr.ErrNotFound
	}
	values := map[string]string{}
	for _, f := range []string{incident.FieldData, incident.FieldDataReason(0), incident.FieldAdjustment(0, 0), "justering_begrunnelse",
		incident.FieldEI, "ei_begrunnelse", incident.FieldConfidentiality, incident.FieldConfidentiality + "_begrunnelse",
		incident.FieldIntegrity, incident.FieldIntegrity + "_begrunnelse", incident.FieldAvailability, incident.FieldAvailability + "_begrunnelse",
		incident.FieldMalicious, incident.FieldMalicious + "_begrunnelse", incident.FieldPersonsCount, incident.FieldCauseNote, incident.FieldWhoGotAccess} {
		values[f] = r.PostFormValue(f)
	}
	for _, f := range factorFields {
		values[f.field], values[f.field+"_begrunnelse"] = r.PostFormValue(f.field), r.PostFormValue(f.field+"_begrunnelse")
	}
	bad := map[string]string{}
	cb := func(field string) incident.Circumstance {
		n, err := strconv.Atoi(values[field])
		if err != nil {
			n = -1
		}
		return incident.Circumstance{Level: incident.CBLevel(n), Reason: values[field+"_begrunnelse"]}
	}
	ds := incident.DataScore{Category: incident.DataCategory(values[incident.FieldData]), Reason: values[incident.FieldDataReason(0)]}
	if adj := strings.TrimSpace(values[incident.FieldAdjustment(0, 0)]); adj != "" && adj != "0" {
		n, err := strconv.Atoi(strings.TrimPrefix(adj, "+"))
		if err != nil {
			n = 99
		}
		ds.Adjustments = []incident.Adjustment{{Delta: n, Reason: values["justering_begrunnelse"]}}
	}
	factor := func(field string) incident.Factor {
		return incident.Factor{Present: values[field] == "ja", Reason: values[field+"_begrunnelse"]}
	}
	persons, err := incident.ParseApprox(values[incident.FieldPersonsCount])
	if err != nil {
		bad[incident.FieldPersonsCount] = "Oppgi et tall, et intervall (100–500) eller «ukjent»."
	}
	as := incident.Assessment{Data: []incident.DataScore{ds}, EI: incident.EI(values[incident.FieldEI]), EIReason: values["ei_begrunnelse"],
		Confidentiality: cb(incident.FieldConfidentiality), Integrity: cb(incident.FieldIntegrity), Availability: cb(incident.FieldAvailability),
		Malicious: values[incident.FieldMalicious] == "ja", MaliciousReason: values[incident.FieldMalicious+"_begrunnelse"],
		Factors: incident.Factors{SpecialCategories: factor(incident.FieldSpecialCategories), Persons: persons,
			ReputationalLoss: factor(incident.FieldReputationalLoss), IdentityTheft: factor(incident.FieldIdentityTheft),
			FinancialLoss: factor(incident.FieldFinancialLoss), Security: factor(incident.FieldSecurity),
			NeedsMeasures: factor(incident.FieldNeedsMeasures), CauseNote: values[incident.FieldCauseNote],
			WhoGotAccess: values[incident.FieldWhoGotAccess], Unintelligible: factor(incident.FieldUnintelligible)}}
	for k, msg := range as.Validate() {
		if _, ok := bad[k]; !ok {
			bad[k] = msg
		}
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "risiko", values, bad, assessmentFields)
	}
	return s.incidentChange(w, r, c, store.IncidentChange{Step: store.StepRisk, Risk: &as,
		Note: "Alvorlighetsgrad " + fmtScore(as.Score()) + " (" + string(as.Band()) + ")"}, v, "Risikovurderingen er registrert.")
}

var decisionFields = []string{incident.FieldNotifyDT, incident.FieldReason, incident.FieldPersons, incident.FieldPersonsReason,
	incident.FieldExemption, incident.FieldPublicNotice}

// incidentDecide records the decision on notifying Datatilsynet and the
// persons, with a written reason when not notifying (Rules AV-04, AV-06),
// and moves the case on; it rests on a recorded risk assessment.
func (s *Feature) incidentDecide(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	a := incidentActor(v)
	values := map[string]string{}
	for _, f := range decisionFields {
		values[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	d := incident.Decision{NotifyDT: values[incident.FieldNotifyDT] == "ja", Reason: values[incident.FieldReason],
		Persons: incident.PersonsChoice(values[incident.FieldPersons]), PersonsReason: values[incident.FieldPersonsReason],
		Exemption: incident.Exemption(values[incident.FieldExemption]), PublicNotice: values[incident.FieldPublicNotice], By: a, At: s.Now()}
	bad := d.Validate()
	if values[incident.FieldNotifyDT] == "" {
		bad[incident.FieldNotifyDT] = "Velg om avviket skal meldes til Datatilsynet."
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "beslutning", values, bad, decisionFields)
	}
	to, err := incident.Transition(c.Status, d.Step(), a)
	if err != nil {
		return httperr.ErrNotFound
	}
	next := c.Breach
	next.Decision = &d
	if err := next.Ready(d.Step(), a); err != nil {
		bad[incident.FieldNotifyDT] = "Registrer risikovurderingen før beslutningen."
		return s.incidentFail(w, r, v, c, "beslutning", values, bad, decisionFields)
	}
	note := d.Reason
	return s.incidentChange(w, r, c, store.IncidentChange{Step: string(d.Step()), Status: to, Decision: &d, Note: note}, v, "Beslutningen er registrert.")
}

var filingFields = []string{incident.FieldPhase, incident.FieldNature, incident.FieldSubjectCategories, incident.FieldSubjects,
	incident.FieldRecordCategories, incident.FieldRecords, incident.FieldContactName, incident.FieldContactEmail,
	incident.FieldConsequences, incident.FieldMeasures, incident.FieldLateReason}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// incidentFile records a notice to Datatilsynet: the first, which says
// whether more will follow, or a supplement, each kept with its time and
// content; after the 72 hours the first gives the reasons for the delay
// (Rule AV-05). Only the register's staff file, as the controller (Rule DPA-08).
func (s *Feature) incidentFile(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	a := incidentActor(v)
	if err := incident.MayFile(a); err != nil {
		return httperr.ErrNotFound
	}
	values := map[string]string{}
	for _, f := range append(filingFields, "mer", "kontakt_telefon", "kanal", "dt_referanse") {
		values[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	bad := map[string]string{}
	approx := func(field string) incident.Approx {
		if values[field] == "" {
			return incident.Approx{}
		}
		n, err := incident.ParseApprox(values[field])
		if err != nil {
			bad[field] = "Oppgi et tall, et intervall (100–500) eller «ukjent»."
		}
		return n
	}
	f := incident.Filing{Phase: incident.Phase(values[incident.FieldPhase]), MoreToFollow: values["mer"] == "ja",
		Content: incident.Content{Nature: values[incident.FieldNature], SubjectCategories: splitList(values[incident.FieldSubjectCategories]),
			Subjects: approx(incident.FieldSubjects), RecordCategories: splitList(values[incident.FieldRecordCategories]),
			Records: approx(incident.FieldRecords), Contact: incident.Contact{Name: values[incident.FieldContactName],
				Email: values[incident.FieldContactEmail], Phone: values["kontakt_telefon"]},
			Consequences: values[incident.FieldConsequences], Measures: values[incident.FieldMeasures]},
		LateReason: values[incident.FieldLateReason], Channel: values["kanal"], Reference: values["dt_referanse"], By: a, At: s.Now()}
	for k, msg := range f.Validate(c.Filings, c.Breach.Awareness()) {
		if _, ok := bad[k]; !ok {
			bad[k] = msg
		}
	}
	step := incident.StepFileInitial
	if f.Phase == incident.PhaseSupplement {
		step = incident.StepFileSupplement
		if len(c.Filings) > 0 {
			f.FirstAt = c.Filings[0].At // art. 33(4): the supplement names the notice it supplements
			if f.Reference == "" {
				f.Reference = c.Filings[0].Reference
			}
		}
	}
	to, err := incident.Transition(c.Status, step, a)
	if err != nil {
		bad[incident.FieldPhase] = "Saken må ha en beslutning om å melde før noe sendes til Datatilsynet."
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "melding", values, bad, filingFields)
	}
	note := phaseLabel(f.Phase)
	if f.LateReason != "" {
		note += " – etter fristen: " + f.LateReason
	}
	return s.incidentChange(w, r, c, store.IncidentChange{Step: string(step), Status: to, Filing: &f, Note: note}, v,
		phaseLabel(f.Phase)+" til Datatilsynet er registrert. Last ned meldingen for innsending.")
}

// incidentClose closes a handled case (Rule AV-07) when nothing keeps it
// open (incident.Breach.CloseMissing: a measure, a complete notice, the
// persons notified or the exemption's public notice, the consumers' letters).
func (s *Feature) incidentClose(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	a := incidentActor(v)
	to, err := incident.Transition(c.Status, incident.StepClose, a)
	if err != nil {
		return httperr.ErrNotFound
	}
	if err := c.Ready(incident.StepClose, a); err != nil {
		s.Flash(r, "Saken kan ikke lukkes ennå: "+strings.Join(c.CloseMissing(), " "))
		site.Redirect(w, r, "/portal/avvik/"+c.ID)
		return nil
	}
	return s.incidentChange(w, r, c, store.IncidentChange{Step: string(incident.StepClose), Status: to}, v, "Saken er lukket.")
}

// incidentDocument is the notice to Datatilsynet as a document to download:
// what has been told so far (art. 33(3)), and each filing with its time (Rule AV-05).
func (s *Feature) incidentDocument(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return err
	}
	if len(c.Filings) == 0 || !incidentActor(v).Staff() {
		return httperr.ErrNotFound
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="melding-til-datatilsynet.txt"`)
	w.Write([]byte(s.filingDocument(c)))
	return nil
}

// filingDocument writes the art. 33(3) content in Norwegian.
func (s *Feature) filingDocument(c store.IncidentCase) string {
	var b strings.Builder
	line := func(label, value string) {
		if value == "" {
			value = "(ikke oppgitt ennå)"
		}
		fmt.Fprintf(&b, "%s:\n%s\n\n", label, value)
	}
	m := incident.Merged(c.Filings)
	b.WriteString("MELDING OM BRUDD PÅ PERSONOPPLYSNINGSSIKKERHETEN\n(personvernforordningen artikkel 33)\n\n")
	fmt.Fprintf(&b, "Behandlingsansvarlig: registerforvalteren for Aa-registeret\nSak: %s\n", c.ID)
	fmt.Fprintf(&b, "Kjent med avviket: %s\nFrist (72 timer): %s\n\n", s.OsloTime(c.Awareness()), s.OsloTime(incident.NotifyDeadline(c.Awareness())))
	line("a) Avvikets art", m.Nature)
	line("a) Kategorier av registrerte", strings.Join(m.SubjectCategories, ", "))
	line("a) Omtrentlig antall registrerte", approxText(m.Subjects))
	line("a) Kategorier av personopplysninger", strings.Join(m.RecordCategories, ", "))
	line("a) Omtrentlig antall registreringer", approxText(m.Records))
	contact := m.Contact.Name
	for _, x := range []string{m.Contact.Email, m.Contact.Phone} {
		if x != "" {
			contact += ", " + x
		}
	}
	line("b) Kontaktpunkt", contact)
	line("c) Sannsynlige konsekvenser", m.Consequences)
	line("d) Tiltak som er truffet eller foreslås", m.Measures)
	b.WriteString("MELDINGER SENDT\n\n")
	for _, f := range c.Filings {
		fmt.Fprintf(&b, "- %s, %s, av %s", phaseLabel(f.Phase), s.OsloTime(f.At), f.By.Name)
		if f.MoreToFollow {
			b.WriteString(" – mer informasjon følger (trinnvis melding)")
		}
		b.WriteString("\n")
		if f.LateReason != "" {
			fmt.Fprintf(&b, "  Årsak til forsinkelse: %s\n", f.LateReason)
		}
	}
	return b.String()
}

func approxText(a incident.Approx) string {
	if a == (incident.Approx{}) {
		return ""
	}
	return a.String()
}
