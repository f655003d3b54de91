package breach

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// The rest of a case (issue 12): stopping one API client from the case and
// resuming it (Rule AV-02), the notices to the persons affected (Rule AV-06)
// and the letters to the consumers affected (Rule AA-22), both from a
// computation of who was affected from the lookup log, and the learning
// follow-up after closing (Rule AV-08). A person sees the notices about
// them on their own page.

// fieldClient is the measure form's API client to stop.
const fieldClient = "klient"

// clientTarget marks a measure's target as an API client (incident.Measure.Target).
const clientTarget = "klient:"

// stopClient makes a stop-access measure stop one API client (Rule AV-02):
// the case workers' power, as for a consumer, on a case being handled, and
// only for a client of the organisations the breach concerns (stopTargets).
// The store stops it in the measure's transaction; the token server refuses
// it from its next token request and the API from its next call.
func (s *Feature) stopClient(r *http.Request, v *site.Visitor, c store.IncidentCase, m *incident.Measure, ch *store.IncidentChange, id string, bad map[string]string) error {
	if !v.Staff(governance.Saksbehandler) || c.Status == incident.StatusReported || c.Status == incident.StatusFollowedUp {
		return httperr.ErrForbidden
	}
	targets, err := s.stopTargets(r, c.Report.ReportedBy.Org)
	if err != nil {
		return err
	}
	cl, err := s.DB.Client(r.Context(), id)
	switch {
	case err != nil && !errors.Is(err, token.ErrUnknownClient):
		return err
	case err != nil || !slices.Contains(targets, cl.Orgnr):
		// The same answer for a client that does not exist and one of another organisation.
		bad[fieldClient] = "Fra en avvikssak kan du bare stanse klienter til virksomheten som meldte avviket, eller til konsumentene en databehandler som meldte det, handler for."
	case !cl.Active:
		bad[fieldClient] = "Klienten er allerede stanset eller avsluttet."
	default:
		m.Target = clientTarget + cl.ID
		ch.StopClient, ch.StopClientOrgs = cl.ID, targets
	}
	return nil
}

// stoppedClients are the clients stopped by the case's measures that are still stopped.
func (s *Feature) stoppedClients(r *http.Request, b *incident.Breach) []string {
	var out []string
	for _, m := range b.Measures {
		id, ok := strings.CutPrefix(m.Target, clientTarget)
		if !ok || slices.Contains(out, id) {
			continue
		}
		if cl, err := s.DB.Client(r.Context(), id); err == nil && !cl.Active {
			out = append(out, id)
		}
	}
	return out
}

// incidentResumeClient resumes a client stopped from this case (Rule AV-02).
func (s *Feature) incidentResumeClient(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	id := r.PostFormValue(fieldClient)
	if !slices.ContainsFunc(c.Measures, func(m incident.Measure) bool { return m.Target == clientTarget+id }) {
		return httperr.ErrNotFound
	}
	return s.incidentChange(w, r, c, store.IncidentChange{Step: store.StepResume, ResumeClient: id, Note: "Klient " + id + " gjenopptatt"}, v,
		"Klienten "+id+" har tilgang igjen.")
}

// ---- Notices to the persons affected (Rule AV-06) and letters to the consumers (Rule AA-22) ----

// incidentConsumerLetters writes to the contact persons of every consumer a
// computation of who was affected names: a letter in the portal and an
// e-mail each (Rule AA-22).
func (s *Feature) incidentConsumerLetters(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	if c.Status == incident.StatusReported || c.Status == incident.StatusFollowedUp {
		return httperr.ErrNotFound
	}
	values := map[string]string{fieldNoticeComputation: r.PostFormValue(fieldNoticeComputation), "brevtekst": strings.TrimSpace(r.PostFormValue("brevtekst"))}
	fields := []string{fieldNoticeComputation, "brevtekst"}
	bad := map[string]string{}
	a := computation(c, values[fieldNoticeComputation])
	switch {
	case a == nil:
		bad[fieldNoticeComputation] = "Velg en beregning av hvem som er berørt."
	case len(a.Consumers) == 0:
		bad[fieldNoticeComputation] = "Beregningen omfatter ingen konsumenter."
	}
	if values["brevtekst"] == "" {
		bad["brevtekst"] = "Skriv hva konsumentene skal vite om avviket."
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "brev", values, bad, fields)
	}
	ch := store.IncidentChange{Step: store.StepLetters, Note: fmt.Sprintf("%d konsumenter fra beregning %s", len(a.Consumers), a.ID)}
	for _, orgnr := range a.Consumers {
		ch.ConsumerLetters = append(ch.ConsumerLetters, governance.Letter{Consumer: orgnr, Kind: "incident.consumer",
			Subject: "Avvik på personopplysningssikkerheten hos registerforvalteren",
			Body: fmt.Sprintf("Til virksomheten (org.nr. %s)\n\nRegisterforvalteren for Aa-registeret har hatt et avvik på personopplysningssikkerheten "+
				"som berører oppslag virksomheten har gjort (regel AA-22). %d av virksomhetens oppslag er berørt.\n\n%s\n\n"+
				"Saksbehandler: %s (%s)\n", orgnr, a.Records, values["brevtekst"], v.User.Navn, v.User.Email)})
	}
	return s.incidentChange(w, r, c, ch, v, fmt.Sprintf("Brevet er sendt til kontaktpersonene hos %d konsumenter.", len(a.Consumers)))
}

// computation is the case's computation of who was affected with id, nil when none.
func computation(c store.IncidentCase, id string) *incident.AffectedCount {
	for i := range c.Affected {
		if c.Affected[i].ID == id {
			return &c.Affected[i]
		}
	}
	return nil
}

// personNoticeView is a notice on the person's own page.
type personNoticeView struct{ At, Subject, Body string }

type personNoticesPage struct {
	site.Frame
	Notices []personNoticeView
}

// personNotices shows a person the notices about breaches that affected
// them (Rule AV-06): only their own, found by the identity they signed in with.
func (s *Feature) personNotices(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ns, err := s.DB.IncidentPersonNotices(r.Context(), v.User.PID)
	if err != nil {
		return err
	}
	p := personNoticesPage{Frame: s.Frame(r, v, "Varsler om avvik")}
	for _, n := range ns {
		p.Notices = append(p.Notices, personNoticeView{At: s.OsloTime(n.At), Subject: n.Subject, Body: n.Body})
	}
	s.Render(w, r, "avvik_varsler.html", p)
	return nil
}

// ---- The learning follow-up (Rule AV-08) ----

var followUpFields = []string{incident.FieldArea, incident.FieldFinding, incident.FieldAction, incident.FieldOwner, incident.FieldDue}

// followUpOf is the case's follow-up as stored, to change.
func followUpOf(c store.IncidentCase) store.IncidentFollowUp {
	return store.IncidentFollowUp{Lessons: c.Lessons, ReviewAt: c.ReviewAt, Items: slices.Clone(c.FollowUp)}
}

// loadClosedIncident is a closed case for the register's staff; 404 otherwise.
func (s *Feature) loadClosedIncident(r *http.Request, v *site.Visitor) (store.IncidentCase, error) {
	c, err := s.loadStaffIncident(r, v)
	if err == nil && c.Status != incident.StatusClosed {
		return store.IncidentCase{}, httperr.ErrNotFound
	}
	return c, err
}

// incidentLessons records what was learnt and when the measures are reviewed (Rule AV-08).
func (s *Feature) incidentLessons(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadClosedIncident(r, v)
	if err != nil {
		return err
	}
	values := map[string]string{"laerdom": strings.TrimSpace(r.PostFormValue("laerdom")), "evaluering": strings.TrimSpace(r.PostFormValue("evaluering"))}
	bad := map[string]string{}
	f := followUpOf(c)
	f.Lessons = values["laerdom"]
	switch {
	case f.Lessons == "":
		bad["laerdom"] = "Skriv hva saken har lært registerforvalteren."
	case len([]rune(f.Lessons)) > 8000:
		bad["laerdom"] = "Teksten er for lang (høyst 8000 tegn)."
	}
	if t := s.ParseFormTime(values["evaluering"], "evaluering", "datoen for evaluering", bad); t != nil {
		if f.ReviewAt = *t; !f.ReviewAt.After(s.Now()) {
			bad["evaluering"] = "Evalueringen må være frem i tid."
		}
	} else if _, ok := bad["evaluering"]; !ok {
		bad["evaluering"] = "Oppgi når tiltakene skal evalueres."
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "laerdom", values, bad, []string{"laerdom", "evaluering"})
	}
	return s.incidentChange(w, r, c, store.IncidentChange{Step: store.StepFollowUp, FollowUp: &f, Note: "Læring og evaluering " + s.OsloTime(f.ReviewAt)}, v,
		"Læringen og evalueringsdatoen er registrert.")
}

// incidentFollowUpItem adds an action with an owner and a due date (Rule AV-08).
func (s *Feature) incidentFollowUpItem(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadClosedIncident(r, v)
	if err != nil {
		return err
	}
	values := map[string]string{}
	for _, f := range followUpFields {
		values[f] = r.PostFormValue(f)
	}
	bad := map[string]string{}
	it := incident.FollowUpItem{Area: incident.LessonArea(values[incident.FieldArea]), Finding: values[incident.FieldFinding],
		Action: values[incident.FieldAction], Owner: values[incident.FieldOwner]}
	if t := s.ParseFormTime(strings.TrimSpace(values[incident.FieldDue]), incident.FieldDue, "fristen", bad); t != nil {
		it.Due = *t
	}
	for k, msg := range it.Validate(s.Now()) {
		if _, ok := bad[k]; !ok {
			bad[k] = msg
		}
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "oppfolging", values, bad, followUpFields)
	}
	f := followUpOf(c)
	f.Items = append(f.Items, it)
	return s.incidentChange(w, r, c, store.IncidentChange{Step: store.StepFollowUp, FollowUp: &f, Note: it.Area.Label() + ": " + it.Action}, v,
		"Oppfølgingstiltaket er registrert.")
}

// incidentFollowUpDone marks an action done; when every action is done and
// the lessons and the review date are recorded, the follow-up is finished
// (incident.StepFollowUpDone).
func (s *Feature) incidentFollowUpDone(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadClosedIncident(r, v)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(c.FollowUp) || !c.FollowUp[n].DoneAt.IsZero() {
		return httperr.ErrNotFound
	}
	f := followUpOf(c)
	f.Items[n].DoneAt = s.Now()
	ch := store.IncidentChange{Step: store.StepFollowUp, FollowUp: &f, Note: "Utført: " + f.Items[n].Action}
	done := c.Breach
	done.FollowUp = f.Items
	a := incidentActor(v)
	if to, err := incident.Transition(c.Status, incident.StepFollowUpDone, a); err == nil && done.Ready(incident.StepFollowUpDone, a) == nil {
		ch.Step, ch.Status = string(incident.StepFollowUpDone), to
	}
	return s.incidentChange(w, r, c, ch, v, "Tiltaket er merket som utført.")
}

// followUpView is an action on the case page.
type followUpView struct {
	N                                 int
	Area, Finding, Action, Owner, Due string
	Done                              string
	Overdue                           bool
}

// followUpViews are the case's actions for the page.
func (s *Feature) followUpViews(b *incident.Breach, now time.Time) []followUpView {
	var out []followUpView
	for i, it := range b.FollowUp {
		fv := followUpView{N: i, Area: it.Area.Label(), Finding: it.Finding, Action: it.Action, Owner: it.Owner, Due: s.OsloTime(it.Due),
			Overdue: it.DoneAt.IsZero() && now.After(it.Due)}
		if !it.DoneAt.IsZero() {
			fv.Done = s.OsloTime(it.DoneAt)
		}
		out = append(out, fv)
	}
	return out
}
