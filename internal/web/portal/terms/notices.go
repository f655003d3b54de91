package terms

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/governance"
	"deling/internal/web/portal/site"
)

// noticeView is a notice as the pages show it.
type noticeView struct {
	governance.Notice
	Published string
	Details   []string
}

func (s *Feature) noticeViews(ns []governance.Notice) []noticeView {
	out := make([]noticeView, len(ns))
	for i, n := range ns {
		out[i] = noticeView{Notice: n, Published: s.OsloTime(n.PublishedAt), Details: n.Details(s.Oslo)}
	}
	return out
}

// noticesShown is how many notices the page and the feed show.
const noticesShown = 100

type noticesPageData struct {
	site.Frame
	Notices []noticeView
}

// noticesPage is the public list of notices, newest first.
func (s *Feature) noticesPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.LoadVisitor(r)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	ns, err := s.DB.Notices(r.Context(), noticesShown)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Render(w, r, "meldinger.html", noticesPageData{Frame: s.Frame(r, v, "Driftsmeldinger"), Notices: s.noticeViews(ns)})
}

// noticesAtom is the notices as an Atom 1.0 feed (Rule AA-20).
func (s *Feature) noticesAtom(w http.ResponseWriter, r *http.Request) {
	ns, err := s.DB.Notices(r.Context(), noticesShown)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	b, err := governance.Atom(ns, s.AbsoluteBase(r), s.Now(), s.Oslo)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	if s.BaseURL != "" {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "no-cache") // the links name the request's host: not for shared caches
	}
	w.Write(b)
}

// noticeForm is the publish form's values, as typed.
type noticeForm struct {
	Type, Tittel, Tekst, Start, Slutt, API, Sunset string
}

type noticeAdminPage struct {
	site.Frame
	Form             noticeForm
	Errors           map[string]string
	ErrorList        []site.FieldError
	Kinds            []governance.NoticeKind
	Notices          []noticeView
	EarliestDowntime string
	EarliestSunset   string
	// Rule DPV-08: digital post's maintenance and interface changes.
	EarliestPostMaintenance, EarliestPostInterface string
}

// noticeFields are the publish form's fields, in the order the error summary lists them.
var noticeFields = []string{"type", "tittel", "tekst", "start", "slutt", "api", "sunset"}

func (s *Feature) noticeAdminData(r *http.Request, v *site.Visitor, form noticeForm, bad map[string]string) (noticeAdminPage, error) {
	ns, err := s.DB.Notices(r.Context(), noticesShown)
	if err != nil {
		return noticeAdminPage{}, err
	}
	var kinds []governance.NoticeKind
	for _, k := range governance.NoticeKinds() {
		if k.Manual() {
			kinds = append(kinds, k)
		}
	}
	now, rules := s.Now(), s.rules.WithDefaults()
	p := noticeAdminPage{
		Frame: s.Frame(r, v, "Driftsmeldinger"), Form: form, Errors: bad, ErrorList: site.ErrorList(bad, noticeFields...),
		Kinds: kinds, Notices: s.noticeViews(ns),
		EarliestDowntime:      s.OsloTime(governance.EarliestDowntime(now, s.rules)),
		EarliestSunset:        s.OsloDate(s.ceilDay(governance.EarliestSunset(now, s.rules))),
		EarliestPostInterface: s.OsloDate(s.ceilDay(now.AddDate(0, rules.PostInterfaceMonths, 0))),
	}
	if rules.Calendar != nil {
		p.EarliestPostMaintenance = s.OsloDate(governance.EarliestWorkday(rules.Calendar, now, rules.PostMaintenanceWorkDays))
	}
	return p, nil
}

// noticeAdmin is the staff's page: publish a notice, see those published.
func (s *Feature) noticeAdmin(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.noticeAdminData(r, v, noticeForm{Type: string(governance.NoticeNews)}, nil)
	if err != nil {
		return err
	}
	s.Render(w, r, "melding_forvalter.html", p)
	return nil
}

// publishNotice publishes a notice and queues it to every subscribed contact
// in the same transaction (Rule AA-20), after checking each kind's lead time
// (Rules AA-15, AA-23).
func (s *Feature) publishNotice(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	form := noticeForm{
		Type: r.PostFormValue("type"), Tittel: r.PostFormValue("tittel"), Tekst: r.PostFormValue("tekst"),
		Start: strings.TrimSpace(r.PostFormValue("start")), Slutt: strings.TrimSpace(r.PostFormValue("slutt")),
		API: strings.TrimSpace(r.PostFormValue("api")), Sunset: strings.TrimSpace(r.PostFormValue("sunset")),
	}
	n := governance.Notice{Kind: governance.NoticeKind(form.Type), Title: form.Tittel, Body: form.Tekst, APIPrefix: form.API, PublishedAt: s.Now()}
	parseBad := map[string]string{}
	if n.Kind.Timed() {
		n.Start = s.ParseFormTime(form.Start, "start", "når det begynner", parseBad)
		n.End = s.ParseFormTime(form.Slutt, "slutt", "når det slutter", parseBad)
	}
	if n.Kind.Effective() {
		n.Sunset = s.parseFormDate(form.Sunset, "sunset", "datoen", parseBad)
	}
	bad := n.Validate(s.rules)
	if !n.Kind.Manual() && bad["type"] == "" {
		bad["type"] = "Meldinger om nye vilkår lages når vilkårene publiseres."
	}
	for k, msg := range parseBad {
		bad[k] = msg
	}
	if len(bad) > 0 {
		p, err := s.noticeAdminData(r, v, form, bad)
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "melding_forvalter.html", p)
		return nil
	}
	n.ID = uuid.Must(uuid.NewV7()).String()
	if _, err := s.DB.PublishNotice(r.Context(), n, s.noticeLetter(r, n), v.Actor()); err != nil {
		return err
	}
	if n.Kind == governance.NoticeNormal {
		s.deprecationsChanged(r.Context())
	}
	s.Log.Info("notice published", "notice", n.ID, "kind", n.Kind, "user", v.User.ID)
	s.Flash(r, "Meldingen er publisert og sendt til kontaktpersonene som abonnerer.")
	site.Redirect(w, r, "/portal/forvalter/meldinger")
	return nil
}

// noticeLetter is the e-mail a subscribed contact gets of a notice.
func (s *Feature) noticeLetter(r *http.Request, n governance.Notice) governance.Letter {
	base := s.AbsoluteBase(r)
	var b strings.Builder
	b.WriteString(n.Kind.Label() + ": " + n.Title + "\n\n")
	b.WriteString(n.Text(s.Oslo) + "\n\n")
	b.WriteString("Les meldingen på " + base + "/driftsmeldinger#" + n.ID + "\n\n")
	b.WriteString("Du får denne e-posten fordi du er kontaktperson for en konsument av Aa-registeret og abonnerer på driftsmeldinger. " +
		"Endre abonnementet under Kontaktpersoner i portalen: " + base + "/portal/kontakter\n")
	return governance.Letter{Kind: governance.LetterNotice, Subject: "Driftsmelding fra Aa-registeret: " + n.Title, Body: b.String()}
}

// parseFormDate reads an <input type="date"> value as the start of that day in Norway; a message goes to bad.
func (s *Feature) parseFormDate(value, field, what string, bad map[string]string) *time.Time {
	if value == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02", "02.01.2006"} {
		if t, err := time.ParseInLocation(layout, value, s.Oslo); err == nil {
			return &t
		}
	}
	bad[field] = "Skriv " + what + " som 2027-03-24 eller 24.03.2027."
	return nil
}

// ceilDay is the start of the first day in Norway that begins at or after t.
func (s *Feature) ceilDay(t time.Time) time.Time {
	l := t.In(s.Oslo)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.Oslo)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}
