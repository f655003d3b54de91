package breach

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Notifying the persons affected (Rule AV-06) and closing only when done.
// The case worker writes the notice for the persons (incident.PersonText:
// art. 34(2) in plain Norwegian, not the filing's text), sees it exactly as
// a person will (the preview page, with the person page's own card), and
// starts a job that a single-run job of serve carries out in batches
// (store.RunIncidentNotices); the case page shows its progress. A public
// notice (art. 34(3)(c)) is published from the case for the persons no one
// can reach directly. The case page lists in Norwegian what keeps the case
// from closing (incident.Breach.CloseMissing).

// Fields of the notify forms beside incident.NoticeFields.
const (
	fieldNoticeComputation = "beregning"
	fieldNoticeHash        = "varsel_sha256" // the hash of the notice previewed: starting needs it
	fieldPublicNotice      = "kunngjoring"
)

// registerName is how the notices name the controller.
const registerName = "registerforvalteren for Aa-registeret"

// maxPublicNotice caps a public notice's text.
const maxPublicNotice = 4000

// sessionNoticeKey names the session's key for the preview's MAC.
const sessionNoticeKey = "avvik_varsel_nokkel"

// fieldNoticeVersion is the case's version the preview was made at.
const fieldNoticeVersion = "versjon"

// noticeHash is the HMAC-SHA-256, under a random key kept in the case
// worker's session (server side: sessions live in the database, so any
// node checks it), of what was previewed: the notice, the computation, its
// number of persons and the case's version. Only the server can make it,
// so a start that did not come from this preview fails (Rule AV-06); a
// session without a key gets one.
func (s *Feature) noticeHash(r *http.Request, n incident.PersonNotice, a *incident.AffectedCount, version int) string {
	key := s.Sessions.GetBytes(r.Context(), sessionNoticeKey)
	if len(key) != 32 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err) // crypto/rand does not fail
		}
		s.Sessions.Put(r.Context(), sessionNoticeKey, key)
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%d\x00%d", n.Subject, n.Body, a.ID, a.Persons, version)
	return hex.EncodeToString(m.Sum(nil))
}

// notifyPreviewPage is the preview of the notice with its form to edit and to start.
type notifyPreviewPage struct {
	site.Frame
	C            store.IncidentCase
	Notice       personNoticeView
	Hash         string
	Version      int // the case's version previewed: the start refuses a case changed since
	Computation  string
	Persons      int
	ComputedAt   string
	incidentForm // the texts and their errors
	ErrorList    []site.FieldError
}

// notifyForm reads the notice form of case c: the text, the computation,
// and what is wrong, by field.
func notifyForm(r *http.Request, c store.IncidentCase) (incident.PersonText, *incident.AffectedCount, map[string]string, map[string]string) {
	var t incident.PersonText
	values := map[string]string{fieldNoticeComputation: r.PostFormValue(fieldNoticeComputation)}
	for f, p := range t.Fields() {
		*p = r.PostFormValue(f)
	}
	bad := t.Validate()
	for f, p := range t.Fields() {
		values[f] = *p
	}
	a := computation(c, values[fieldNoticeComputation])
	switch {
	case a == nil:
		bad[fieldNoticeComputation] = "Velg en beregning av hvem som er berørt."
	case a.Persons == 0:
		bad[fieldNoticeComputation] = "Beregningen omfatter ingen personer."
	}
	return t, a, values, bad
}

// loadNotifyIncident is a case decided on notifying the persons, for its staff; 404 otherwise.
func (s *Feature) loadNotifyIncident(r *http.Request, v *site.Visitor) (store.IncidentCase, error) {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return c, err
	}
	if c.Decision == nil || c.Decision.Persons != incident.PersonsNotify || c.Status == incident.StatusFollowedUp || c.Status == incident.StatusClosed {
		return store.IncidentCase{}, httperr.ErrNotFound
	}
	return c, nil
}

// incidentNotifyPreview shows the notice exactly as each person will see it
// (Rule AV-06), with the form to change it and the button that starts the job.
func (s *Feature) incidentNotifyPreview(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadNotifyIncident(r, v)
	if err != nil {
		return err
	}
	t, a, values, bad := notifyForm(r, c)
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "varsle", values, bad, append([]string{fieldNoticeComputation}, incident.NoticeFields...))
	}
	s.renderPreview(w, r, v, c, t, a, values, "")
	return nil
}

func (s *Feature) renderPreview(w http.ResponseWriter, r *http.Request, v *site.Visitor, c store.IncidentCase, t incident.PersonText, a *incident.AffectedCount, values map[string]string, msg string) {
	n := t.Letter(registerName)
	p := notifyPreviewPage{Frame: s.Frame(r, v, "Forhåndsvisning av varsel"), C: c,
		Notice: personNoticeView{At: s.OsloTime(s.Now()), Subject: n.Subject, Body: n.Body}, Hash: s.noticeHash(r, n, a, c.Version), Version: c.Version,
		Computation: a.ID, Persons: a.Persons, ComputedAt: s.OsloTime(a.At), incidentForm: incidentForm{Values: values, Errors: map[string]string{}}}
	if msg != "" {
		p.Errors[fieldNoticeHash] = msg
		p.ErrorList = site.ErrorList(p.Errors, fieldNoticeHash)
	}
	s.Render(w, r, "avvik_varsel.html", p)
}

// incidentNotifyPersons starts the job that notifies each person of a
// computation of who was affected (Rule AV-06), with the notice the case
// worker previewed: a text that differs from the preview (or was never
// previewed) is shown again instead. The persons are those the lookup log
// gives at the computation's checkpoint; identities never leave the server.
func (s *Feature) incidentNotifyPersons(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadNotifyIncident(r, v)
	if err != nil {
		return err
	}
	t, a, values, bad := notifyForm(r, c)
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "varsle", values, bad, append([]string{fieldNoticeComputation}, incident.NoticeFields...))
	}
	n := t.Letter(registerName)
	version, verr := strconv.Atoi(r.PostFormValue(fieldNoticeVersion))
	if got := r.PostFormValue(fieldNoticeHash); verr != nil || !hmac.Equal([]byte(got), []byte(s.noticeHash(r, n, a, version))) {
		w.WriteHeader(http.StatusBadRequest)
		s.renderPreview(w, r, v, c, t, a, values, "Se over varselet slik det blir sendt, og start varslingen herfra.")
		return nil
	}
	// The version previewed: a case changed since the preview is ErrConflict.
	_, err = s.DB.StartIncidentNotify(r.Context(), c.ID, version, store.IncidentNotifyJob{Computation: a.ID, Subject: n.Subject, Body: n.Body,
		Total: a.Persons, StartedBy: v.User.Navn}, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		s.Flash(r, "Saken ble endret, eller en varsling pågår allerede. Se over og prøv igjen.")
	case err != nil:
		return err
	default:
		s.Log.Info("breach notification started", "incident", c.ID, "persons", a.Persons, "user", v.User.ID)
		s.Flash(r, fmt.Sprintf("Varslingen av %d berørte personer er startet. Fremdriften vises her.", a.Persons))
	}
	site.Redirect(w, r, "/portal/avvik/"+c.ID+"#varsle")
	return nil
}

// incidentPublicNotice publishes the case's public notice on the public
// notices page (art. 34(3)(c), Rule AV-06): for a case decided on the
// exemption, or one whose notified persons include some without an address.
func (s *Feature) incidentPublicNotice(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	if !publicNoticeAllowed(&c.Breach) {
		return httperr.ErrNotFound
	}
	text := strings.TrimSpace(r.PostFormValue(fieldPublicNotice))
	bad := map[string]string{}
	switch {
	case text == "":
		bad[fieldPublicNotice] = "Skriv kunngjøringen."
	case len([]rune(text)) > maxPublicNotice:
		bad[fieldPublicNotice] = fmt.Sprintf("Teksten er for lang (høyst %d tegn).", maxPublicNotice)
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "kunngjoring", map[string]string{fieldPublicNotice: text}, bad, []string{fieldPublicNotice})
	}
	_, err = s.DB.PublishIncidentPublicNotice(r.Context(), c.ID, governance.Notice{Title: "Brudd på personopplysningssikkerheten hos registerforvalteren", Body: text},
		v.User.Navn, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		s.Flash(r, "Saken har allerede en offentlig kunngjøring.")
	case err != nil:
		return err
	default:
		s.Flash(r, "Kunngjøringen er publisert på siden for driftsmeldinger.")
	}
	site.Redirect(w, r, "/portal/avvik/"+c.ID+"#varsle")
	return nil
}

// publicNoticeAllowed: a case open for handling that decided on the
// art. 34(3)(c) exemption, or notified persons some of whom have no address,
// and has no public notice yet.
func publicNoticeAllowed(b *incident.Breach) bool {
	d := b.Decision
	if d == nil || b.Notices.PublicNotice || b.Status == incident.StatusClosed || b.Status == incident.StatusFollowedUp {
		return false
	}
	return d.Persons == incident.PersonsExempt && d.Exemption == incident.ExemptDisproportionate ||
		d.Persons == incident.PersonsNotify && b.Notices.PortalOnly > 0
}

// notifyJobView is a notification job on the case page.
type notifyJobView struct {
	Started, By, Finished, State, LastError string
	Done, Total, Failures, Fresh, Before    int // Fresh new notices of Done, Before told already (Rule AV-06)
}

// fillNotify fills the case page's notifying and closing parts.
func (s *Feature) fillNotify(r *http.Request, p *incidentPage, b *incident.Breach) {
	jobs, err := s.DB.IncidentNotifyJobs(r.Context(), b.ID)
	if err != nil {
		s.Log.Error("notify jobs", "incident", b.ID, "err", err)
	}
	for _, j := range jobs {
		jv := notifyJobView{Started: s.OsloTime(j.StartedAt), By: j.StartedBy, Done: j.Done, Total: j.Total, Failures: j.Failures, Fresh: j.Fresh, Before: j.Done - j.Fresh, LastError: j.LastError,
			State: map[string]string{store.NotifyRunning: "pågår", store.NotifyFinished: "ferdig", store.NotifyFailed: "stanset"}[j.State]}
		if !j.FinishedAt.IsZero() {
			jv.Finished = s.OsloTime(j.FinishedAt)
		}
		p.NotifyJobs = append(p.NotifyJobs, jv)
	}
	running := b.Notices.Job != nil && !b.Notices.Job.Finished && !b.Notices.Job.Failed
	p.CanNotifyPersons = b.Decision != nil && b.Decision.Persons == incident.PersonsNotify && len(b.Affected) > 0 &&
		b.Status != incident.StatusClosed && b.Status != incident.StatusFollowedUp && !running
	if p.CanNotifyPersons && p.Form != "varsle" {
		// The contact point: the filing's, which the case worker may change.
		ct := incident.Merged(b.Filings).Contact
		p.Values[incident.FieldNoticeContact] = strings.Join(nonEmpty(ct.Name, ct.Email, ct.Phone), ", ")
	}
	p.CanPublicNotice = publicNoticeAllowed(b)
	if p.CanPublicNotice && p.Form != "kunngjoring" && b.Decision != nil {
		p.Values[fieldPublicNotice] = b.Decision.PublicNotice
	}
	if b.Status != incident.StatusClosed && b.Status != incident.StatusFollowedUp {
		p.CloseMissing = b.CloseMissing()
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
