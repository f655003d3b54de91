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
// The store stops it in the measure's transaction, with this case holding
// the stop (Rule AV-02: a client another case stopped already stays stopped
// until both release it), and the client's organisation is told in writing
// (Rule AA-25); the token server refuses it from its next token request and
// the API from its next call.
func (s *Feature) stopClient(r *http.Request, v *site.Visitor, c store.IncidentCase, m *incident.Measure, ch *store.IncidentChange, id string, bad map[string]string) error {
	if !v.Staff(governance.Saksbehandler) || c.Status == incident.StatusReported || c.Status == incident.StatusFollowedUp {
		return httperr.ErrForbidden
	}
	targets, err := s.stopTargets(r, &c.Breach)
	if err != nil {
		return err
	}
	cl, err := s.DB.Client(r.Context(), id)
	var holders []string
	if err == nil && !cl.Active {
		if holders, err = s.DB.ClientStopHolders(r.Context(), id); err != nil {
			return err
		}
	}
	switch {
	case err != nil && !errors.Is(err, token.ErrUnknownClient):
		return err
	case err != nil || !slices.Contains(targets, cl.Orgnr):
		// The same answer for a client that does not exist and one of another organisation.
		bad[fieldClient] = "Fra en avvikssak kan du bare stanse klienter til virksomheten som meldte avviket, eller til konsumentene en databehandler som meldte det, handler for."
	case slices.Contains(holders, c.ID):
		bad[fieldClient] = "Denne saken har allerede stanset klienten."
	case !cl.Active && len(holders) == 0:
		bad[fieldClient] = "Klienten er allerede stanset eller avsluttet."
	default:
		m.Target = clientTarget + cl.ID
		ch.StopClient, ch.StopClientOrgs = cl.ID, targets
		ch.AccessLetter = governance.Letter{Subject: "Varsel: en API-klient er stanset i Aa-registeret",
			Body: fmt.Sprintf("Til virksomheten (org.nr. %s)\n\nRegisterforvalteren har stanset API-klienten %s fra %s, med virkning straks, "+
				"for å stanse ytterligere tilgang etter et avvik på personopplysningssikkerheten. Klienten får ikke nye tokener, og tokenene den har, "+
				"avvises fra neste kall. Virksomhetens andre klienter er ikke berørt, med mindre de bruker samme nøkkel.\n\nDette er gjort:\n%s\n\n"+
				"Registerforvalteren gjenopptar klienten når forholdet er rettet, og sier fra i et nytt brev. Brevet finnes også i portalen under Brev.\n\n"+
				"Saksbehandler: %s (%s)\n", cl.Orgnr, cl.ID, s.OsloTime(s.Now()), m.Note, v.User.Navn, v.User.Email)}
	}
	return nil
}

// stoppedClients are the clients whose stop this case holds (Rule AV-02).
func (s *Feature) stoppedClients(r *http.Request, b *incident.Breach) []string {
	var out []string
	for _, m := range b.Measures {
		id, ok := strings.CutPrefix(m.Target, clientTarget)
		if !ok || slices.Contains(out, id) {
			continue
		}
		if holders, err := s.DB.ClientStopHolders(r.Context(), id); err == nil && slices.Contains(holders, b.ID) {
			out = append(out, id)
		}
	}
	return out
}

// incidentResumeClient releases this case's stop of a client (Rule AV-02).
// The client has access again only when no other case holds a stop of it
// (Rule AV-02); then its organisation is told in writing (Rule AA-25).
func (s *Feature) incidentResumeClient(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	id := r.PostFormValue(fieldClient)
	if !slices.ContainsFunc(c.Measures, func(m incident.Measure) bool { return m.Target == clientTarget+id }) {
		return httperr.ErrNotFound
	}
	cl, err := s.DB.Client(r.Context(), id)
	if err != nil {
		return err
	}
	ch := store.IncidentChange{Step: store.StepResume, ResumeClient: id, Note: "Klient " + id + " gjenopptatt fra saken",
		AccessLetter: governance.Letter{Subject: "Varsel: API-klienten har tilgang til Aa-registeret igjen",
			Body: fmt.Sprintf("Til virksomheten (org.nr. %s)\n\nRegisterforvalteren har gjenopptatt API-klienten %s fra %s. "+
				"Klienten kan igjen hente tokener og gjøre oppslag.\n\nSaksbehandler: %s (%s)\n", cl.Orgnr, id, s.OsloTime(s.Now()), v.User.Navn, v.User.Email)}}
	return s.incidentChange(w, r, c, ch, v, "Klienten "+id+" har tilgang igjen, og virksomheten har fått brev om det.")
}

// suspendedConsumers are the consumers whose suspension this case holds (Rule AV-02).
func (s *Feature) suspendedConsumers(r *http.Request, b *incident.Breach) []string {
	var out []string
	for _, m := range b.Measures {
		if m.Kind != incident.MeasureStopAccess || m.Target == "" || strings.HasPrefix(m.Target, clientTarget) || slices.Contains(out, m.Target) {
			continue
		}
		if cases, _, err := s.DB.ConsumerStopHolders(r.Context(), m.Target); err == nil && slices.Contains(cases, b.ID) {
			out = append(out, m.Target)
		}
	}
	return out
}

// incidentResumeConsumer releases this case's hold of a consumer's
// suspension (Rule AV-02). The consumer has access again only when no other
// case, and no suspension on the consumer's page, holds it (Rule AV-02);
// then its contacts are told in writing (Rule AA-25).
func (s *Feature) incidentResumeConsumer(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	orgnr := r.PostFormValue("konsument")
	if orgnr == "" || !slices.ContainsFunc(c.Measures, func(m incident.Measure) bool { return m.Kind == incident.MeasureStopAccess && m.Target == orgnr }) {
		return httperr.ErrNotFound
	}
	cons, err := s.DB.Consumer(r.Context(), orgnr)
	if err != nil {
		return err
	}
	ch := store.IncidentChange{Step: store.StepResume, ResumeConsumer: orgnr, Note: "Konsument " + orgnr + " gjenopptatt fra saken",
		AccessLetter: governance.Letter{Subject: "Tilgangen til Aa-registeret er gjenopptatt",
			Body: fmt.Sprintf("Til %s (org.nr. %s)\n\nRegisterforvalteren har gjenopptatt virksomhetens tilgang til Aa-registeret fra %s. "+
				"Tilgangene som ble suspendert etter avviket, virker igjen på samme vilkår som før.\n\nSaksbehandler: %s (%s)\n",
				cons.Navn, cons.Orgnr, s.OsloTime(s.Now()), v.User.Navn, v.User.Email)}}
	return s.incidentChange(w, r, c, ch, v, "Tilgangen til "+cons.Navn+" er gjenopptatt, og kontaktpersonene har fått brev om det.")
}

// ---- Notices to the persons affected (Rule AV-06) and letters to the consumers (Rule AA-22) ----

// letterPhases are the phases of the letters to the consumers affected
// (Rule AA-22): each consumer gets one letter a phase on a case.
var letterPhases = []labelled{{"forste", "Første brev: avviket og hva virksomheten bør gjøre", false},
	{"oppdatering", "Oppdatering: ny kunnskap eller nye tiltak", false},
	{"avslutning", "Avslutning: forholdet er rettet", false}}

// maxLetterText caps the text of a letter to the consumers (Rule AA-22).
const maxLetterText = 8000

// incidentConsumerLetters writes to the contact persons of every consumer a
// computation of who was affected names: a letter in the portal and an
// e-mail each (Rule AA-22), each stating the persons and lookups of that
// consumer only — counted again from the log at the computation's
// checkpoint, narrowed to the consumer — and sent once per consumer and
// phase: a form sent twice sends nothing the second time.
func (s *Feature) incidentConsumerLetters(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	if c.Status == incident.StatusReported || c.Status == incident.StatusFollowedUp {
		return httperr.ErrNotFound
	}
	values := map[string]string{fieldNoticeComputation: r.PostFormValue(fieldNoticeComputation), "brevtekst": strings.TrimSpace(r.PostFormValue("brevtekst")),
		"brevfase": r.PostFormValue("brevfase")}
	fields := []string{fieldNoticeComputation, "brevfase", "brevtekst"}
	bad := map[string]string{}
	a := computation(c, values[fieldNoticeComputation])
	switch {
	case a == nil:
		bad[fieldNoticeComputation] = "Velg en beregning av hvem som er berørt."
	case len(a.Consumers) == 0:
		bad[fieldNoticeComputation] = "Beregningen omfatter ingen konsumenter."
	}
	if values["brevfase"] == "" {
		values["brevfase"] = letterPhases[0].Value
	}
	phase := ""
	for _, ph := range letterPhases {
		if ph.Value == values["brevfase"] {
			phase = ph.Label
		}
	}
	if phase == "" {
		bad["brevfase"] = "Velg hvilket brev dette er."
	}
	switch text := values["brevtekst"]; {
	case text == "":
		bad["brevtekst"] = "Skriv hva konsumentene skal vite om avviket."
	case len([]rune(text)) > maxLetterText:
		bad["brevtekst"] = fmt.Sprintf("Teksten er for lang: %d tegn, høyst %d.", len([]rune(text)), maxLetterText)
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "brev", values, bad, fields)
	}
	ch := store.IncidentChange{Step: store.StepLetters, LetterPhase: values["brevfase"],
		Note: fmt.Sprintf("%s: %d konsumenter fra beregning %s", phase, len(a.Consumers), a.ID)}
	for _, orgnr := range a.Consumers {
		// Rule AA-22: the consumer's own share, not the computation's total.
		scope := store.AffectedScope(*a)
		scope.Consumer = orgnr
		own, err := s.DB.Affected(r.Context(), scope)
		if err != nil {
			return err
		}
		ch.ConsumerLetters = append(ch.ConsumerLetters, governance.Letter{Consumer: orgnr, Kind: "incident.consumer",
			Subject: "Avvik på personopplysningssikkerheten hos registerforvalteren",
			Body: fmt.Sprintf("Til virksomheten (org.nr. %s)\n\nRegisterforvalteren for Aa-registeret har hatt et avvik på personopplysningssikkerheten "+
				"som berører oppslag virksomheten har gjort. Avviket berører %d personer i %d av virksomhetens oppslag.\n\n%s\n\n"+
				"Saksbehandler: %s (%s)\n", orgnr, len(own.Persons), own.Records, values["brevtekst"], v.User.Navn, v.User.Email)})
	}
	return s.incidentChange(w, r, c, ch, v, "") // incidentChange says how many consumers got the letter (Rule AA-22)
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
