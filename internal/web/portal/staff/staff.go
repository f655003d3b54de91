package staff

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Base is the page's path.
const Base = "/portal/forvalter/ansatte"

// Guard lets in the register's forvalter only (deny by default).
var Guard = site.Staff(governance.Forvalter)

// Feature is the staff accounts page. Build one with New.
type Feature struct{ *site.Site }

// New makes the staff accounts page on st.
func New(st *site.Site) *Feature { return &Feature{Site: st} }

// Templates are the page's templates (ansatte*).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Routes are the page and its forms, each for the forvalter only.
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	return []site.Route{
		f("GET "+Base, s.SignedIn(Guard, s.list)),
		f("POST "+Base, s.SignedIn(Guard, s.create)),
		f("POST "+Base+"/{id}/roller", s.SignedIn(Guard, s.setRoles)),
		f("POST "+Base+"/{id}/deaktiver", s.SignedIn(Guard, s.deactivate)),
		f("POST "+Base+"/{id}/nytt-passord", s.SignedIn(Guard, s.resetPassword)),
		f("POST "+Base+"/{id}/aktiver", s.SignedIn(Guard, s.reactivate)),
	}
}

// staffRoles are the roles the forvalter gives, in the order shown.
var staffRoles = []governance.Role{governance.Saksbehandler, governance.Personvernombud, governance.Forvalter}

// roleBox is one role's checkbox.
type roleBox struct {
	Value, Label string
	Checked      bool
}

func boxes(held []governance.Role) []roleBox {
	out := make([]roleBox, len(staffRoles))
	for i, r := range staffRoles {
		out[i] = roleBox{Value: string(r), Label: r.Label(), Checked: slices.Contains(held, r)}
	}
	return out
}

// member is one staff account as the page shows it.
type member struct {
	ID, Navn, Email string
	Roles           []roleBox
	Self            bool
}

// form is the new account's form.
type form struct {
	Email, Navn string
	Roles       []roleBox
	Bad         map[string]string
}

type page struct {
	site.Frame
	Members []member
	Closed  []member // deactivated accounts, to reactivate
	Form    form
	Fields  []site.Field // the form's text fields, from Form
	Errors  []site.FieldError
	// Created and Password: the account just made, or whose password was reset (Reset), and its one-time password, shown this once.
	Created, Password string
	Reset             bool
	// Problem is why a change of one account (ProblemFor) was refused.
	Problem, ProblemFor string
}

func (s *Feature) render(w http.ResponseWriter, r *http.Request, v *site.Visitor, p page) error {
	ms, err := s.DB.OrgMembers(r.Context(), governance.AuthorityOrg)
	if err != nil {
		return err
	}
	for _, m := range ms {
		var held []governance.Role
		for _, x := range m.Roles {
			held = append(held, x.Role)
		}
		p.Members = append(p.Members, member{ID: m.User.ID, Navn: m.User.Navn, Email: m.User.Email, Roles: boxes(held), Self: m.User.ID == v.User.ID})
	}
	closed, err := s.DB.ClosedOrgMembers(r.Context(), governance.AuthorityOrg)
	if err != nil {
		return err
	}
	for _, m := range closed {
		p.Closed = append(p.Closed, member{ID: m.User.ID, Navn: m.User.Navn, Email: m.User.Email})
	}
	if p.Form.Roles == nil {
		p.Form.Roles = boxes(nil)
	}
	p.Fields = []site.Field{
		{Name: "epost", Label: "E-postadresse", Value: p.Form.Email, Error: p.Form.Bad["epost"], Type: "email"},
		{Name: "navn", Label: "Navn", Value: p.Form.Navn, Error: p.Form.Bad["navn"]},
	}
	p.Frame = s.Frame(r, v, "Ansatte i registeret")
	s.Render(w, r, "ansatte.html", p)
	return nil
}

func (s *Feature) list(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	return s.render(w, r, v, page{})
}

// readRoles reads the form's checked roles: staff roles only, at least one.
func readRoles(r *http.Request) ([]governance.Role, bool) {
	var out []governance.Role
	for _, x := range r.PostForm["rolle"] {
		role, err := governance.ParseRole(x)
		if err != nil || !role.ForAuthority() {
			return nil, false
		}
		if !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out, len(out) > 0
}

// maxForm bounds the page's forms.
const maxForm = 16 << 10

// parse reads a form of at most maxForm bytes, URL-encoded; false when it cannot.
func parse(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm() == nil
}

const unreadable = "Skjemaet kunne ikke leses. Prøv igjen."

// create makes a staff account with the roles checked and an initial
// password, shown once on the answer (as "deling user add" prints it); the
// account and its roles are one event in the log.
func (s *Feature) create(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if !parse(w, r) {
		return s.refused(w, r, v, http.StatusBadRequest, "", unreadable)
	}
	f := form{Email: strings.TrimSpace(r.PostFormValue("epost")), Navn: strings.TrimSpace(r.PostFormValue("navn")), Bad: map[string]string{}}
	roles, ok := readRoles(r)
	f.Roles = boxes(roles)
	if !governance.ValidEmail(f.Email) || len(f.Email) > 254 {
		f.Bad["epost"] = "Skriv en gyldig e-postadresse."
	}
	if f.Navn == "" || len(f.Navn) > 200 {
		f.Bad["navn"] = "Skriv navnet til den ansatte (høyst 200 tegn)."
	}
	if !ok {
		f.Bad["rolle"] = "Velg minst én rolle."
	}
	bad := func(status int) error {
		w.WriteHeader(status)
		return s.render(w, r, v, page{Form: f, Errors: site.ErrorList(f.Bad, "epost", "navn", "rolle")})
	}
	if len(f.Bad) > 0 {
		return bad(http.StatusBadRequest)
	}
	pw := governance.NewPassword()
	hash, err := governance.HashPassword(pw)
	if err != nil {
		return err
	}
	var ms []governance.Membership
	for _, role := range roles {
		ms = append(ms, governance.Membership{Org: governance.AuthorityOrg, Role: role})
	}
	// The forvalter chose the password: its owner changes it at the first sign-in.
	u, err := s.DB.CreateUser(r.Context(), governance.User{Email: f.Email, Navn: f.Navn, MustChangePassword: true}, hash, ms, v.Actor())
	if errors.Is(err, store.ErrExists) {
		f.Bad["epost"] = "Det finnes allerede en konto med denne e-postadressen."
		return bad(http.StatusConflict)
	} else if err != nil {
		return err
	}
	// The password is in this answer only (no-store, never in a URL, a flash or a log).
	return s.render(w, r, v, page{Created: u.Email, Password: pw})
}

// member loads a staff account by the path's id: an active account holding a
// role at the register; anything else answers as not found.
func (s *Feature) member(ctx context.Context, id string) (governance.User, error) {
	u, err := s.DB.User(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled):
		return u, httperr.ErrNotFound
	case err != nil:
		return u, err
	}
	ms, err := s.DB.Memberships(ctx, id)
	if err != nil {
		return u, err
	}
	if !governance.HasAny(ms, governance.AuthorityOrg, staffRoles...) {
		return u, httperr.ErrNotFound
	}
	return u, nil
}

// refused answers a change of one account the store refused: the page with the reason by the account.
func (s *Feature) refused(w http.ResponseWriter, r *http.Request, v *site.Visitor, status int, id, msg string) error {
	w.WriteHeader(status)
	return s.render(w, r, v, page{Problem: msg, ProblemFor: id})
}

const lastForvalter = "Registeret må ha minst én forvalter. Gi forvalterrollen til en annen ansatt først."

// setRoles makes an account's staff roles those checked (each change an event).
func (s *Feature) setRoles(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if !parse(w, r) {
		return s.refused(w, r, v, http.StatusBadRequest, "", unreadable)
	}
	u, err := s.member(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	roles, ok := readRoles(r)
	if !ok {
		return s.refused(w, r, v, http.StatusBadRequest, u.ID, "Velg minst én rolle. Vil du fjerne alle, deaktiver kontoen.")
	}
	switch err := s.DB.SetStaffRoles(r.Context(), u.ID, roles, v.Actor()); {
	case errors.Is(err, store.ErrLastManager):
		return s.refused(w, r, v, http.StatusConflict, u.ID, lastForvalter)
	case errors.Is(err, store.ErrNotFound):
		return httperr.ErrNotFound
	case err != nil:
		return err
	}
	s.Flash(r, "Rollene til "+u.Navn+" er endret.")
	site.Redirect(w, r, Base)
	return nil
}

// deactivate closes a staff account once the forvalter ticked the
// confirmation: it signs in no more, and its sessions end at their next
// request (site.LoadVisitor).
func (s *Feature) deactivate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if !parse(w, r) {
		return s.refused(w, r, v, http.StatusBadRequest, "", unreadable)
	}
	u, err := s.member(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.PostFormValue("bekreft") != "ja" {
		return s.refused(w, r, v, http.StatusBadRequest, u.ID, "Kryss av for å bekrefte at kontoen til "+u.Navn+" skal deaktiveres.")
	}
	switch err := s.DB.DisableUser(r.Context(), u.ID, v.Actor()); {
	case errors.Is(err, store.ErrLastManager):
		// Rule AA-27: also an organisation where the account is the last administrator or role holder.
		if lm, ok := errors.AsType[*store.LastManagerError](err); ok && lm.Org != governance.AuthorityOrg {
			name, err := s.OrgName(r.Context(), lm.Org)
			if err != nil {
				return err
			}
			return s.refused(w, r, v, http.StatusConflict, u.ID, "Kontoen er den siste administratoren eller rolleinnehaveren hos "+
				site.OrgLabel(name, lm.Org)+". Virksomheten må gi rollen til en annen før kontoen kan deaktiveres.")
		}
		return s.refused(w, r, v, http.StatusConflict, u.ID, lastForvalter)
	case err != nil:
		return err
	}
	if u.ID == v.User.ID {
		site.Redirect(w, r, "/logg-inn")
		return nil
	}
	s.Flash(r, "Kontoen til "+u.Navn+" er deaktivert. Vedkommende er logget ut.")
	site.Redirect(w, r, Base)
	return nil
}

// resetPassword gives a staff account a new one-time password, shown once
// on the answer; its owner changes it at the next sign-in, and the
// account's sessions end at their next request.
func (s *Feature) resetPassword(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	u, err := s.member(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	pw := governance.NewPassword()
	hash, err := governance.HashPassword(pw)
	if err != nil {
		return err
	}
	if _, err := s.DB.SetPassword(r.Context(), u.ID, hash, true, v.Actor()); errors.Is(err, store.ErrNotFound) {
		return httperr.ErrNotFound
	} else if err != nil {
		return err
	}
	if u.ID == v.User.ID {
		site.Redirect(w, r, "/logg-inn") // the forvalter's own session ended with the old password
		return nil
	}
	// The password is in this answer only (no-store, never in a URL, a flash or a log).
	return s.render(w, r, v, page{Created: u.Email, Password: pw, Reset: true})
}

// reactivate opens a deactivated staff account again, with its roles as they were.
func (s *Feature) reactivate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	id := r.PathValue("id")
	closed, err := s.DB.ClosedOrgMembers(r.Context(), governance.AuthorityOrg)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(closed, func(m store.OrgMember) bool { return m.User.ID == id })
	if i < 0 {
		return httperr.ErrNotFound // no deactivated staff account
	}
	if err := s.DB.EnableUser(r.Context(), id, v.Actor()); errors.Is(err, store.ErrNotFound) {
		return httperr.ErrNotFound
	} else if err != nil {
		return err
	}
	s.Flash(r, "Kontoen til "+closed[i].User.Navn+" er aktivert igjen, med rollene den hadde.")
	site.Redirect(w, r, Base)
	return nil
}
