package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Living with access (issue 5, item 5): the consumer keeps its contact
// persons current (Rule AA-06) and reviews its users (AA-27); the register
// suspends and resumes a consumer's access with a written notice (AA-25); the
// consumer ends its access itself, and Enhetsregisteret's daily import ends
// the access of organisations that ceased (AA-26).

// lifeForm is a form's values and errors by field name, shown again after a bad post.
type lifeForm struct {
	Values map[string]string
	Errors map[string]string
	order  []string // field names in page order, for the error summary
}

func newLifeForm(order ...string) lifeForm {
	return lifeForm{Values: map[string]string{}, Errors: map[string]string{}, order: order}
}

// Field is a text field of the form, for {{template "field" (.Form.Field "navn" "Navn")}}.
func (f lifeForm) Field(name, label string) site.Field {
	return site.Field{Name: name, Label: label, Value: f.Values[name], Error: f.Errors[name]}
}

// Typed is a field of another input type (email, tel, date, password).
func (f lifeForm) Typed(name, label, typ string) site.Field {
	fl := f.Field(name, label)
	fl.Type = typ
	return fl
}

// Summary lists the errors in page order, for the summary at the top that links to each field.
func (f lifeForm) Summary() []site.Field {
	var out []site.Field
	for _, n := range f.order {
		if e := f.Errors[n]; e != "" {
			out = append(out, site.Field{Name: n, Error: e})
		}
	}
	return out
}

// Bad reports whether the form has errors.
func (f lifeForm) Bad() bool { return len(f.Errors) > 0 }

// consumerName is an organisation's name, or "org.nr. …" when deling knows none.
func (s *Server) consumerName(r *http.Request, orgnr string) string {
	if name, err := s.OrgName(r.Context(), orgnr); err == nil && name != "" {
		return name
	}
	return site.OrgLabel("", orgnr)
}

// orgLabel is an organisation's name with its number (site.OrgLabel).
func (s *Server) orgLabel(r *http.Request, orgnr string) string {
	return site.OrgLabel(s.consumerName(r, orgnr), orgnr)
}

// ---- Contact persons (Rule AA-06) ----

type contactsPage struct {
	site.Frame
	Contacts []governance.Contact
	Roles    []governance.ContactRole
	Form     lifeForm
	Problem  string
}

type contactPage struct {
	site.Frame
	Contact governance.Contact
	Roles   []governance.ContactRole
	Form    lifeForm
}

var contactFields = []string{"navn", "epost", "telefon", "rolle"}

func contactForm(c governance.Contact) lifeForm {
	f := newLifeForm(contactFields...)
	f.Values["navn"], f.Values["epost"], f.Values["telefon"], f.Values["rolle"] = c.Navn, c.Epost, c.Telefon, string(c.Rolle)
	if c.Varsler {
		f.Values["varsler"] = "on"
	}
	return f
}

func contactFromForm(r *http.Request, org string) governance.Contact {
	return governance.Contact{
		Consumer: org,
		Navn:     r.PostFormValue("navn"),
		Epost:    r.PostFormValue("epost"),
		Telefon:  r.PostFormValue("telefon"),
		Rolle:    governance.ContactRole(r.PostFormValue("rolle")),
		Varsler:  r.PostFormValue("varsler") != "",
	}
}

func (s *Server) renderContacts(w http.ResponseWriter, r *http.Request, v *site.Visitor, f lifeForm, problem string, status int) {
	cs, err := s.DB.Contacts(r.Context(), v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "kontakter.html", contactsPage{Frame: s.Frame(r, v, "Kontaktpersoner"), Contacts: cs,
		Roles: governance.ContactRoles(), Form: f, Problem: problem})
}

func (s *Server) contactList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	f := contactForm(governance.Contact{Rolle: governance.ContactTechnical, Varsler: true})
	s.renderContacts(w, r, v, f, "", http.StatusOK)
	return nil
}

// addContact adds a contact person: no new decision needed (Rule AA-06).
func (s *Server) addContact(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c := contactFromForm(r, v.Org)
	if bad := c.Validate(); len(bad) > 0 {
		f := contactForm(c)
		f.Errors = bad
		s.renderContacts(w, r, v, f, "", http.StatusBadRequest)
		return nil
	}
	if _, err := s.DB.SaveContact(r.Context(), c, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, c.Navn+" er lagt til som kontaktperson.")
	site.Redirect(w, r, "/portal/kontakter")
	return nil
}

// ownContact finds one of the organisation's contacts; another organisation's answers as unknown.
func (s *Server) ownContact(w http.ResponseWriter, r *http.Request, v *site.Visitor) (governance.Contact, []governance.Contact, bool) {
	cs, err := s.DB.Contacts(r.Context(), v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return governance.Contact{}, nil, false
	}
	i := slices.IndexFunc(cs, func(c governance.Contact) bool { return c.ID == r.PathValue("id") })
	if i < 0 {
		s.NotFound(w, r, v)
		return governance.Contact{}, nil, false
	}
	return cs[i], cs, true
}

func (s *Server) contactEdit(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, _, ok := s.ownContact(w, r, v)
	if !ok {
		return nil
	}
	s.Render(w, r, "kontakt.html", contactPage{Frame: s.Frame(r, v, "Endre kontaktperson"), Contact: c,
		Roles: governance.ContactRoles(), Form: contactForm(c)})
	return nil
}

func (s *Server) changeContact(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	old, _, ok := s.ownContact(w, r, v)
	if !ok {
		return nil
	}
	c := contactFromForm(r, v.Org)
	c.ID = old.ID
	bad := c.Validate()
	showAgain := func() {
		f := contactForm(c)
		f.Errors = bad
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "kontakt.html", contactPage{Frame: s.Frame(r, v, "Endre kontaktperson"), Contact: old,
			Roles: governance.ContactRoles(), Form: f})
	}
	if len(bad) > 0 {
		showAgain()
		return nil
	}
	// The store keeps the last administrative contact, checked in the change's transaction (Rule AA-06).
	_, err := s.DB.ChangeContactKeepingOne(r.Context(), c, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		bad["rolle"] = "Virksomheten må ha minst én administrativ kontaktperson. Legg til en ny før du endrer denne."
		showAgain()
		return nil
	case errors.Is(err, store.ErrNotFound):
		return httperr.ErrNotFound
	case err != nil:
		return err
	}
	s.Flash(r, "Endringen av "+c.Navn+" er lagret.")
	site.Redirect(w, r, "/portal/kontakter")
	return nil
}

func (s *Server) removeContact(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, _, ok := s.ownContact(w, r, v)
	if !ok {
		return nil
	}
	// The store keeps the last administrative contact, checked in the removal's transaction (Rule AA-06).
	err := s.DB.RemoveContactKeepingOne(r.Context(), v.Org, c.ID, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		s.renderContacts(w, r, v, contactForm(governance.Contact{Rolle: governance.ContactTechnical, Varsler: true}),
			c.Navn+" er virksomhetens eneste administrative kontaktperson og kan ikke fjernes. Legg til en ny administrativ kontaktperson først.",
			http.StatusConflict)
		return nil
	case errors.Is(err, store.ErrNotFound):
		return httperr.ErrNotFound
	case err != nil:
		return err
	}
	s.Flash(r, c.Navn+" er fjernet som kontaktperson.")
	site.Redirect(w, r, "/portal/kontakter")
	return nil
}

// ---- Users and their review (Rule AA-27) ----

type lifeUserRow struct {
	ID, Navn, Email string
	Roles           []lifeUserRole
	LastReviewed    string
	Due             bool
}

type lifeUserRole struct {
	Role     governance.Role
	Label    string
	Given    string
	Reviewed string
	Due      bool
}

type usersPage struct {
	site.Frame
	Users       []lifeUserRow
	Due         int
	ReviewDays  int
	Roles       []governance.Role
	Form        lifeForm
	Problem     string
	CanGiveLead bool // may give the role holder role
}

type userPage struct {
	site.Frame
	User    lifeUserRow
	Problem string
}

func (s *Server) userRows(r *http.Request, org string) ([]lifeUserRow, int, error) {
	members, err := s.DB.OrgMembers(r.Context(), org)
	if err != nil {
		return nil, 0, err
	}
	now, due := s.Now(), 0
	rows := make([]lifeUserRow, 0, len(members))
	for _, m := range members {
		row := lifeUserRow{ID: m.User.ID, Navn: m.User.Navn, Email: m.User.Email,
			LastReviewed: s.OsloDate(governance.LastReviewed(m.Roles)),
			Due:          governance.MembershipsDue(m.Roles, now, s.rules.ReviewEvery)}
		for _, ms := range m.Roles {
			row.Roles = append(row.Roles, lifeUserRole{Role: ms.Role, Label: ms.Role.Label(), Given: s.OsloDate(ms.CreatedAt),
				Reviewed: s.OsloDate(ms.ReviewedAt), Due: governance.ReviewDue(ms.ReviewedAt, now, s.rules.ReviewEvery)})
		}
		if row.Due {
			due++
		}
		rows = append(rows, row)
	}
	return rows, due, nil
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, v *site.Visitor, f lifeForm, problem string, status int) {
	rows, due, err := s.userRows(r, v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "brukere.html", usersPage{Frame: s.Frame(r, v, "Brukere"), Users: rows, Due: due,
		ReviewDays: int(s.rules.ReviewEvery / (24 * time.Hour)), Roles: governance.OrganisationRoles(), Form: f, Problem: problem,
		CanGiveLead: v.For(governance.Rolleinnehaver)})
}

func (s *Server) userList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	f := newLifeForm("epost", "navn", "rolle")
	f.Values["rolle"] = string(governance.Oppslagsbruker)
	s.renderUsers(w, r, v, f, "", http.StatusOK)
	return nil
}

// ActivationValidity is how long an invitation's link works.
const ActivationValidity = 7 * 24 * time.Hour

// InvitationsPerDay bounds the invitations an organisation sends in 24 hours
// (Rule AA-27): plenty for taking people on, too few to probe many addresses
// or to send mail in bulk.
const InvitationsPerDay = 50

// addUser invites a person to a role for the organisation (Rule AA-27). The
// person holds the role only after taking it through the single-use link
// mailed to them: a new account sets a password, an existing account accepts
// the invitation, so nobody's account is attached to an organisation without
// their consent. The administrator gets the same answer for every address
// (an account or none, blocked, a person's or the register's staff's, already
// a member): the portal reveals nothing about who has an account, and never
// shows an existing account's name.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	f := newLifeForm("epost", "navn", "rolle")
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("epost")))
	navn := strings.TrimSpace(r.PostFormValue("navn"))
	role := governance.Role(r.PostFormValue("rolle"))
	f.Values["epost"], f.Values["navn"], f.Values["rolle"] = email, navn, string(role)
	if !governance.ValidEmail(email) {
		f.Errors["epost"] = "Skriv en gyldig e-postadresse, for eksempel navn@virksomhet.no."
	}
	switch {
	case navn == "":
		f.Errors["navn"] = "Skriv navnet til brukeren."
	case len(navn) > 200:
		f.Errors["navn"] = "Navnet er for langt."
	}
	switch {
	case !slices.Contains(governance.OrganisationRoles(), role):
		f.Errors["rolle"] = "Velg en rolle."
	case role == governance.Rolleinnehaver && !v.For(governance.Rolleinnehaver):
		// Only a role holder makes another: the role signs for the organisation (Rule AA-01).
		f.Errors["rolle"] = "Bare en rolleinnehaver kan gi rollen rolleinnehaver."
	}
	if f.Bad() {
		s.renderUsers(w, r, v, f, "", http.StatusBadRequest)
		return nil
	}
	token, hash := newActivationToken()
	expires := s.Now().Add(ActivationValidity)
	link := s.BaseURL + "/aktiver/" + token
	letter := func(setPassword bool, name string) governance.Letter {
		what := "Du har allerede en konto. Åpne lenken og godta invitasjonen for å få rollen:"
		if setPassword {
			what = "Velg et passord for å ta kontoen i bruk. Da får du rollen:"
		}
		return governance.Letter{Subject: "Invitasjon til Aa-registerets portal", Body: fmt.Sprintf("Hei %s,\n\n"+
			"%s har invitert deg til rollen %s for %s i Aa-registerets portal for deling av opplysninger.\n\n"+
			"%s\n%s\n\nLenken kan brukes én gang og virker til %s. "+
			"Har du ikke ventet denne e-posten, eller vil du ikke ha rollen, kan du se bort fra den: da skjer ingenting.\n",
			name, v.User.Navn, role.Label(), site.OrgLabel(v.OrgName, v.Org), what, link, s.OsloTime(expires))}
	}
	_, err := s.DB.InviteUser(r.Context(), store.Invitation{User: governance.User{Email: email, Navn: navn}, Org: v.Org, Role: role,
		TokenHash: hash, ExpiresAt: expires, Limit: InvitationsPerDay, Letter: letter}, v.Actor())
	if errors.Is(err, store.ErrLimit) {
		s.renderUsers(w, r, v, f, fmt.Sprintf("Virksomheten har sendt %d invitasjoner det siste døgnet, som er det meste som er lov. Prøv igjen i morgen.", InvitationsPerDay),
			http.StatusTooManyRequests)
		return nil
	}
	if err != nil {
		return err
	}
	s.Flash(r, "Vi har sendt en invitasjon til "+email+". Personen får rollen når hen har tatt imot invitasjonen.")
	site.Redirect(w, r, "/portal/brukere")
	return nil
}

// newActivationToken makes a random single-use token and the hex SHA-256 that is stored in its place.
func newActivationToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ownUser finds a user holding a role for the organisation; anyone else answers as unknown.
func (s *Server) ownUser(w http.ResponseWriter, r *http.Request, v *site.Visitor) (lifeUserRow, []lifeUserRow, bool) {
	rows, _, err := s.userRows(r, v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return lifeUserRow{}, nil, false
	}
	i := slices.IndexFunc(rows, func(u lifeUserRow) bool { return u.ID == r.PathValue("id") })
	if i < 0 {
		s.NotFound(w, r, v)
		return lifeUserRow{}, nil, false
	}
	return rows[i], rows, true
}

func (s *Server) userDetail(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	u, _, ok := s.ownUser(w, r, v)
	if !ok {
		return nil
	}
	s.Render(w, r, "bruker.html", userPage{Frame: s.Frame(r, v, u.Navn), User: u})
	return nil
}

// confirmUser records that the user still needs their roles (Rule AA-27).
func (s *Server) confirmUser(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	u, _, ok := s.ownUser(w, r, v)
	if !ok {
		return nil
	}
	if err := s.DB.ConfirmMemberships(r.Context(), u.ID, v.Org, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, "Bekreftet at "+u.Navn+" fortsatt trenger tilgangen.")
	site.Redirect(w, r, "/portal/brukere")
	return nil
}

// removeUserRole takes a role away (Rule AA-27: a user who leaves or changes
// tasks loses access). Portal access ends at the user's next click, since
// every request reads their roles anew.
func (s *Server) removeUserRole(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	u, _, ok := s.ownUser(w, r, v)
	if !ok {
		return nil
	}
	role := governance.Role(r.PostFormValue("rolle"))
	if !slices.ContainsFunc(u.Roles, func(ur lifeUserRole) bool { return ur.Role == role }) {
		return httperr.ErrNotFound
	}
	conflict := func(problem string) {
		w.WriteHeader(http.StatusConflict)
		s.Render(w, r, "bruker.html", userPage{Frame: s.Frame(r, v, u.Navn), User: u, Problem: problem})
	}
	if role == governance.Rolleinnehaver && !v.For(governance.Rolleinnehaver) {
		conflict("Bare en rolleinnehaver kan ta bort rollen rolleinnehaver.")
		return nil
	}
	// Someone must be left who can manage the organisation's users: the store
	// checks it in the removal's transaction, so two removals at once cannot both pass (Rule AA-27).
	err := s.DB.RemoveMembership(r.Context(), u.ID, v.Org, role, v.Actor())
	switch {
	case errors.Is(err, store.ErrConflict):
		conflict(u.Navn + " er den eneste som kan administrere virksomhetens brukere. Gi en annen rollen administrator først.")
		return nil
	case errors.Is(err, store.ErrNotFound):
		return httperr.ErrNotFound
	case err != nil:
		return err
	}
	s.Flash(r, u.Navn+" har ikke lenger rollen "+role.Label()+".")
	site.Redirect(w, r, "/portal/brukere")
	return nil
}

// ---- Invitation links: a new user sets a password, an existing one accepts (Rule AA-27) ----

type activationPage struct {
	site.Frame
	Navn, Email string
	Accept      bool // an account with a password: it accepts the role, no password form
	RoleLabel   string
	OrgName     string
	Org         string
	Form        lifeForm
}

// pendingInvitation is what the link in the path offers; it answers not found for a link that offers nothing.
func (s *Server) pendingInvitation(w http.ResponseWriter, r *http.Request) (store.PendingInvitation, bool) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	p, err := s.DB.InvitationByToken(r.Context(), tokenHash(r.PathValue("token")))
	if errors.Is(err, store.ErrNotFound) {
		s.NotFound(w, r, nil)
		return p, false
	}
	if err != nil {
		s.PageError(w, r, err)
		return p, false
	}
	return p, true
}

func (s *Server) renderActivation(w http.ResponseWriter, r *http.Request, p store.PendingInvitation, f lifeForm, status int) {
	title := "Velg passord"
	if !p.SetPassword {
		title = "Godta invitasjonen"
	}
	page := activationPage{Frame: s.Frame(r, nil, title), Navn: p.User.Navn, Email: p.User.Email, Accept: !p.SetPassword, Form: f}
	if p.Org != "" {
		page.RoleLabel, page.Org, page.OrgName = p.Role.Label(), p.Org, s.orgLabel(r, p.Org)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "aktiver.html", page)
}

func (s *Server) activationForm(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pendingInvitation(w, r)
	if !ok {
		return
	}
	s.renderActivation(w, r, p, newLifeForm("passord", "passord2"), http.StatusOK)
}

// activate uses the link once: an account without a password sets one (and
// gets the role the link offers); an existing account accepts the role. The
// link came by e-mail, so using it shows control of the address.
func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pendingInvitation(w, r)
	if !ok {
		return
	}
	if !p.SetPassword {
		m, err := s.DB.AcceptInvitation(r.Context(), tokenHash(r.PathValue("token")))
		if errors.Is(err, store.ErrNotFound) {
			s.NotFound(w, r, nil)
			return
		}
		if err != nil {
			s.PageError(w, r, err)
			return
		}
		s.Flash(r, "Invitasjonen er godtatt: du har fått rollen "+m.Role.Label()+" for "+s.consumerName(r, m.Org)+".")
		site.Redirect(w, r, "/portal")
		return
	}
	f := newLifeForm("passord", "passord2")
	pw := r.PostFormValue("passord")
	if msg := governance.CheckPasswordPolicy(pw); msg != "" {
		f.Errors["passord"] = msg
	} else if pw != r.PostFormValue("passord2") {
		f.Errors["passord2"] = "Passordene er ikke like."
	}
	if f.Bad() {
		s.renderActivation(w, r, p, f, http.StatusBadRequest)
		return
	}
	hash, err := governance.HashPassword(pw)
	if err == nil {
		_, err = s.DB.Activate(r.Context(), tokenHash(r.PathValue("token")), hash)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.NotFound(w, r, nil)
		return
	}
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Flash(r, "Passordet er lagret. Logg inn med e-postadressen din og det nye passordet.")
	site.Redirect(w, r, "/logg-inn")
}

// ---- The register's side: consumers, suspension (Rule AA-25) ----

type lifeConsumerRow struct {
	store.ConsumerSummary
	StatusLabel, StatusColor string
}

type lifeConsumersPage struct {
	site.Frame
	Consumers []lifeConsumerRow
}

// lifeStatus is a status's Norwegian label and tag colour.
func lifeStatus(st access.Status) (string, string) {
	switch st {
	case access.Active:
		return "Aktiv", "success"
	case access.Suspended:
		return "Suspendert", "warning"
	case access.Ended:
		return "Avsluttet", "neutral"
	case access.Ceased:
		return "Opphørt", "danger"
	}
	return string(st), "neutral"
}

func (s *Server) consumerList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	sums, err := s.DB.ConsumerSummaries(r.Context(), s.Now())
	if err != nil {
		return err
	}
	p := lifeConsumersPage{Frame: s.Frame(r, v, "Konsumenter")}
	for _, c := range sums {
		row := lifeConsumerRow{ConsumerSummary: c}
		row.StatusLabel, row.StatusColor = lifeStatus(c.Status)
		if c.Status == access.Active && c.Active == 0 && c.Suspended > 0 {
			row.StatusLabel, row.StatusColor = lifeStatus(access.Suspended)
		}
		p.Consumers = append(p.Consumers, row)
	}
	s.Render(w, r, "konsumenter.html", p)
	return nil
}

type lifeGrantRow struct {
	access.Grant
	StatusLabel, StatusColor, From, To string
}

type lifeDelegationRow struct {
	access.Delegation
	ConsumerName, ProcessorName, StatusLabel, From string
}

type lifeLetter struct {
	Subject, Kind, Sent string
	To                  []string
	Paragraphs          [][]string // blank-line separated paragraphs, each a list of lines
}

type lifeConsumerPage struct {
	site.Frame
	Consumer              access.Consumer
	StatusLabel           string
	StatusColor           string
	Grants                []lifeGrantRow
	Delegations           []lifeDelegationRow
	AsProcessor           []lifeDelegationRow
	Contacts              []governance.Contact
	Letters               []lifeLetter
	CanAct                bool
	CanSuspend, CanResume bool
	Form                  lifeForm
	Problem               string
}

func (s *Server) lifeGrantRows(gs []access.Grant) []lifeGrantRow {
	out := make([]lifeGrantRow, 0, len(gs))
	now := s.Now()
	for _, g := range gs {
		row := lifeGrantRow{Grant: g, From: s.OsloDate(g.ValidFrom)}
		if g.ValidTo != nil {
			row.To = s.OsloDate(*g.ValidTo)
		}
		st := g.Status
		if st == access.Active && !g.ActiveAt(now) {
			st = access.Ended
		}
		row.StatusLabel, row.StatusColor = lifeStatus(st)
		out = append(out, row)
	}
	return out
}

func (s *Server) lifeDelegationRows(r *http.Request, ds []access.Delegation) []lifeDelegationRow {
	out := make([]lifeDelegationRow, 0, len(ds))
	for _, d := range ds {
		row := lifeDelegationRow{Delegation: d, ConsumerName: s.consumerName(r, d.Consumer), ProcessorName: s.consumerName(r, d.Processor),
			From: s.OsloDate(d.ValidFrom)}
		row.StatusLabel, _ = lifeStatus(d.Status)
		out = append(out, row)
	}
	return out
}

// lifeLetters groups the outbox's letters, one per recipient, into the letters sent, newest first.
func (s *Server) lifeLetters(ms []governance.Letter) []lifeLetter {
	var out []lifeLetter
	key := func(m governance.Letter) string {
		return m.Kind + "\x00" + m.Subject + "\x00" + m.Body + "\x00" + strconv.FormatInt(m.CreatedAt.UnixMicro(), 10)
	}
	idx := map[string]int{}
	for _, m := range ms {
		if m.Kind == governance.LetterActivation {
			continue // carries a password link: for its recipient only
		}
		if i, ok := idx[key(m)]; ok {
			out[i].To = append(out[i].To, m.To)
			continue
		}
		lv := lifeLetter{Subject: m.Subject, Kind: m.Kind, Sent: s.OsloTime(m.CreatedAt), To: []string{m.To}}
		for _, para := range strings.Split(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				lv.Paragraphs = append(lv.Paragraphs, strings.Split(para, "\n"))
			}
		}
		idx[key(m)] = len(out)
		out = append(out, lv)
	}
	return out
}

func (s *Server) renderConsumer(w http.ResponseWriter, r *http.Request, v *site.Visitor, orgnr string, f lifeForm, problem string, status int) {
	ctx := r.Context()
	c, err := s.DB.Consumer(ctx, orgnr)
	if errors.Is(err, store.ErrNotFound) {
		s.NotFound(w, r, v)
		return
	}
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	grants, err := s.DB.Grants(ctx, orgnr)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	dels, err := s.DB.Delegations(ctx, orgnr)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	asProc, err := s.DB.ProcessorDelegations(ctx, orgnr)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	contacts, err := s.DB.Contacts(ctx, orgnr)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	mails, err := s.DB.MailTo(ctx, orgnr, 200)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p := lifeConsumerPage{Frame: s.Frame(r, v, c.Navn), Consumer: c, Grants: s.lifeGrantRows(grants), Delegations: s.lifeDelegationRows(r, dels),
		AsProcessor: s.lifeDelegationRows(r, asProc), Contacts: contacts, Letters: s.lifeLetters(mails),
		CanAct: v.Staff(governance.Saksbehandler), Form: f, Problem: problem}
	p.StatusLabel, p.StatusColor = lifeStatus(c.Status)
	suspended := false
	for _, g := range grants {
		p.CanSuspend = p.CanSuspend || g.Status == access.Active
		suspended = suspended || g.Status == access.Suspended
		// Only what the register suspended for a breach is resumed here (Rule AA-25).
		p.CanResume = p.CanResume || g.SuspendedBy(access.SuspendedByRegister)
	}
	if c.Status == access.Active && suspended && !p.CanSuspend {
		p.StatusLabel, p.StatusColor = lifeStatus(access.Suspended) // as the list shows it
	}
	p.CanSuspend = p.CanSuspend && c.Status == access.Active
	p.CanResume = p.CanResume && c.Status == access.Active
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "konsument.html", p)
}

func (s *Server) consumerDetail(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.renderConsumer(w, r, v, r.PathValue("orgnr"), newLifeForm("brudd"), "", http.StatusOK)
	return nil
}

// maxReason is the longest reason a case worker may write.
const maxReason = 4000

// suspendConsumer suspends all the consumer's access at once and writes to
// every contact person in the same transaction (Rule AA-25): what was
// breached, that access is suspended from now, and how to answer.
func (s *Server) suspendConsumer(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	orgnr := r.PathValue("orgnr")
	c, err := s.DB.Consumer(r.Context(), orgnr)
	if err != nil {
		return err // store.ErrNotFound answers 404 (serveError)
	}
	f := newLifeForm("brudd")
	reason := strings.TrimSpace(r.PostFormValue("brudd"))
	f.Values["brudd"] = reason
	switch {
	case reason == "":
		f.Errors["brudd"] = "Skriv hvilket vilkår som er brutt, og hvordan. Teksten står i varselet til konsumenten."
	case len(reason) > maxReason:
		f.Errors["brudd"] = fmt.Sprintf("Begrunnelsen kan ha høyst %d tegn.", maxReason)
	}
	if f.Bad() {
		s.renderConsumer(w, r, v, orgnr, f, "", http.StatusBadRequest)
		return nil
	}
	now := s.Now()
	body := fmt.Sprintf("Til %s (org.nr. %s)\n\n"+
		"Registerforvalteren har suspendert virksomhetens tilgang til Aa-registeret fra %s, med virkning straks. "+
		"Grunnen er brudd på bruksvilkårene, som gir registerforvalteren rett til å suspendere tilgangen.\n\n"+
		"Dette er bruddet:\n%s\n\n"+
		"Hva betyr dette?\nAlle virksomhetens tilganger er stengt til videre, også oppslag som en databehandler gjør på vegne av virksomheten. "+
		"Oppslag i API-et blir avvist.\n\n"+
		"Slik svarer dere:\nSvar skriftlig innen 14 dager ved å svare på denne e-posten eller skrive til saksbehandleren. "+
		"Forklar hva som har skjedd, og hva dere har gjort for å rette forholdet og hindre at det skjer igjen. "+
		"Registerforvalteren vurderer svaret og gjenopptar tilgangen når forholdet er rettet. Brevet finnes også i portalen under Brev.\n\n"+
		"Saksbehandler: %s (%s)\n",
		c.Navn, c.Orgnr, s.OsloTime(now), reason, v.User.Navn, v.User.Email)
	res, err := s.DB.SuspendConsumer(r.Context(), orgnr, reason, governance.Letter{Subject: "Varsel: tilgangen til Aa-registeret er suspendert", Body: body}, v.Actor())
	if errors.Is(err, store.ErrConflict) {
		s.renderConsumer(w, r, v, orgnr, f, "Konsumenten har ingen aktive tilganger å suspendere.", http.StatusConflict)
		return nil
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Tilgangen er suspendert (%d vedtak). Varselet er sendt til %d kontaktpersoner.", res.Grants, res.Letters)
	switch {
	case res.Grants == 0:
		// Rules AV-02, AA-25: suspended already by a breach case; the register holds it too.
		msg = "Konsumenten er allerede suspendert; registeret holder nå også stansen. Ingen nytt varsel er sendt."
	case res.Letters == 0:
		msg = fmt.Sprintf("Tilgangen er suspendert (%d vedtak). Konsumenten har ingen kontaktpersoner: send varselet på annen måte.", res.Grants)
	}
	s.Flash(r, msg)
	site.Redirect(w, r, "/portal/konsumenter/"+orgnr)
	return nil
}

// resumeConsumer resumes the suspended grants and tells the contacts.
func (s *Server) resumeConsumer(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	orgnr := r.PathValue("orgnr")
	c, err := s.DB.Consumer(r.Context(), orgnr)
	if err != nil {
		return err // store.ErrNotFound answers 404 (serveError)
	}
	body := fmt.Sprintf("Til %s (org.nr. %s)\n\nRegisterforvalteren har gjenopptatt virksomhetens tilgang til Aa-registeret fra %s. "+
		"Tilgangene som ble suspendert, virker igjen på samme vilkår som før.\n\nSaksbehandler: %s (%s)\n",
		c.Navn, c.Orgnr, s.OsloTime(s.Now()), v.User.Navn, v.User.Email)
	res, err := s.DB.ResumeConsumer(r.Context(), orgnr, governance.Letter{Subject: "Tilgangen til Aa-registeret er gjenopptatt", Body: body}, v.Actor())
	if errors.Is(err, store.ErrConflict) {
		s.renderConsumer(w, r, v, orgnr, newLifeForm("brudd"), "Konsumenten har ingen suspenderte tilganger.", http.StatusConflict)
		return nil
	}
	if err != nil {
		return err
	}
	if res.StillHeld > 0 {
		// Rule AV-02: a breach case still holds the suspension.
		s.Flash(r, fmt.Sprintf("Tilgangen er fortsatt suspendert: %d avvikssaker holder stansen. Gjenoppta fra sakene.", res.StillHeld))
		site.Redirect(w, r, "/portal/konsumenter/"+orgnr)
		return nil
	}
	s.Flash(r, fmt.Sprintf("Tilgangen er gjenopptatt (%d vedtak). Brev er sendt til %d kontaktpersoner.", res.Grants, res.Letters))
	site.Redirect(w, r, "/portal/konsumenter/"+orgnr)
	return nil
}

// ---- Letters: the consumer's written notices ----

type lettersPage struct {
	site.Frame
	Letters []lifeLetter
}

func (s *Server) letterList(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ms, err := s.DB.MailTo(r.Context(), v.Org, 200)
	if err != nil {
		return err
	}
	letters := s.lifeLetters(ms)
	for i := range letters {
		// Rule DPV-03 (review finding 4): the letters are read in the inbox,
		// with Post/Arkiv; here only subject, date and addresses.
		letters[i].Paragraphs = nil
	}
	s.Render(w, r, "brev.html", lettersPage{Frame: s.Frame(r, v, "Brev"), Letters: letters})
	return nil
}

// ---- Termination by the consumer (Rule AA-26) ----

type terminationPage struct {
	site.Frame
	Grants      []lifeGrantRow
	Delegations []lifeDelegationRow
	Form        lifeForm
}

func (s *Server) renderTermination(w http.ResponseWriter, r *http.Request, v *site.Visitor, f lifeForm, status int) {
	grants, err := s.DB.Grants(r.Context(), v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	dels, err := s.DB.Delegations(r.Context(), v.Org)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p := terminationPage{Frame: s.Frame(r, v, "Avslutt tilgangen"), Form: f}
	var live []access.Grant
	for _, g := range grants {
		if g.Status == access.Active || g.Status == access.Suspended {
			live = append(live, g)
		}
	}
	p.Grants = s.lifeGrantRows(live)
	var liveDels []access.Delegation
	for _, d := range dels {
		// Rule AA-26: a suspended delegation (a stop order, DPA-11) ends with the access too.
		if d.Status == access.Active || d.Status == access.Suspended {
			liveDels = append(liveDels, d)
		}
	}
	p.Delegations = s.lifeDelegationRows(r, liveDels)
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "avslutt.html", p)
}

func (s *Server) terminationForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.renderTermination(w, r, v, newLifeForm("bekreft"), http.StatusOK)
	return nil
}

// terminate ends all the consumer's access at its role holder's request, in
// one transaction with its events and a receipt (Rule AA-26).
func (s *Server) terminate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if r.PostFormValue("bekreft") == "" {
		f := newLifeForm("bekreft")
		f.Errors["bekreft"] = "Kryss av for at du forstår at all tilgang avsluttes nå."
		s.renderTermination(w, r, v, f, http.StatusBadRequest)
		return nil
	}
	ctx := r.Context()
	grants, err := s.DB.Grants(ctx, v.Org)
	if err != nil {
		return err
	}
	var ended []string
	for _, g := range grants {
		if g.Status == access.Active || g.Status == access.Suspended {
			ended = append(ended, fmt.Sprintf("- %s: %s via %s (%s)", g.ID, g.Purpose, g.Channel, g.Env))
		}
	}
	if len(ended) == 0 {
		ended = []string{"- ingen aktive vedtak"}
	}
	now := s.Now()
	body := fmt.Sprintf("Til %s\n\n%s avsluttet %s all virksomhetens tilgang til Aa-registeret i portalen.\n\n"+
		"Disse vedtakene er avsluttet:\n%s\n\nAlle databehandlere som handlet på vegne av virksomheten, har også mistet tilgangen. "+
		"Oppslag i API-et blir avvist fra nå av. Vil virksomheten ha tilgang igjen, må den sende en ny søknad.\n",
		site.OrgLabel(v.OrgName, v.Org), v.User.Navn, s.OsloTime(now), strings.Join(ended, "\n"))
	receipt := governance.Letter{Kind: governance.LetterTermination, Subject: "Kvittering: tilgangen til Aa-registeret er avsluttet", Body: body}
	letters := []governance.Letter{receipt} // to every contact person
	contacts, err := s.DB.Contacts(ctx, v.Org)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(contacts, func(c governance.Contact) bool { return strings.EqualFold(c.Epost, v.User.Email) }) {
		me := receipt
		me.To = v.User.Email
		letters = append(letters, me)
	}
	res, err := s.DB.EndConsumerAccess(ctx, v.Org, store.ReasonTerminated, v.Actor(), letters...)
	if err != nil {
		return err
	}
	s.Flash(r, fmt.Sprintf("All tilgang er avsluttet: %d vedtak og %d databehandlerdelegeringer. Kvitteringen står nedenfor.", res.Grants, res.Delegations))
	site.Redirect(w, r, "/portal/brev")
	return nil
}

// ---- Enhetsregisteret (Rule AA-26) ----

type enhetRun struct {
	Source, Started, Finished string
	Failed                    bool // why is in the server log only: driver and SQL text is not for the page
	Entries                   int64
	Ceased, WindingUp         []string
}

type enhetsregisteretPage struct {
	site.Frame
	Runs    []enhetRun
	Problem string
}

func (s *Server) renderEnhetsregisteret(w http.ResponseWriter, r *http.Request, v *site.Visitor, problem string, status int) {
	runs, err := s.DB.EnhetsregisteretRuns(r.Context(), 30)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p := enhetsregisteretPage{Frame: s.Frame(r, v, "Enhetsregisteret"), Problem: problem}
	for _, run := range runs {
		er := enhetRun{Source: run.Source, Started: s.OsloTime(run.StartedAt), Finished: s.OsloTime(run.FinishedAt), Failed: run.Error != "", Entries: run.Entries}
		for _, o := range run.Ceased {
			er.Ceased = append(er.Ceased, s.orgLabel(r, o))
		}
		for _, o := range run.WindingUp {
			er.WindingUp = append(er.WindingUp, s.orgLabel(r, o))
		}
		p.Runs = append(p.Runs, er)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "enhetsregisteret.html", p)
}

func (s *Server) enhetsregisteret(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.renderEnhetsregisteret(w, r, v, "", http.StatusOK)
	return nil
}

// enhetFailed is what the page says of a failed import.
const enhetFailed = "Importen feilet. Se driftsloggen."

// maxEnhetUpload bounds an uploaded Enhetsregisteret file (the whole register, gzip-compressed, is a few hundred MB).
const maxEnhetUpload = 2 << 30

// uploadEnhetsregisteret imports an uploaded file at once, streamed from the
// request without storing it.
func (s *Server) uploadEnhetsregisteret(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxEnhetUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		s.renderEnhetsregisteret(w, r, v, "Velg en fil å lese inn.", http.StatusBadRequest)
		return nil
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.renderEnhetsregisteret(w, r, v, "Filen kom ikke fram. Prøv igjen.", http.StatusBadRequest)
			return nil
		}
		if part.FormName() != "fil" {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			s.renderEnhetsregisteret(w, r, v, "Velg en fil å lese inn.", http.StatusBadRequest)
			return nil
		}
		run, err := s.DB.ImportEnhetsregisteret(r.Context(), part, "opplastet fil "+name, v.Actor())
		if err != nil {
			// The details (parser, driver or SQL text) go to the server log only.
			s.Log.Warn("enhetsregisteret upload failed", "err", err, "run", run.ID, "correlation_id", httperr.CorrelationID(r.Context()))
			s.renderEnhetsregisteret(w, r, v, "Filen kunne ikke leses, og ingenting er endret. "+enhetFailed, http.StatusBadRequest)
			return nil
		}
		s.Flash(r, fmt.Sprintf("Leste %d enheter. %d konsumenter eller databehandlere har mistet tilgangen.", run.Entries, len(run.Ceased)))
		site.Redirect(w, r, "/portal/forvalter/enhetsregisteret")
		return nil
	}
	s.renderEnhetsregisteret(w, r, v, "Velg en fil å lese inn.", http.StatusBadRequest)
	return nil
}
