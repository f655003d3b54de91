package terms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// termsVersionView is a terms version as the pages show it, with an organisation's standing when one is acting.
type termsVersionView struct {
	governance.TermsVersion
	Published, Effective string
	Paragraphs           []string
	State                governance.TermsState
	CanAccept, CanObject bool
	Objection            *governance.Objection // the latest, if any
	ObjectionCreated     string
	Upcoming             bool // shown under a heading of its own
}

// termsKindView is one kind's version in effect and those announced.
type termsKindView struct {
	Kind     governance.TermsKind
	Current  *termsVersionView
	Upcoming []termsVersionView
	Earlier  []termsVersionView // the staff's page only
}

func (s *Feature) termsView(v governance.TermsVersion) termsVersionView {
	return termsVersionView{TermsVersion: v, Published: s.OsloDate(v.PublishedAt),
		Effective: s.OsloDate(v.EffectiveFrom), Paragraphs: v.Paragraphs()}
}

// termsByKind groups versions by kind: in effect, upcoming and (when earlier) those replaced.
func (s *Feature) termsByKind(vs []governance.TermsVersion, earlier bool) []termsKindView {
	now := s.Now()
	var out []termsKindView
	for _, k := range governance.TermsKinds() {
		kv := termsKindView{Kind: k}
		cur, up := governance.InEffect(vs, k, now)
		if cur != nil {
			c := s.termsView(*cur)
			kv.Current = &c
		}
		for _, u := range up {
			kv.Upcoming = append(kv.Upcoming, s.termsView(u))
		}
		if earlier {
			for i := len(vs) - 1; i >= 0; i-- {
				if vs[i].Kind == k && !vs[i].EffectiveFrom.After(now) && (cur == nil || vs[i].ID != cur.ID) {
					kv.Earlier = append(kv.Earlier, s.termsView(vs[i]))
				}
			}
		}
		out = append(out, kv)
	}
	return out
}

type termsPublicPage struct {
	site.Frame
	Kinds []termsKindView
}

// termsPublic shows the terms in effect and those announced, to anyone.
func (s *Feature) termsPublic(w http.ResponseWriter, r *http.Request) {
	v, err := s.LoadVisitor(r)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	vs, err := s.DB.TermsVersions(r.Context())
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Render(w, r, "vilkar.html", termsPublicPage{Frame: s.Frame(r, v, "Vilkår"), Kinds: s.termsByKind(vs, false)})
}

// termsStanding is an organisation's standing with the terms.
type termsStanding struct {
	consumer   *access.Consumer // nil: the organisation is no consumer
	hasAccess  bool
	accepted   map[string]*governance.Acceptance // by version id
	objections []governance.Objection
}

func (s *Feature) termsStanding(ctx context.Context, org string) (termsStanding, error) {
	st := termsStanding{accepted: map[string]*governance.Acceptance{}}
	c, err := s.DB.Consumer(ctx, org)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return st, err
	default:
		st.consumer = &c
		grants, err := s.DB.Grants(ctx, org)
		if err != nil {
			return st, err
		}
		for _, g := range grants {
			if g.Status == access.Active || g.Status == access.Suspended {
				st.hasAccess = c.Status == access.Active
			}
		}
	}
	acc, err := s.DB.TermsAcceptances(ctx, org)
	if err != nil {
		return st, err
	}
	for i := range acc {
		st.accepted[acc[i].VersionID] = &acc[i]
	}
	if st.objections, err = s.DB.Objections(ctx, org, ""); err != nil {
		return st, err
	}
	return st, nil
}

// judge fills in the organisation's state for a version, and what it may do (Rule AA-24).
func (s *Feature) judge(tv *termsVersionView, st termsStanding) {
	now := s.Now()
	tv.State = governance.StateOf(tv.TermsVersion, st.hasAccess, st.accepted[tv.ID], st.objections, now)
	tv.CanAccept = governance.CanAccept(tv.State)
	tv.CanObject = st.consumer != nil && governance.CanObject(tv.TermsVersion, tv.State, now)
	for i := range st.objections {
		if o := &st.objections[i]; o.VersionID == tv.ID && (tv.Objection == nil || o.CreatedAt.After(tv.Objection.CreatedAt)) {
			tv.Objection = o
			tv.ObjectionCreated = s.OsloDate(o.CreatedAt)
		}
	}
}

type termsConsumerPage struct {
	site.Frame
	HasAccess bool
	Days      int // the notice period in days (Rule AA-24)
	Kinds     []termsKindView
}

// termsConsumer shows the organisation's terms: in effect and announced, and where it stands with each (Rules AA-24, SK-02).
func (s *Feature) termsConsumer(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	vs, err := s.DB.TermsVersions(r.Context())
	if err != nil {
		return err
	}
	st, err := s.termsStanding(r.Context(), v.Org)
	if err != nil {
		return err
	}
	kinds := s.termsByKind(vs, false)
	for i := range kinds {
		if kinds[i].Current != nil {
			s.judge(kinds[i].Current, st)
		}
		for j := range kinds[i].Upcoming {
			kinds[i].Upcoming[j].Upcoming = true
			s.judge(&kinds[i].Upcoming[j], st)
		}
	}
	s.Render(w, r, "vilkar_konsument.html", termsConsumerPage{Frame: s.Frame(r, v, "Vilkår"), HasAccess: st.hasAccess,
		Days: int(s.rules.TermsNotice.Hours() / 24), Kinds: kinds})
	return nil
}

// versionFor loads the version in the path and the organisation's state with it; ok false when the answer was written.
func (s *Feature) versionFor(w http.ResponseWriter, r *http.Request, v *site.Visitor) (termsVersionView, termsStanding, bool) {
	tv, err := s.DB.TermsVersion(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && tv.PublishedAt.After(s.Now())) {
		s.NotFound(w, r, v)
		return termsVersionView{}, termsStanding{}, false
	}
	if err != nil {
		s.PageError(w, r, err)
		return termsVersionView{}, termsStanding{}, false
	}
	st, err := s.termsStanding(r.Context(), v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return termsVersionView{}, termsStanding{}, false
	}
	view := s.termsView(tv)
	s.judge(&view, st)
	return view, st, true
}

// acceptTerms records the organisation's explicit acceptance (Rule SK-02).
func (s *Feature) acceptTerms(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	tv, _, ok := s.versionFor(w, r, v)
	if !ok {
		return nil
	}
	if !tv.CanAccept {
		s.Flash(r, "Disse vilkårene kan ikke godtas nå: "+strings.ToLower(tv.State.Label())+".")
		site.Redirect(w, r, "/portal/vilkar")
		return nil
	}
	if err := s.DB.AcceptTerms(r.Context(), v.Org, tv.ID, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, fmt.Sprintf("Dere har godtatt «%s» (versjon %d).", tv.Title, tv.Version))
	site.Redirect(w, r, "/portal/vilkar")
	return nil
}

type objectionFormPage struct {
	site.Frame
	Version   termsVersionView
	Reason    string
	Errors    map[string]string
	ErrorList []site.FieldError
	Closed    string // why no objection can be made, when so
}

func (s *Feature) objectionClosed(tv termsVersionView, st termsStanding) string {
	switch {
	case st.consumer == nil:
		return "Bare konsumenter av Aa-registeret kan melde innsigelse mot vilkårene."
	case tv.CanObject:
		return ""
	case tv.State == governance.TermsObjected || tv.State == governance.TermsObjectionMet || tv.State == governance.TermsObjectionRefused:
		return "Dere har allerede meldt innsigelse mot denne versjonen."
	default:
		return "Fristen for å melde innsigelse gikk ut da vilkårene begynte å gjelde " + tv.Effective + "."
	}
}

// objectionForm asks for the objection's reason (Rule AA-24).
func (s *Feature) objectionForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	tv, st, ok := s.versionFor(w, r, v)
	if !ok {
		return nil
	}
	s.Render(w, r, "innsigelse_ny.html", objectionFormPage{Frame: s.Frame(r, v, "Meld innsigelse mot vilkår"), Version: tv, Closed: s.objectionClosed(tv, st)})
	return nil
}

// objectToTerms sends an objection to the register's case workers; allowed until the version takes effect (Rule AA-24).
func (s *Feature) objectToTerms(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	tv, st, ok := s.versionFor(w, r, v)
	if !ok {
		return nil
	}
	o := governance.Objection{Consumer: v.Org, VersionID: tv.ID, Reason: r.PostFormValue("begrunnelse")}
	p := objectionFormPage{Frame: s.Frame(r, v, "Meld innsigelse mot vilkår"), Version: tv, Reason: o.Reason, Closed: s.objectionClosed(tv, st)}
	fail := func(code int, bad map[string]string) {
		p.Errors, p.ErrorList = bad, site.ErrorList(bad, "begrunnelse")
		w.WriteHeader(code)
		s.Render(w, r, "innsigelse_ny.html", p)
	}
	if p.Closed != "" {
		fail(http.StatusConflict, nil)
		return nil
	}
	if bad := o.Validate(); len(bad) > 0 {
		fail(http.StatusBadRequest, bad)
		return nil
	}
	_, err := s.DB.ObjectToTerms(r.Context(), o, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		p.Closed = "Fristen for å melde innsigelse gikk ut da vilkårene begynte å gjelde " + tv.Effective + "."
		fail(http.StatusConflict, nil)
		return nil
	case errors.Is(err, store.ErrExists):
		p.Closed = "Dere har allerede meldt innsigelse mot denne versjonen."
		fail(http.StatusConflict, nil)
		return nil
	case err != nil:
		return err
	}
	s.Flash(r, "Innsigelsen er sendt til registerets saksbehandlere. Dere får svar på e-post.")
	site.Redirect(w, r, "/portal/vilkar")
	return nil
}

// termsForm is the publish form's values, as typed.
type termsForm struct {
	Type, Tittel, Tekst, GjelderFra string
}

type termsAdminPage struct {
	site.Frame
	Form      termsForm
	Errors    map[string]string
	ErrorList []site.FieldError
	Kinds     []termsKindView
	AllKinds  []governance.TermsKind
	Earliest  string // the earliest date a later version may take effect
	Days      int    // the notice period in days (Rule AA-24)
}

var termsFields = []string{"type", "tittel", "tekst", "gjelder_fra"}

func (s *Feature) termsAdminData(r *http.Request, v *site.Visitor, form termsForm, bad map[string]string) (termsAdminPage, error) {
	vs, err := s.DB.TermsVersions(r.Context())
	if err != nil {
		return termsAdminPage{}, err
	}
	return termsAdminPage{Frame: s.Frame(r, v, "Vilkår"), Form: form, Errors: bad, ErrorList: site.ErrorList(bad, termsFields...),
		Kinds: s.termsByKind(vs, true), AllKinds: governance.TermsKinds(),
		Earliest: s.OsloDate(s.ceilDay(s.Now().Add(s.rules.TermsNotice))),
		Days:     int(s.rules.TermsNotice.Hours() / 24)}, nil
}

// termsAdmin is the Forvalter's page: the versions, and a form for a new one.
func (s *Feature) termsAdmin(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.termsAdminData(r, v, termsForm{Type: string(governance.Bruksvilkar)}, nil)
	if err != nil {
		return err
	}
	s.Render(w, r, "vilkar_forvalter.html", p)
	return nil
}

// publishTerms publishes a new version and announces it as a notice and by
// e-mail, in one transaction. Rule AA-24: a later version takes effect no
// sooner than TermsNotice after publication; until then consumers may object.
func (s *Feature) publishTerms(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	form := termsForm{Type: r.PostFormValue("type"), Tittel: r.PostFormValue("tittel"), Tekst: r.PostFormValue("tekst"),
		GjelderFra: strings.TrimSpace(r.PostFormValue("gjelder_fra"))}
	tv := governance.TermsVersion{Kind: governance.TermsKind(form.Type), Title: form.Tittel, Body: form.Tekst, PublishedAt: s.Now()}
	vs, err := s.DB.TermsVersions(r.Context())
	if err != nil {
		return err
	}
	number := 1
	for _, x := range vs {
		if x.Kind == tv.Kind {
			number = max(number, x.Version+1)
		}
	}
	first := number == 1
	parseBad := map[string]string{}
	if !first {
		if t := s.parseFormDate(form.GjelderFra, "gjelder_fra", "datoen vilkårene gjelder fra", parseBad); t != nil {
			tv.EffectiveFrom = *t
		}
	}
	bad := tv.Validate(first, s.rules.TermsNotice)
	for k, msg := range parseBad {
		bad[k] = msg
	}
	fail := func(code int) {
		p, err := s.termsAdminData(r, v, form, bad)
		if err != nil {
			s.PageError(w, r, err)
			return
		}
		w.WriteHeader(code)
		s.Render(w, r, "vilkar_forvalter.html", p)
	}
	if len(bad) > 0 {
		fail(http.StatusBadRequest)
		return nil
	}
	n, letter := s.termsAnnouncement(r, tv, number)
	stored, _, err := s.DB.PublishTerms(r.Context(), tv, s.rules.TermsNotice, n, letter, v.Actor())
	if errors.Is(err, store.ErrConflict) {
		bad["gjelder_fra"] = fmt.Sprintf("Nye vilkår må varsles minst %d dager før de gjelder.", int(s.rules.TermsNotice.Hours()/24))
		fail(http.StatusConflict)
		return nil
	}
	if err != nil {
		return err
	}
	s.Log.Info("terms published", "version", stored.ID, "kind", stored.Kind, "number", stored.Version, "user", v.User.ID)
	s.Flash(r, fmt.Sprintf("Versjon %d er publisert og varslet. Den gjelder fra %s.", stored.Version, s.OsloDate(stored.EffectiveFrom)))
	site.Redirect(w, r, "/portal/forvalter/vilkar")
	return nil
}

// termsAnnouncement is the notice and the letter that announce a new version (Rules AA-20, AA-24).
func (s *Feature) termsAnnouncement(r *http.Request, tv governance.TermsVersion, number int) (governance.Notice, governance.Letter) {
	base := s.AbsoluteBase(r)
	label := tv.Kind.Label()
	var b strings.Builder
	if number == 1 {
		fmt.Fprintf(&b, "Registerforvalteren har publisert %s: «%s». Vilkårene gjelder fra i dag.\n\n", label, tv.Title)
		b.WriteString("Vilkårene står på siden Vilkår, og konsumentene godtar dem i portalen.")
	} else {
		fmt.Fprintf(&b, "Registerforvalteren har publisert versjon %d av %s: «%s». Den gjelder fra %s.\n\n", number, label, tv.Title, s.OsloDate(tv.EffectiveFrom))
		b.WriteString("De nye vilkårene regnes som godtatt av konsumenter som ikke har meldt innsigelse i portalen før de begynner å gjelde. " +
			"Kan en innsigelse ikke imøtekommes, avsluttes tilgangen.")
	}
	n := governance.Notice{Kind: governance.NoticeTerms, Title: "Nye vilkår: " + tv.Title, Body: b.String(), PublishedAt: tv.PublishedAt}
	body := b.String() + "\n\nLes vilkårene: " + base + "/vilkar\nGodta dem eller meld innsigelse: " + base + "/portal/vilkar\n\n" +
		"Du får denne e-posten fordi du er kontaktperson for en konsument av Aa-registeret og abonnerer på driftsmeldinger. " +
		"Endre abonnementet under Kontaktpersoner i portalen: " + base + "/portal/kontakter\n"
	return n, governance.Letter{Kind: governance.LetterNotice, Subject: "Nye vilkår for Aa-registeret: " + tv.Title, Body: body}
}

// objectionRow is an objection in the case workers' lists.
type objectionRow struct {
	governance.Objection
	ConsumerName string
	Version      termsVersionView
	Created      string
	Resolved     string
}

func (s *Feature) objectionRow(ctx context.Context, o governance.Objection, versions map[string]governance.TermsVersion) (objectionRow, error) {
	row := objectionRow{Objection: o, ConsumerName: o.Consumer, Created: s.OsloTime(o.CreatedAt)}
	if o.ResolvedAt != nil {
		row.Resolved = s.OsloTime(*o.ResolvedAt)
	}
	name, err := s.OrgName(ctx, o.Consumer)
	if err != nil {
		return row, err
	}
	row.ConsumerName = name
	if name == "" {
		row.ConsumerName = site.OrgLabel("", o.Consumer)
	}
	if v, ok := versions[o.VersionID]; ok {
		row.Version = s.termsView(v)
	}
	return row, nil
}

func (s *Feature) versionsByID(ctx context.Context) (map[string]governance.TermsVersion, error) {
	vs, err := s.DB.TermsVersions(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]governance.TermsVersion, len(vs))
	for _, v := range vs {
		out[v.ID] = v
	}
	return out, nil
}

type objectionQueuePage struct {
	site.Frame
	Pending, Decided []objectionRow
}

// objectionQueue lists the objections for the register's case workers: pending first, then the latest decided.
func (s *Feature) objectionQueue(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ctx := r.Context()
	all, err := s.DB.Objections(ctx, "", "")
	if err != nil {
		return err
	}
	versions, err := s.versionsByID(ctx)
	if err != nil {
		return err
	}
	p := objectionQueuePage{Frame: s.Frame(r, v, "Innsigelser mot vilkår")}
	for i := len(all) - 1; i >= 0; i-- {
		o := all[i]
		if o.Status != governance.ObjectionPending && len(p.Decided) >= 20 {
			continue
		}
		row, err := s.objectionRow(ctx, o, versions)
		if err != nil {
			return err
		}
		if o.Status == governance.ObjectionPending {
			p.Pending = append([]objectionRow{row}, p.Pending...) // oldest first
		} else {
			p.Decided = append(p.Decided, row)
		}
	}
	s.Render(w, r, "innsigelser.html", p)
	return nil
}

type objectionCasePage struct {
	site.Frame
	O          objectionRow
	Paragraphs []string
	Grants     int // the consumer's grants that have not ended
	Outcome    string
	Note       string
	Errors     map[string]string
	ErrorList  []site.FieldError
}

func (s *Feature) objectionCaseData(r *http.Request, v *site.Visitor) (objectionCasePage, error) {
	ctx := r.Context()
	o, err := s.DB.Objection(ctx, r.PathValue("id"))
	if err != nil {
		return objectionCasePage{}, err
	}
	versions, err := s.versionsByID(ctx)
	if err != nil {
		return objectionCasePage{}, err
	}
	row, err := s.objectionRow(ctx, o, versions)
	if err != nil {
		return objectionCasePage{}, err
	}
	p := objectionCasePage{Frame: s.Frame(r, v, "Innsigelse fra "+row.ConsumerName), O: row, Paragraphs: governance.Paragraphs(o.Reason)}
	grants, err := s.DB.Grants(ctx, o.Consumer)
	if err != nil {
		return p, err
	}
	for _, g := range grants {
		if g.Status != access.Ended {
			p.Grants++
		}
	}
	return p, nil
}

// objectionCase shows one objection with the two answers a case worker can give.
func (s *Feature) objectionCase(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.objectionCaseData(r, v)
	if err != nil {
		return err // store.ErrNotFound answers 404 (serveError)
	}
	s.Render(w, r, "innsigelse_sak.html", p)
	return nil
}

// Outcomes of an objection, as the form sends them.
const (
	outcomeMet      = "imotekommes"
	outcomeRejected = "avvises"
)

// resolveObjection records the case worker's answer. Rule AA-24: an objection
// that cannot be met ends all the consumer's access, in the same transaction,
// and the consumer is told in writing.
func (s *Feature) resolveObjection(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.objectionCaseData(r, v)
	if err != nil {
		return err // store.ErrNotFound answers 404 (serveError)
	}
	p.Outcome, p.Note = r.PostFormValue("utfall"), strings.TrimSpace(r.PostFormValue("notat"))
	bad := map[string]string{}
	switch p.Outcome {
	case outcomeMet:
		if p.Note == "" {
			bad["notat"] = "Skriv hvordan innsigelsen imøtekommes. Teksten sendes til konsumenten."
		}
	case outcomeRejected:
	default:
		bad["utfall"] = "Velg om innsigelsen kan imøtekommes."
	}
	if len(p.Note) > 20_000 {
		bad["notat"] = "Svaret er for langt."
	}
	if p.O.Status != governance.ObjectionPending {
		s.Flash(r, "Innsigelsen er allerede behandlet.")
		site.Redirect(w, r, "/portal/innsigelser/"+p.O.ID)
		return nil
	}
	if len(bad) > 0 {
		p.Errors, p.ErrorList = bad, site.ErrorList(bad, "utfall", "notat")
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "innsigelse_sak.html", p)
		return nil
	}
	met := p.Outcome == outcomeMet
	_, err = s.DB.ResolveObjection(r.Context(), p.O.ID, met, p.Note, s.objectionLetter(r, p.O, met, p.Note), v.Actor())
	if errors.Is(err, store.ErrConflict) {
		s.Flash(r, "Innsigelsen er allerede behandlet.")
		site.Redirect(w, r, "/portal/innsigelser/"+p.O.ID)
		return nil
	}
	if err != nil {
		return err
	}
	s.Log.Info("objection resolved", "objection", p.O.ID, "consumer", p.O.Consumer, "met", met, "user", v.User.ID)
	if met {
		s.Flash(r, "Innsigelsen er imøtekommet, og "+p.O.ConsumerName+" har fått svar.")
	} else {
		s.Flash(r, "Innsigelsen kan ikke imøtekommes. All tilgang for "+p.O.ConsumerName+" er avsluttet, og kontaktpersonene har fått brev.")
	}
	site.Redirect(w, r, "/portal/innsigelser")
	return nil
}

// objectionLetter is the written answer to an objection.
func (s *Feature) objectionLetter(r *http.Request, o objectionRow, met bool, note string) governance.Letter {
	base := s.AbsoluteBase(r)
	var b strings.Builder
	fmt.Fprintf(&b, "Registerforvalteren har behandlet innsigelsen fra %s (%s) mot %s, versjon %d («%s»), meldt %s.\n\n",
		o.ConsumerName, o.Consumer, o.Version.Kind.Label(), o.Version.Version, o.Version.Title, o.Created)
	subject := "Innsigelsen mot nye vilkår er imøtekommet"
	if met {
		b.WriteString("Innsigelsen imøtekommes.\n\n" + note + "\n\nDere beholder tilgangen til Aa-registeret.\n\n")
	} else {
		subject = "Innsigelsen mot nye vilkår kan ikke imøtekommes – tilgangen er avsluttet"
		b.WriteString("Innsigelsen kan ikke imøtekommes. Etter vilkårene avsluttes da tilgangen: fra " + s.OsloTime(s.Now()) +
			" er alle vedtak om tilgang for virksomheten avsluttet, og databehandlere kan ikke lenger hente opplysninger for dere.\n\n")
		if note != "" {
			b.WriteString("Begrunnelse: " + note + "\n\n")
		}
		b.WriteString("For å få tilgang igjen må dere godta vilkårene og søke på nytt: " + base + "/portal/soknader\n\n")
	}
	b.WriteString("Se vilkårene og svaret i portalen: " + base + "/portal/vilkar\n")
	return governance.Letter{Kind: "terms.objection", Subject: subject, Body: b.String()}
}
