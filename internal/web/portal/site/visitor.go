package site

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"deling/internal/governance"
	"deling/internal/register"
	"deling/internal/store"
)

// People sign in with an e-mail address and a password (the portal's sign-in
// pages) and act for one organisation at a time. Sessions live in the
// database (scs); who signed in, and what they may do, is read from the
// accounts on every request, so a removed user or role loses access on the
// next click.

// Session keys.
const (
	SessionUser = "user"
	SessionOrg  = "org"
	// SessionTermsOK is set when a web-lookup user ticked the terms and the duty of confidentiality at this sign-in (Rule AA-04).
	SessionTermsOK = "terms_ok"
	// SessionPasswordGen is the account's password generation at sign-in: a session under an older one ends.
	SessionPasswordGen = "password_gen"
	// SessionProvider names the OpenID Connect provider a session signed in
	// with ("" for a password): such a session used no password, so it is not
	// sent to change one.
	SessionProvider = "auth_provider"
	// PasswordPath is where an account changes its password; one that must change it is sent there first.
	PasswordPath = "/portal/passord"
	sessionFlash = "flash"
)

// BeginSession signs u in, with a password or at an OpenID Connect provider
// alike: a new session token (no session fixation), the terms to be ticked
// anew (Rule AA-04), and the first organisation of ms acted for.
func (s *Site) BeginSession(ctx context.Context, u governance.User, ms []governance.Membership) error {
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.Sessions.Remove(ctx, SessionTermsOK)
	s.Sessions.Remove(ctx, SessionProvider) // a provider's sign-in puts it back after this
	s.Sessions.Put(ctx, SessionUser, u.ID)
	s.Sessions.Put(ctx, SessionPasswordGen, u.PasswordGen) // u as loaded at sign-in
	if orgs := governance.Orgs(ms); len(orgs) > 0 {
		s.Sessions.Put(ctx, SessionOrg, orgs[0])
	}
	return nil
}

func newSessions(db *store.DB, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = db.Sessions()
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = 30 * time.Minute
	sm.Cookie.Name = "deling_sesjon"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Persist = false
	return sm
}

// Visitor is who is signed in, and what they may do.
type Visitor struct {
	User        governance.User
	Memberships []governance.Membership
	Org         string // the organisation acted for (orgnr), "" when none
	OrgName     string
	Orgs        []OrgChoice // every organisation the user may act for
}

// DisplayName is the visitor's name on the pages: "Privatperson" for a
// person whose account ID-porten made, which gives no name.
func (v *Visitor) DisplayName() string {
	if v.User.Navn == "" {
		return "Privatperson"
	}
	return v.User.Navn
}

// ShownEmail is the visitor's e-mail address on the pages, "" for the
// placeholder of an account ID-porten made (store.NoEmailDomain).
func (v *Visitor) ShownEmail() string {
	if strings.HasSuffix(v.User.Email, store.NoEmailDomain) {
		return ""
	}
	return v.User.Email
}

// OrgChoice is an organisation the visitor may act for.
type OrgChoice struct {
	Orgnr, Navn string
	Current     bool
}

// Staff reports whether the visitor holds one of roles at the register authority.
func (v *Visitor) Staff(roles ...governance.Role) bool {
	return governance.HasAny(v.Memberships, governance.AuthorityOrg, roles...)
}

// For reports whether the visitor holds one of roles for the organisation acted for.
func (v *Visitor) For(roles ...governance.Role) bool {
	return v.Org != "" && governance.HasAny(v.Memberships, v.Org, roles...)
}

// IsPerson reports whether the visitor signed in as a data subject.
func (v *Visitor) IsPerson() bool {
	return v.User.PID != "" && governance.Has(v.Memberships, "", governance.Person)
}

// Actor is how the visitor is named in the log's governance events.
func (v *Visitor) Actor() string { return "user:" + v.User.ID }

// Guard says whether a visitor may see a page. Deny by default: every
// signed-in route names its guard.
type Guard func(*Visitor) bool

// Staff lets in the register authority's staff holding one of roles.
func Staff(roles ...governance.Role) Guard {
	return func(v *Visitor) bool { return v.Staff(roles...) }
}

// Member lets in those holding one of roles for the organisation they act for.
func Member(roles ...governance.Role) Guard {
	return func(v *Visitor) bool { return v.For(roles...) }
}

// AnyOf lets in whoever one of gs lets in.
func AnyOf(gs ...Guard) Guard {
	return func(v *Visitor) bool { return slices.ContainsFunc(gs, func(g Guard) bool { return g(v) }) }
}

// SignedInOnly lets in everyone signed in.
func SignedInOnly(*Visitor) bool { return true }

// PersonOnly lets in data subjects.
func PersonOnly(v *Visitor) bool { return v.IsPerson() }

// Handler is a page for a signed-in visitor. An error it returns is
// answered by ServeError: a page for the status httperr.Status maps it to.
type Handler func(http.ResponseWriter, *http.Request, *Visitor) error

// SignedIn wraps a page: it loads the visitor, sends those not signed in to
// the sign-in page and answers 403 to those the guard turns away.
func (s *Site) SignedIn(g Guard, h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		v, err := s.LoadVisitor(r)
		if err != nil {
			s.PageError(w, r, err)
			return
		}
		if v == nil {
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.Path // paths carry no personal identifiers
			}
			http.Redirect(w, r, "/logg-inn"+queryNext(next), http.StatusSeeOther)
			return
		}
		if v.User.MustChangePassword && r.URL.Path != PasswordPath && s.Sessions.GetString(r.Context(), SessionProvider) == "" {
			Redirect(w, r, PasswordPath) // a password someone else chose is changed before anything else
			return
		}
		if !g(v) {
			s.forbidden(w, r, v, g)
			return
		}
		if err := h(w, r, v); err != nil {
			s.ServeError(w, r, v, err)
		}
	}
}

func queryNext(next string) string {
	if next == "" || next == "/portal" {
		return ""
	}
	return "?neste=" + url.QueryEscape(next)
}

// LoadVisitor reads the session and the account behind it; nil when nobody is
// signed in, or the account or all its roles were removed (the session ends).
func (s *Site) LoadVisitor(r *http.Request) (*Visitor, error) {
	ctx := r.Context()
	id := s.Sessions.GetString(ctx, SessionUser)
	if id == "" {
		return nil, nil
	}
	u, err := s.DB.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || s.Sessions.GetInt(ctx, SessionPasswordGen) != u.PasswordGen)) {
		return nil, s.Sessions.Destroy(ctx) // closed, or its password changed since this session signed in
	}
	if err != nil {
		return nil, err
	}
	ms, err := s.DB.Memberships(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, s.Sessions.Destroy(ctx)
	}
	v := &Visitor{User: u, Memberships: ms}
	orgs := governance.Orgs(ms)
	v.Org = s.Sessions.GetString(ctx, SessionOrg)
	if !slices.Contains(orgs, v.Org) {
		v.Org = ""
		if len(orgs) > 0 {
			v.Org = orgs[0]
		}
	}
	for _, o := range orgs {
		c := OrgChoice{Orgnr: o, Current: o == v.Org}
		name, err := s.OrgName(ctx, o)
		if err != nil {
			return nil, err
		}
		c.Navn = name
		if name == "" {
			c.Navn = OrgLabel("", o) // "org.nr. …"
		}
		if c.Current {
			v.OrgName = c.Navn
		}
		v.Orgs = append(v.Orgs, c)
	}
	return v, nil
}

// OrgName is an organisation's name as deling knows it: the consumer's, else
// the register's (from Enhetsregisteret); "" when it knows none (issue 16,
// item 10: a name wherever an organisation number is shown), or when the
// register cannot be read now (a read replica down or behind): a name is
// only shown, and every caller shows "org.nr. …" without one, so a page
// that needs no register keeps working. The name is not read from the
// primary instead: the replica is there to keep the register's reads off it
// (store/replica.go).
func (s *Site) OrgName(ctx context.Context, orgnr string) (string, error) {
	if orgnr == governance.AuthorityOrg {
		return "Aa-registeret (registerforvalteren)", nil
	}
	c, err := s.DB.Consumer(ctx, orgnr)
	switch {
	case err == nil && c.Navn != "":
		return c.Navn, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	o, err := s.DB.Organisation(ctx, orgnr)
	switch {
	case err == nil:
		return o.Navn, nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, register.ErrUnavailable):
		return "", nil
	}
	return "", err
}

// OrgLabel names an organisation with its number: "Navn (org.nr. 310000019)",
// or "org.nr. 310000019" without a name (name may be one OrgName fell back
// to), never the number twice.
func OrgLabel(name, orgnr string) string {
	if name == "" || name == orgnr || name == "org.nr. "+orgnr {
		return "org.nr. " + orgnr
	}
	return name + " (org.nr. " + orgnr + ")"
}

// Frame is what every page shows around its content. Page data embeds it.
type Frame struct {
	Title string
	V     *Visitor // nil on public pages
	Flash string
	Test  bool
	Nav   []NavItem
	Path  string
}

// NavItem is a menu entry as a page shows it.
type NavItem struct {
	Label, Path string
	Current     bool
}

// Frame makes a page's frame; v may be nil (a public page).
func (s *Site) Frame(r *http.Request, v *Visitor, title string) Frame {
	f := Frame{Title: title, V: v, Test: s.Env == register.EnvTest, Path: r.URL.Path}
	if s.Sessions != nil {
		f.Flash = s.Sessions.PopString(r.Context(), sessionFlash)
	}
	if v == nil {
		return f
	}
	for _, n := range s.nav {
		if n.Guard(v) {
			cur := r.URL.Path == n.Path || (n.Path != "/portal" && strings.HasPrefix(r.URL.Path, n.Path+"/"))
			f.Nav = append(f.Nav, NavItem{Label: n.Label, Path: n.Path, Current: cur})
		}
	}
	return f
}

// PublicFrame is a page's frame without a session (no visitor, no flash).
func (s *Site) PublicFrame(r *http.Request, title string) Frame {
	return Frame{Title: title, Test: s.Env == register.EnvTest, Path: r.URL.Path}
}

// Flash shows msg at the top of the next page.
func (s *Site) Flash(r *http.Request, msg string) { s.Sessions.Put(r.Context(), sessionFlash, msg) }

// maxAsk bounds the names the no-access page gives.
const maxAsk = 5

// Forbidden answers 403 with the no-access page, naming whom to ask for the
// role (issue 16, item 5): the register's forvalters for its staff, the
// administrators of the organisation acted for for its people. Only names,
// and only of the visitor's own organisation; a person is told no one.
func (s *Site) Forbidden(w http.ResponseWriter, r *http.Request, v *Visitor) {
	s.forbidden(w, r, v, nil)
}

// orgRoles are every role held for an organisation, to probe a page's guard with.
var orgRoles = []governance.Role{governance.Rolleinnehaver, governance.Administrator, governance.Utvikler, governance.Oppslagsbruker, governance.Databehandler}

// orgPage reports whether a page whose guard is g belongs to the
// organisation v acts for: g lets in someone holding every role there. An
// account that is both staff and an organisation's is sent, on that
// organisation's pages, to the organisation's administrators.
func orgPage(v *Visitor, g Guard) bool {
	if g == nil || v.Org == "" || v.Org == governance.AuthorityOrg {
		return false
	}
	probe := &Visitor{User: v.User, Org: v.Org}
	for _, role := range orgRoles {
		probe.Memberships = append(probe.Memberships, governance.Membership{UserID: v.User.ID, Org: v.Org, Role: role})
	}
	return g(probe)
}

// forbidden is Forbidden for a page whose guard g refused v; g nil when not known.
func (s *Site) forbidden(w http.ResponseWriter, r *http.Request, v *Visitor, g Guard) {
	p := struct {
		Frame
		Ask  []string // names to ask
		Whom string   // "forvalteren i registeret", "administratoren i virksomheten"; "" for nobody
	}{Frame: s.Frame(r, v, "Ingen tilgang")}
	var us []governance.User
	var err error
	switch {
	case v == nil:
	case orgPage(v, g):
		p.Whom = "administratoren i virksomheten"
		us, err = s.DB.UsersWithRole(r.Context(), v.Org, governance.Administrator)
	case v.Staff(governance.Saksbehandler, governance.Forvalter, governance.Personvernombud):
		p.Whom = "forvalteren i registeret"
		us, err = s.DB.UsersWithRole(r.Context(), governance.AuthorityOrg, governance.Forvalter)
	case v.Org != "":
		p.Whom = "administratoren i virksomheten"
		us, err = s.DB.UsersWithRole(r.Context(), v.Org, governance.Administrator)
	}
	if err != nil {
		s.Log.Error("no-access page: whom to ask", "err", err) // the page is shown without names
	}
	for _, u := range us {
		if len(p.Ask) < maxAsk && u.ID != v.User.ID {
			p.Ask = append(p.Ask, u.Navn)
		}
	}
	w.WriteHeader(http.StatusForbidden)
	s.Render(w, r, "forbidden.html", p)
}
