package applications

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// Applications (søknad), case handling, decisions (vedtak) and the grants
// they create (issue 5, items 2–3). A consumer's administrator fills in an
// application, its role holder signs it (Rule AA-01), a case worker at the
// register takes it, may ask for more, and approves it (test access first,
// production after the consumer's integration test: Rule AA-03) or refuses
// it. Every step is a store transaction that also writes the history and an
// event in the log.

// maxFormBytes bounds a posted form.
const maxFormBytes = 256 << 10

// --- what the pages show -------------------------------------------------

// fieldError is one line of a form's error summary, linking to the field.
type fieldError struct{ Anchor, Message string }

// choice is a checkbox, radio button or option.
type choice struct {
	Value, Label string
	Checked      bool
}

// formField is the data of layout.html's "field" partial.
type formField struct{ Name, Label, Value, Error, Type, Help string }

// needView is data asked for from one package, as pages show it.
type needView struct {
	Ref, Navn string
	Whole     bool
	Elements  []string
	Why       string
}

// appView is an application with what its pages show beside it.
type appView struct {
	governance.Application
	Needs     []needView
	Channels  []string
	Kinds     []string
	Letter    string
	Granted   []access.Package
	Segment   string
	History   []governance.HistoryEntry
	Decisions []governance.Decision
	// Successor is the newest application that changes this one (Rule AA-05), if any.
	Successor *governance.Application
}

func (s *Feature) inOslo(t time.Time) time.Time { return t.In(s.Oslo) }

func (s *Feature) appView(ctx context.Context, a governance.Application) (appView, error) {
	v := appView{Application: a}
	if a.SignedAt != nil {
		t := s.inOslo(*a.SignedAt)
		v.SignedAt = &t
	}
	if a.ValidTo != nil {
		t := s.inOslo(*a.ValidTo)
		v.ValidTo = &t
	}
	v.CreatedAt, v.UpdatedAt = s.inOslo(a.CreatedAt), s.inOslo(a.UpdatedAt)
	for _, n := range a.Form.Needs {
		nv := needView{Ref: n.Package, Navn: n.Package, Whole: n.Whole(), Elements: n.Elements, Why: n.Why}
		if p, err := s.catalogue.Resolve(n.Package); err == nil {
			nv.Navn = p.Navn
			if n.Whole() {
				nv.Elements = p.Elements
			}
			nv.Elements = labels(p, nv.Elements)
		}
		v.Needs = append(v.Needs, nv)
	}
	for _, c := range a.Form.Channels {
		v.Channels = append(v.Channels, governance.ChannelLabel(c))
	}
	for _, k := range a.Form.QueryKinds {
		v.Kinds = append(v.Kinds, governance.QueryKindLabel(k))
	}
	for _, l := range governance.ProcessingLetters() {
		if l.Letter == a.Form.ProcessingLetter {
			v.Letter = "bokstav " + l.Letter + " – " + strings.TrimPrefix(l.Label, l.Letter+") ")
		}
	}
	for _, ref := range a.Granted {
		if p, err := s.catalogue.Resolve(ref); err == nil {
			v.Granted = append(v.Granted, p)
		}
	}
	var err error
	if a.SegmentID != "" {
		segs, err := s.DB.Segments(ctx)
		if err != nil {
			return v, err
		}
		for _, sg := range segs {
			if sg.ID == a.SegmentID {
				v.Segment = sg.Navn
			}
		}
	}
	if v.History, err = s.DB.ApplicationHistory(ctx, a.ID); err != nil {
		return v, err
	}
	for i := range v.History {
		v.History[i].At = s.inOslo(v.History[i].At)
	}
	if v.Decisions, err = s.DB.Decisions(ctx, a.ID); err != nil {
		return v, err
	}
	for i := range v.Decisions {
		v.Decisions[i].CreatedAt = s.inOslo(v.Decisions[i].CreatedAt)
	}
	succ, err := s.DB.Successors(ctx, a.ID)
	if err != nil {
		return v, err
	}
	if len(succ) > 0 {
		v.Successor = &succ[0]
	}
	return v, nil
}

// ownApplication loads an application of the organisation the visitor acts
// for; any other answers as if it did not exist.
func (s *Feature) ownApplication(w http.ResponseWriter, r *http.Request, v *site.Visitor) (governance.Application, bool) {
	a, err := s.DB.Application(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && a.Org != v.Org):
		s.NotFound(w, r, v)
		return a, false
	case err != nil:
		s.PageError(w, r, err)
		return a, false
	}
	return a, true
}

// anyApplication loads an application for the register's staff.
func (s *Feature) anyApplication(w http.ResponseWriter, r *http.Request, v *site.Visitor) (governance.Application, bool) {
	a, err := s.DB.Application(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(caseStatuses(), a.Status)):
		// Drafts and applications waiting for signature are the applicant's own.
		s.NotFound(w, r, v)
		return a, false
	case err != nil:
		s.PageError(w, r, err)
		return a, false
	}
	return a, true
}

// caseStep loads the case named in the path and checks that the visitor may
// take step on it now; it answers the page itself when not, and returns the
// case and the case page's address to return to.
func (s *Feature) caseStep(w http.ResponseWriter, r *http.Request, v *site.Visitor, step governance.Step) (governance.Application, string, bool) {
	a, ok := s.anyApplication(w, r, v)
	if !ok {
		return a, "", false
	}
	back := "/portal/saker/" + a.ID
	return a, back, s.may(w, r, v, a, step, back)
}

// may checks that the visitor may take step on a now; it answers 403 when the
// role may not, and returns to the page with a message when the status has moved on.
func (s *Feature) may(w http.ResponseWriter, r *http.Request, v *site.Visitor, a governance.Application, step governance.Step, back string) bool {
	// Separation of duties is in the rule (governance.TransitionOn), so the page's buttons agree.
	_, err := governance.TransitionOn(a, step, v.Actor(), v.Memberships)
	switch {
	case errors.Is(err, governance.ErrNotYourStep):
		s.Forbidden(w, r, v)
		return false
	case err != nil:
		s.stale(w, r, back)
		return false
	}
	return true
}

// stale returns to a page whose application has moved on since it was shown.
func (s *Feature) stale(w http.ResponseWriter, r *http.Request, back string) {
	s.Flash(r, "Søknaden har endret status siden siden ble vist. Se hvor den står nå.")
	site.Redirect(w, r, back)
}

// stepDone ends a step: a conflict means the status moved on under us.
func (s *Feature) stepDone(w http.ResponseWriter, r *http.Request, err error, back, msg string) {
	switch {
	case errors.Is(err, store.ErrConflict):
		s.stale(w, r, back)
	case err != nil:
		s.PageError(w, r, err)
	default:
		s.Flash(r, msg)
		site.Redirect(w, r, back)
	}
}

func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// --- the applicant's pages -----------------------------------------------

type applicationRow struct {
	governance.Application
	Short string
}

func (s *Feature) rows(apps []governance.Application) []applicationRow {
	out := make([]applicationRow, len(apps))
	for i, a := range apps {
		a.CreatedAt, a.UpdatedAt = s.inOslo(a.CreatedAt), s.inOslo(a.UpdatedAt)
		out[i] = applicationRow{Application: a, Short: short(a.Form.Purpose, 80)}
		if out[i].Short == "" {
			out[i].Short = "(uten formål)"
		}
	}
	return out
}

func (s *Feature) applicationList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	apps, err := s.DB.Applications(r.Context(), v.Org)
	if err != nil {
		return err
	}
	s.Render(w, r, "soknader.html", struct {
		site.Frame
		Apps []applicationRow
	}{s.Frame(r, v, "Søknader"), s.rows(apps)})
	return nil
}

// applicationFormPage is the application form.
type applicationFormPage struct {
	site.Frame
	App       governance.Application
	Action    string
	Values    map[string]string
	Errors    map[string]string
	Summary   []fieldError
	Basis     []choice
	Letters   []choice
	Channels  []choice
	Kinds     []choice
	Countries []countryGroup
	Other     bool // a country outside the list was named
	Packages  []packageChoice
	DPF       bool
	Terms     bool
	Answering bool // the case worker asked: the form also answers
	Answer    string
	Replaces  string
	History   []governance.HistoryEntry
	Decisions []governance.Decision
}

type countryGroup struct {
	Label   string
	Options []choice
}

// packageChoice is one package of the element chooser.
type packageChoice struct {
	Ref, Navn, Beskrivelse string
	Whole                  bool
	Elements               []elementChoice
	Why                    string
	WhyError, ElementError string
}

type elementChoice struct {
	Path, Label string
	Checked     bool
}

// labels are elements of p by their Norwegian names (issue 16, item 8).
func labels(p access.Package, elements []string) []string {
	out := make([]string, len(elements))
	for i, e := range elements {
		out[i] = p.Label(e)
	}
	return out
}

// F is a text field of the form, for layout.html's "field" partial: F name label [type [help]].
func (p applicationFormPage) F(name, label string, opts ...string) formField {
	ff := formField{Name: name, Label: label, Value: p.Values[name], Error: p.Errors[name]}
	if len(opts) > 0 {
		ff.Type = opts[0]
	}
	if len(opts) > 1 {
		ff.Help = opts[1]
	}
	return ff
}

// fieldOrder is the order of the form's fields, for the error summary.
var fieldOrder = []string{governance.FieldNavn, governance.FieldOrgnr, governance.FieldPurpose, governance.FieldBasisKind,
	governance.FieldLegalBasis, governance.FieldLetter, governance.FieldLaw,
	"admin_navn", "admin_epost", "admin_telefon", "teknisk_navn", "teknisk_epost", "teknisk_telefon",
	governance.FieldProcOrgnr, governance.FieldProcNavn, governance.FieldProcDPA, governance.FieldChannels,
	governance.FieldCountry, governance.FieldDPF, governance.FieldLocationNote, governance.FieldNeeds}

func summary(bad map[string]string, order []string) []fieldError {
	var out []fieldError
	done := map[string]bool{}
	add := func(f string) {
		if msg, ok := bad[f]; ok && !done[f] {
			out = append(out, fieldError{Anchor: "f-" + f, Message: msg})
			done[f] = true
		}
	}
	for _, f := range order {
		add(f)
	}
	rest := make([]string, 0, len(bad))
	for f := range bad {
		rest = append(rest, f)
	}
	sort.Strings(rest)
	for _, f := range rest {
		add(f)
	}
	return out
}

// offered are the packages the chooser lists: the latest version of each,
// and any other version the application already asks for.
func (s *Feature) offered(f governance.ApplicationForm) []access.Package {
	var out []access.Package
	for _, p := range s.catalogue.Packages() {
		latest, err := s.catalogue.Resolve(p.ID)
		_, asked := f.Need(p.Ref())
		if (err == nil && latest.Ref() == p.Ref()) || asked {
			out = append(out, p)
		}
	}
	return out
}

func (s *Feature) formPage(r *http.Request, v *site.Visitor, title, action string, a governance.Application, bad map[string]string) applicationFormPage {
	f := a.Form
	p := applicationFormPage{Frame: s.Frame(r, v, title), App: a, Action: action, Errors: bad, DPF: f.DPFConfirmed, Terms: f.TermsAccepted,
		Answering: a.Status == governance.AppNeedsAnswer, Answer: a.Answer, Replaces: a.Replaces}
	p.Values = map[string]string{
		governance.FieldNavn: f.Navn, governance.FieldOrgnr: f.Orgnr, governance.FieldPurpose: f.Purpose,
		governance.FieldLegalBasis: f.LegalBasis, governance.FieldLaw: f.ProcessingLaw, governance.FieldLocationNote: f.LocationNote,
		"admin_navn": f.Admin.Navn, "admin_epost": f.Admin.Epost, "admin_telefon": f.Admin.Telefon,
		"teknisk_navn": f.Technical.Navn, "teknisk_epost": f.Technical.Epost, "teknisk_telefon": f.Technical.Telefon,
		governance.FieldProcOrgnr: f.Processor.Orgnr, governance.FieldProcNavn: f.Processor.Navn, governance.FieldProcDPA: f.Processor.DPARef,
	}
	for _, k := range []governance.LegalBasisKind{governance.BasisStatute, governance.BasisConsent} {
		p.Basis = append(p.Basis, choice{Value: string(k), Label: k.Label(), Checked: f.BasisKind == k})
	}
	for _, l := range governance.ProcessingLetters() {
		p.Letters = append(p.Letters, choice{Value: l.Letter, Label: l.Label, Checked: f.ProcessingLetter == l.Letter})
	}
	for _, c := range []access.Channel{access.ChannelAPI, access.ChannelWeb, access.ChannelExtract} {
		p.Channels = append(p.Channels, choice{Value: string(c), Label: governance.ChannelLabel(c), Checked: slices.Contains(f.Channels, c)})
	}
	for _, k := range governance.QueryKinds() {
		p.Kinds = append(p.Kinds, choice{Value: string(k), Label: governance.QueryKindLabel(k), Checked: slices.Contains(f.QueryKinds, k)})
	}
	known := false
	for _, g := range governance.Countries() {
		cg := countryGroup{Label: g.Label}
		for _, c := range g.Countries {
			sel := strings.EqualFold(c.Navn, f.Country)
			known = known || sel
			cg.Options = append(cg.Options, choice{Value: c.Navn, Label: c.Navn, Checked: sel})
		}
		p.Countries = append(p.Countries, cg)
	}
	p.Other = f.Country != "" && !known
	order := slices.Clone(fieldOrder)
	for _, pk := range s.offered(f) {
		n, asked := f.Need(pk.Ref())
		pc := packageChoice{Ref: pk.Ref(), Navn: pk.Navn, Beskrivelse: pk.Beskrivelse, Whole: asked && n.Whole(), Why: n.Why,
			WhyError: bad[governance.FieldWhy(pk.Ref())], ElementError: bad[governance.FieldElements(pk.Ref())]}
		for _, e := range pk.Elements {
			pc.Elements = append(pc.Elements, elementChoice{Path: e, Label: pk.Label(e), Checked: asked && slices.Contains(n.Elements, e)})
		}
		p.Packages = append(p.Packages, pc)
		order = append(order, governance.FieldElements(pk.Ref()), governance.FieldWhy(pk.Ref()))
	}
	order = append(order, governance.FieldQueryKinds, governance.FieldTerms, "svar")
	p.Summary = summary(bad, order)
	return p
}

// parseApplicationForm reads the application form. The contracting
// organisation is the one the visitor acts for, never a posted number.
func (s *Feature) parseApplicationForm(w http.ResponseWriter, r *http.Request, org string) (governance.ApplicationForm, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return governance.ApplicationForm{}, err
	}
	v := r.PostForm
	f := governance.ApplicationForm{
		Orgnr: org, Navn: v.Get(governance.FieldNavn), Purpose: v.Get(governance.FieldPurpose),
		BasisKind: governance.LegalBasisKind(v.Get(governance.FieldBasisKind)), LegalBasis: v.Get(governance.FieldLegalBasis),
		ProcessingLetter: v.Get(governance.FieldLetter), ProcessingLaw: v.Get(governance.FieldLaw),
		Admin:         governance.Contact{Navn: v.Get("admin_navn"), Epost: v.Get("admin_epost"), Telefon: v.Get("admin_telefon")},
		Technical:     governance.Contact{Navn: v.Get("teknisk_navn"), Epost: v.Get("teknisk_epost"), Telefon: v.Get("teknisk_telefon")},
		Processor:     governance.Processor{Orgnr: v.Get(governance.FieldProcOrgnr), Navn: v.Get(governance.FieldProcNavn), DPARef: v.Get(governance.FieldProcDPA)},
		Country:       v.Get(governance.FieldCountry),
		DPFConfirmed:  v.Get(governance.FieldDPF) == "ja",
		LocationNote:  v.Get(governance.FieldLocationNote),
		TermsAccepted: v.Get(governance.FieldTerms) == "ja",
	}
	for _, c := range v[governance.FieldChannels] {
		f.Channels = append(f.Channels, access.Channel(c))
	}
	for _, k := range v[governance.FieldQueryKinds] {
		f.QueryKinds = append(f.QueryKinds, access.QueryKind(k))
	}
	// The data asked for: a package whole, or some of its elements, each with why (Rules AA-07, SK-05).
	whole := v[governance.FieldNeeds]
	refs := map[string]bool{}
	for _, ref := range whole {
		refs[ref] = true
	}
	for key, vals := range v {
		if ref, ok := strings.CutPrefix(key, "element_"); ok && len(vals) > 0 {
			refs[ref] = true
		}
	}
	var known []string
	for _, p := range s.catalogue.Packages() {
		known = append(known, p.Ref())
	}
	var unknown []string
	for ref := range refs {
		if !slices.Contains(known, ref) {
			unknown = append(unknown, ref)
		}
	}
	sort.Strings(unknown)
	for _, ref := range append(known, unknown...) {
		if !refs[ref] {
			continue
		}
		n := governance.Need{Package: ref, Why: v.Get(governance.FieldWhy(ref))}
		if !slices.Contains(whole, ref) {
			n.Elements = v[governance.FieldElements(ref)]
		}
		f.Needs = append(f.Needs, n)
	}
	f.Normalize()
	return f, nil
}

// newApplicationForm is the form of a new application, filled in with what the portal knows.
func (s *Feature) newApplicationForm(v *site.Visitor) governance.Application {
	f := governance.ApplicationForm{Orgnr: v.Org, Navn: v.OrgName}
	if f.Navn == v.Org {
		f.Navn = ""
	}
	f.Admin = governance.Contact{Navn: v.User.Navn, Epost: v.User.Email}
	return governance.Application{Org: v.Org, Form: f}
}

func (s *Feature) applicationNew(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.Render(w, r, "soknad_skjema.html", s.formPage(r, v, "Ny søknad", "/portal/soknader/ny", s.newApplicationForm(v), nil))
	return nil
}

// showForm renders the form of an application, with its history once it has one.
func (s *Feature) showForm(w http.ResponseWriter, r *http.Request, v *site.Visitor, title, action string, a governance.Application, bad map[string]string, status int) {
	p := s.formPage(r, v, title, action, a, bad)
	if a.ID != "" {
		av, err := s.appView(r.Context(), a)
		if err != nil {
			s.PageError(w, r, err)
			return
		}
		p.History, p.Decisions = av.History, av.Decisions
	}
	w.WriteHeader(status)
	s.Render(w, r, "soknad_skjema.html", p)
}

// badForm shows the form again with its errors; nothing was stored.
func (s *Feature) badForm(w http.ResponseWriter, r *http.Request, v *site.Visitor, title, action string, a governance.Application, bad map[string]string) {
	s.showForm(w, r, v, title, action, a, bad, http.StatusBadRequest)
}

// checkForm validates the form for the action: a draft need only be well
// formed; an application sent to signing, or answered, must be complete.
func (s *Feature) checkForm(f *governance.ApplicationForm, handling, answer string) map[string]string {
	switch handling {
	case "lagre":
		return f.ValidateDraft(s.catalogue)
	case "send":
		return f.Validate(s.Env, s.catalogue)
	case "svar":
		bad := f.Validate(s.Env, s.catalogue)
		if strings.TrimSpace(answer) == "" || utf8.RuneCountInString(answer) > 4000 {
			bad["svar"] = "Skriv svaret til saksbehandleren (høyst 4000 tegn)."
		}
		return bad
	}
	return map[string]string{"handling": "Velg hva du vil gjøre med søknaden."}
}

func (s *Feature) applicationCreate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	form, err := s.parseApplicationForm(w, r, v.Org)
	if err != nil {
		http.Error(w, "Skjemaet kunne ikke leses.", http.StatusBadRequest)
		return nil
	}
	handling := r.PostFormValue("handling")
	a := governance.Application{Org: v.Org, Form: form}
	if handling != "lagre" && handling != "send" {
		handling = "ugyldig"
	}
	step := governance.StepSave
	if handling == "send" {
		step = governance.StepSubmit
	}
	if !s.may(w, r, v, a, governance.StepSave, "/portal/soknader") || (step == governance.StepSubmit && !s.may(w, r, v, governance.Application{Org: v.Org, Status: governance.AppDraft}, step, "/portal/soknader")) {
		return nil
	}
	if bad := s.checkForm(&form, handling, ""); len(bad) > 0 {
		a.Form = form
		s.badForm(w, r, v, "Ny søknad", "/portal/soknader/ny", a, bad)
		return nil
	}
	a, err = s.DB.CreateApplication(r.Context(), v.Org, form, v.Actor(), v.User.Navn)
	if err != nil {
		return err
	}
	back := "/portal/soknader/" + a.ID
	if step == governance.StepSave {
		s.Flash(r, "Utkastet er lagret.")
		site.Redirect(w, r, back)
		return nil
	}
	_, err = s.DB.StepApplication(r.Context(), a.ID, governance.StepSubmit, nil, "", v.Actor(), v.User.Navn)
	s.stepDone(w, r, err, back, "Søknaden er sendt til signering hos rolleinnehaver.")
	return nil
}

// applicationViewPage shows an application to its organisation.
type applicationViewPage struct {
	site.Frame
	A                                appView
	CanSign, CanEdit, CanAmend       bool
	AwaitingSignature, OpenSuccessor bool
}

func (s *Feature) applicationPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.ownApplication(w, r, v)
	if !ok {
		return nil
	}
	canSave := governance.MayOn(a, governance.StepSave, v.Actor(), v.Memberships)
	// A draft and an application asked about are shown as the form; one waiting
	// for signature as the signer sees it, with a way back to the form.
	if canSave && (a.Status == governance.AppDraft || a.Status == governance.AppNeedsAnswer || r.URL.Query().Get("endre") == "1") {
		s.showForm(w, r, v, "Søknad", "/portal/soknader/"+a.ID, a, nil, http.StatusOK)
		return nil
	}
	av, err := s.appView(r.Context(), a)
	if err != nil {
		return err
	}
	p := applicationViewPage{Frame: s.Frame(r, v, "Søknad"), A: av,
		CanSign:           governance.MayOn(a, governance.StepSign, v.Actor(), v.Memberships),
		CanEdit:           canSave,
		CanAmend:          governance.MayOn(a, governance.StepAmend, v.Actor(), v.Memberships),
		AwaitingSignature: a.Status == governance.AppToSign,
	}
	if av.Successor != nil && av.Successor.Status.Open() {
		p.OpenSuccessor, p.CanAmend = true, false
	}
	s.Render(w, r, "soknad.html", p)
	return nil
}

// applicationSave saves, sends to signing, or answers the case worker.
func (s *Feature) applicationSave(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.ownApplication(w, r, v)
	if !ok {
		return nil
	}
	back := "/portal/soknader/" + a.ID
	form, err := s.parseApplicationForm(w, r, a.Org)
	if err != nil {
		http.Error(w, "Skjemaet kunne ikke leses.", http.StatusBadRequest)
		return nil
	}
	handling, answer := r.PostFormValue("handling"), strings.TrimSpace(r.PostFormValue("svar"))
	var steps []governance.Step
	switch {
	case handling == "lagre":
		steps = []governance.Step{governance.StepSave}
	case handling == "send" && a.Status == governance.AppToSign:
		steps = []governance.Step{governance.StepSave, governance.StepSubmit} // changed while waiting for signature
	case handling == "send":
		steps = []governance.Step{governance.StepSubmit}
	case handling == "svar":
		steps = []governance.Step{governance.StepAnswer}
	default:
		handling = "ugyldig"
		steps = []governance.Step{governance.StepSave}
	}
	if !s.may(w, r, v, a, steps[0], back) {
		return nil
	}
	title := "Søknad"
	if bad := s.checkForm(&form, handling, answer); len(bad) > 0 {
		a.Form, a.Answer = form, answer
		s.badForm(w, r, v, title, back, a, bad)
		return nil
	}
	msg := map[string]string{"lagre": "Søknaden er lagret.", "send": "Søknaden er sendt til signering hos rolleinnehaver.",
		"svar": "Svaret er sendt. Søknaden er tilbake hos saksbehandler."}[handling]
	for _, step := range steps {
		if _, err = s.DB.StepApplication(r.Context(), a.ID, step, &form, answer, v.Actor(), v.User.Navn); err != nil {
			break
		}
	}
	s.stepDone(w, r, err, back, msg)
	return nil
}

// applicationSign is the role holder's signature (Rule AA-01).
func (s *Feature) applicationSign(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.ownApplication(w, r, v)
	if !ok {
		return nil
	}
	back := "/portal/soknader/" + a.ID
	if !s.may(w, r, v, a, governance.StepSign, back) {
		return nil
	}
	// Rule AA-01: the role holder signs exactly what they were shown. The page
	// carries the version it showed; a change since (the administrator sent it
	// again) is not signed, and neither is an incomplete form. Both are checked
	// on the locked row, in the signing transaction.
	seen, _ := strconv.ParseInt(r.PostFormValue("versjon"), 10, 64)
	errIncomplete := errors.New("incomplete")
	_, err := s.DB.StepApplication(r.Context(), a.ID, governance.StepSign, nil, "", v.Actor(), v.User.Navn,
		func(locked governance.Application) error {
			if locked.UpdatedAt.UnixMicro() != seen {
				return store.ErrConflict
			}
			if bad := locked.Form.Validate(s.Env, s.catalogue); len(bad) > 0 {
				return errIncomplete
			}
			return nil
		})
	if errors.Is(err, errIncomplete) {
		s.Flash(r, "Søknaden er ikke fullstendig. Administrator må rette den før den kan signeres.")
		site.Redirect(w, r, back)
		return nil
	}
	if errors.Is(err, store.ErrConflict) {
		s.Flash(r, "Søknaden er endret siden du åpnet den. Les den på nytt før du signerer.")
		site.Redirect(w, r, back)
		return nil
	}
	s.stepDone(w, r, err, back, "Søknaden er signert og sendt inn til registerforvalteren.")
	return nil
}

// applicationAmend makes a new application from an approved one (Rule AA-05).
func (s *Feature) applicationAmend(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.ownApplication(w, r, v)
	if !ok {
		return nil
	}
	back := "/portal/soknader/" + a.ID
	if !s.may(w, r, v, a, governance.StepAmend, back) {
		return nil
	}
	n, err := s.DB.AmendApplication(r.Context(), a.ID, v.Actor(), v.User.Navn)
	if err != nil {
		s.stepDone(w, r, err, back, "")
		return nil
	}
	s.Flash(r, "Ny søknad er laget. Endrer dere formål, grunnlag eller behandlingsansvarlig, opphører dagens tilgang når den nye søknaden signeres.")
	site.Redirect(w, r, "/portal/soknader/"+n.ID)
	return nil
}

// --- the consumer's grants (Tilganger) -----------------------------------

type grantRow struct {
	access.Grant
	Kanal, Pakker, Oppslag, Status, Color string
}

type delegationRow struct {
	access.Delegation
	ConsumerName string
}

type grantsPage struct {
	site.Frame
	Test, Prod  []grantRow
	Ready       []governance.Application // approved: test access, the integration test to confirm (Rule AA-03)
	Waiting     []governance.Application // production access asked for
	CanConfirm  bool
	Delegations []delegationRow // a data processor: the consumers it acts for (Rule AA-13)
}

func grantStatusLabel(st access.Status) (string, string) {
	switch st {
	case access.Active:
		return "Aktiv", "success"
	case access.Suspended:
		return "Suspendert", "warning"
	case access.Ended:
		return "Avsluttet", "danger"
	}
	return string(st), "neutral"
}

func (s *Feature) grantsPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ctx := r.Context()
	gs, err := s.DB.Grants(ctx, v.Org)
	if err != nil {
		return err
	}
	p := grantsPage{Frame: s.Frame(r, v, "Tilganger"), CanConfirm: v.For(governance.Administrator, governance.Rolleinnehaver)}
	for _, g := range gs {
		row := grantRow{Grant: g, Kanal: governance.ChannelLabel(g.Channel)}
		row.ValidFrom = s.inOslo(g.ValidFrom)
		var names, kinds []string
		for _, ref := range g.Packages {
			if pk, err := s.catalogue.Resolve(ref); err == nil {
				names = append(names, pk.Navn)
			} else {
				names = append(names, ref)
			}
		}
		for _, k := range g.QueryKinds {
			kinds = append(kinds, governance.QueryKindLabel(k))
		}
		row.Pakker, row.Oppslag = strings.Join(names, ", "), strings.Join(kinds, ", ")
		row.Status, row.Color = grantStatusLabel(g.Status)
		if g.Env == register.EnvProd {
			p.Prod = append(p.Prod, row)
		} else {
			p.Test = append(p.Test, row)
		}
	}
	if p.CanConfirm {
		apps, err := s.DB.Applications(ctx, v.Org)
		if err != nil {
			return err
		}
		for _, a := range apps {
			switch a.Status {
			case governance.AppApproved:
				p.Ready = append(p.Ready, a)
			case governance.AppProdRequested:
				p.Waiting = append(p.Waiting, a)
			}
		}
	}
	if v.For(governance.Databehandler) {
		ds, err := s.DB.ProcessorDelegations(ctx, v.Org)
		if err != nil {
			return err
		}
		for _, d := range ds {
			name, err := s.OrgName(ctx, d.Consumer)
			if err != nil {
				return err
			}
			row := delegationRow{Delegation: d, ConsumerName: name}
			row.ValidFrom = s.inOslo(d.ValidFrom)
			p.Delegations = append(p.Delegations, row)
		}
	}
	s.Render(w, r, "tilganger.html", p)
	return nil
}

// confirmIntegrationTest asks for production access (Rule AA-03).
func (s *Feature) confirmIntegrationTest(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.ownApplication(w, r, v)
	if !ok {
		return nil
	}
	if !s.may(w, r, v, a, governance.StepConfirmTest, "/portal/tilganger") {
		return nil
	}
	_, err := s.DB.StepApplication(r.Context(), a.ID, governance.StepConfirmTest, nil, "", v.Actor(), v.User.Navn)
	s.stepDone(w, r, err, "/portal/tilganger", "Takk. Produksjonstilgang er bestilt, og saksbehandler får saken.")
	return nil
}

// --- the register's case handling ----------------------------------------

// queueStatuses are what the queue shows unless filtered: what waits for a case worker.
var queueStatuses = []governance.AppStatus{governance.AppSubmitted, governance.AppInReview, governance.AppProdRequested}

// caseStatuses are the statuses of a case: from signing on. Drafts and
// applications waiting for signature are the applicant's own.
func caseStatuses() []governance.AppStatus {
	return slices.DeleteFunc(governance.AppStatuses(), func(st governance.AppStatus) bool {
		return st == governance.AppDraft || st == governance.AppToSign
	})
}

func (s *Feature) caseQueue(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	filter := r.URL.Query().Get("status")
	statuses := queueStatuses
	switch filter {
	case "", "aktive":
		filter = "aktive"
	case "alle":
		statuses = caseStatuses()
	default:
		st, err := governance.ParseAppStatus(filter)
		if err != nil || !slices.Contains(caseStatuses(), st) {
			filter, statuses = "aktive", queueStatuses
		} else {
			statuses = []governance.AppStatus{st}
		}
	}
	apps, err := s.DB.ApplicationQueue(r.Context(), statuses...)
	if err != nil {
		return err
	}
	filters := []choice{{Value: "aktive", Label: "Venter på saksbehandler"}, {Value: "alle", Label: "Alle"}}
	for _, st := range caseStatuses() {
		filters = append(filters, choice{Value: string(st), Label: st.Label()})
	}
	for i := range filters {
		filters[i].Checked = filters[i].Value == filter
	}
	s.Render(w, r, "saker.html", struct {
		site.Frame
		Filters []choice
		Apps    []applicationRow
	}{s.Frame(r, v, "Saksbehandling"), filters, s.rows(apps)})
	return nil
}

// casePage is a case as a case worker sees it.
type casePage struct {
	site.Frame
	A                                      appView
	CanTake, CanDecide, CanApproveProd     bool
	Grantable                              []packageOption
	Segments                               []segmentOption
	Errors                                 map[string]string
	Summary                                []fieldError
	Question, Reasons, NewSegment, ValidTo string
}

type packageOption struct {
	Ref, Navn, Elements string
	Checked             bool
}

type segmentOption struct {
	ID, Navn, Packages string
	Members            int
	Selected           bool
}

func (s *Feature) caseData(r *http.Request, v *site.Visitor, a governance.Application) (casePage, error) {
	av, err := s.appView(r.Context(), a)
	if err != nil {
		return casePage{}, err
	}
	p := casePage{Frame: s.Frame(r, v, "Sak"), A: av, Errors: map[string]string{}}
	p.CanTake = governance.MayOn(a, governance.StepTake, v.Actor(), v.Memberships)
	p.CanDecide = governance.MayOn(a, governance.StepApprove, v.Actor(), v.Memberships)
	p.CanApproveProd = governance.MayOn(a, governance.StepApproveProd, v.Actor(), v.Memberships)
	if p.CanDecide {
		// Rule AA-07: only packages the applicant asked for all of; all preselected.
		for _, pk := range a.Form.Grantable(s.catalogue) {
			p.Grantable = append(p.Grantable, packageOption{Ref: pk.Ref(), Navn: pk.Navn, Elements: strings.Join(labels(pk, pk.Elements), ", "), Checked: true})
		}
		segs, err := s.DB.Segments(r.Context())
		if err != nil {
			return p, err
		}
		members, err := s.DB.SegmentMembers(r.Context())
		if err != nil {
			return p, err
		}
		for _, sg := range segs {
			// Rule SK-06: a segment's standard package, where it gives no more than was asked for.
			if a.Form.CheckGrant(s.catalogue, sg.Packages) == "" {
				p.Segments = append(p.Segments, segmentOption{ID: sg.ID, Navn: sg.Navn, Packages: strings.Join(sg.Packages, ", "), Members: members[sg.ID]})
			}
		}
	}
	return p, nil
}

func (s *Feature) casePage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, ok := s.anyApplication(w, r, v)
	if !ok {
		return nil
	}
	p, err := s.caseData(r, v, a)
	if err != nil {
		return err
	}
	s.Render(w, r, "sak.html", p)
	return nil
}

// badCase shows the case again with a form's errors; nothing was stored.
func (s *Feature) badCase(w http.ResponseWriter, r *http.Request, v *site.Visitor, a governance.Application, bad map[string]string, fill func(*casePage)) {
	p, err := s.caseData(r, v, a)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p.Errors = bad
	p.Summary = summary(bad, []string{"sporsmal", "pakke", "segment", "segment_navn", "gyldig_til", "begrunnelse"})
	if fill != nil {
		fill(&p)
	}
	w.WriteHeader(http.StatusBadRequest)
	s.Render(w, r, "sak.html", p)
}

func (s *Feature) caseTake(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, back, ok := s.caseStep(w, r, v, governance.StepTake)
	if !ok {
		return nil
	}
	_, err := s.DB.StepApplication(r.Context(), a.ID, governance.StepTake, nil, "", v.Actor(), v.User.Navn)
	s.stepDone(w, r, err, back, "Du har tatt saken.")
	return nil
}

func (s *Feature) caseAsk(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, back, ok := s.caseStep(w, r, v, governance.StepAsk)
	if !ok {
		return nil
	}
	q := strings.TrimSpace(r.PostFormValue("sporsmal"))
	if q == "" || utf8.RuneCountInString(q) > 4000 {
		s.badCase(w, r, v, a, map[string]string{"sporsmal": "Skriv hva søkeren må svare på (høyst 4000 tegn)."}, func(p *casePage) { p.Question = q })
		return nil
	}
	_, err := s.DB.StepApplication(r.Context(), a.ID, governance.StepAsk, nil, q, v.Actor(), v.User.Navn)
	s.stepDone(w, r, err, back, "Spørsmålet er sendt til søkeren.")
	return nil
}

func (s *Feature) caseApprove(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, back, ok := s.caseStep(w, r, v, governance.StepApprove)
	if !ok {
		return nil
	}
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Skjemaet kunne ikke leses.", http.StatusBadRequest)
		return nil
	}
	bad := map[string]string{}
	refs := r.PostForm["pakke"]
	segID, newSeg, validTo := r.PostFormValue("segment"), strings.TrimSpace(r.PostFormValue("segment_navn")), strings.TrimSpace(r.PostFormValue("gyldig_til"))
	ap := store.Approval{Location: s.Oslo}
	if segID != "" {
		segs, err := s.DB.Segments(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(segs, func(sg governance.Segment) bool { return sg.ID == segID })
		if i < 0 {
			bad["segment"] = "Velg et segment fra listen."
		} else {
			refs, ap.SegmentID = segs[i].Packages, segID
			if newSeg != "" {
				bad["segment_navn"] = "Et nytt segment lages av pakkene du velger selv, ikke av et annet segment."
			}
		}
	}
	// Rule AA-07: never more than the applicant asked for.
	if msg := a.Form.CheckGrant(s.catalogue, refs); msg != "" {
		bad["pakke"] = msg
	}
	for _, ref := range refs {
		if pk, err := s.catalogue.Resolve(ref); err == nil {
			ap.Packages = append(ap.Packages, pk)
		}
	}
	if newSeg != "" && ap.SegmentID == "" {
		sg := governance.Segment{Navn: newSeg, Beskrivelse: strings.TrimSpace(r.PostFormValue("segment_beskrivelse")), Packages: refs}
		for f, msg := range sg.Validate() {
			if f != "pakke" {
				bad[f] = msg
			}
		}
		ap.NewSegment = &sg
	}
	if validTo != "" {
		t, err := time.ParseInLocation(time.DateOnly, validTo, s.Oslo)
		if err != nil || !t.After(s.Now()) {
			bad["gyldig_til"] = "Skriv en dato fram i tid som ÅÅÅÅ-MM-DD, eller la feltet stå tomt."
		} else {
			ap.ValidTo = &t
		}
	}
	fill := func(p *casePage) {
		p.NewSegment, p.ValidTo = newSeg, validTo
		for i := range p.Grantable {
			p.Grantable[i].Checked = slices.Contains(r.PostForm["pakke"], p.Grantable[i].Ref)
		}
		for i := range p.Segments {
			p.Segments[i].Selected = p.Segments[i].ID == segID
		}
	}
	if len(bad) > 0 {
		s.badCase(w, r, v, a, bad, fill)
		return nil
	}
	_, d, err := s.DB.ApproveApplication(ctx, a.ID, ap, v.Actor(), v.User.Navn)
	switch {
	case errors.Is(err, store.ErrExists):
		s.badCase(w, r, v, a, map[string]string{"segment_navn": "Det finnes alt et segment med det navnet."}, fill)
		return nil
	case err != nil:
		s.stepDone(w, r, err, back, "")
		return nil
	}
	s.Flash(r, "Søknaden er godkjent, og konsumenten har fått testtilgang. Vedtaket er lagret.")
	site.Redirect(w, r, "/portal/vedtak/"+d.ID)
	return nil
}

func (s *Feature) caseRefuse(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, back, ok := s.caseStep(w, r, v, governance.StepRefuse)
	if !ok {
		return nil
	}
	reasons := strings.TrimSpace(r.PostFormValue("begrunnelse"))
	if reasons == "" || utf8.RuneCountInString(reasons) > 8000 {
		s.badCase(w, r, v, a, map[string]string{"begrunnelse": "Begrunn avslaget (høyst 8000 tegn)."}, func(p *casePage) { p.Reasons = reasons })
		return nil
	}
	_, d, err := s.DB.RefuseApplication(r.Context(), a.ID, reasons, s.Oslo, v.Actor(), v.User.Navn)
	if err != nil {
		s.stepDone(w, r, err, back, "")
		return nil
	}
	s.Flash(r, "Søknaden er avslått. Vedtaket er lagret, og søkeren kan lese det.")
	site.Redirect(w, r, "/portal/vedtak/"+d.ID)
	return nil
}

func (s *Feature) caseApproveProduction(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	a, back, ok := s.caseStep(w, r, v, governance.StepApproveProd)
	if !ok {
		return nil
	}
	var pkgs []access.Package
	for _, ref := range a.Granted {
		if pk, err := s.catalogue.Resolve(ref); err == nil {
			pkgs = append(pkgs, pk)
		}
	}
	_, d, err := s.DB.ApproveProduction(r.Context(), a.ID, pkgs, s.Oslo, v.Actor(), v.User.Navn)
	if err != nil {
		s.stepDone(w, r, err, back, "")
		return nil
	}
	s.Flash(r, "Produksjonstilgang er gitt. Vedtaket er lagret.")
	site.Redirect(w, r, "/portal/vedtak/"+d.ID)
	return nil
}

// --- decisions (vedtak) --------------------------------------------------

// decision loads a decision the visitor may read: the register's staff any,
// an organisation's administrator and role holder their own.
func (s *Feature) decision(w http.ResponseWriter, r *http.Request, v *site.Visitor) (governance.Decision, bool) {
	d, err := s.DB.Decision(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.NotFound(w, r, v)
		return d, false
	case err != nil:
		s.PageError(w, r, err)
		return d, false
	}
	if !v.Staff(governance.Saksbehandler, governance.Personvernombud) && !(d.Org == v.Org && v.For(governance.Administrator, governance.Rolleinnehaver)) {
		s.NotFound(w, r, v)
		return d, false
	}
	return d, true
}

func (s *Feature) decisionPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	d, ok := s.decision(w, r, v)
	if !ok {
		return nil
	}
	back := "/portal/soknader/" + d.ApplicationID
	if v.Staff(governance.Saksbehandler, governance.Personvernombud) {
		back = "/portal/saker/" + d.ApplicationID
	}
	d.CreatedAt = s.inOslo(d.CreatedAt)
	s.Render(w, r, "vedtak.html", struct {
		site.Frame
		D    governance.Decision
		Back string
	}{s.Frame(r, v, d.Kind.Label()), d, back})
	return nil
}

// decisionDownload gives the decision document as a file, exactly as stored (its SHA-256 is in the log).
func (s *Feature) decisionDownload(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	d, ok := s.decision(w, r, v)
	if !ok {
		return nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Filename()+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte(d.Text))
	return nil
}
