package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Web lookup (web-oppslag): a consumer's web users look people up in the
// browser. Rule AA-04: at every sign-in the user ticks that they have read the
// terms and know their duty of confidentiality before they can search. Every
// search and every page of results is logged with the signed-in person and the
// consumer they act for (Rule AA-16). Persons with a protected address are never
// shown (Rule AA-11). Identifiers travel in POST bodies, never in URLs.

// Search kinds on the page.
const (
	searchPerson             = "person"
	searchArbeidssted        = "arbeidssted"
	searchOpplysningspliktig = "opplysningspliktig"
)

// lookupPage is the web lookup page: the terms to tick, the search form, and results.
type lookupPage struct {
	site.Frame
	NeedTerms  bool
	TermsError string
	Kind       string
	Ident      string
	Error      string
	Searched   bool
	Rows       []lookupRow
	Next       string // keyset cursor of the next page, sent back in a POST form
	Page       int
	Denied     string
	// Unavailable: the register could not be read now; nothing is shown.
	Unavailable string
	Columns     lookupColumns
}

// lookupColumns are the columns of arbeidsforhold the page shows: only those
// the grant's packages give (issue 16, item 11), never an empty column for an
// element the consumer may not see.
type lookupColumns struct{ Type, Yrke, Stilling, Periode bool }

// columnsOf are the columns a decision's packages give.
func columnsOf(cat *access.Catalogue, d access.Decision) lookupColumns {
	has := map[string]bool{}
	for _, ref := range d.Packages {
		if p, err := cat.Resolve(ref); err == nil {
			for _, e := range p.Elements {
				has[e] = true
			}
		}
	}
	return lookupColumns{Type: has["type"], Yrke: has["ansettelsesdetaljer.yrke"],
		Stilling: has["ansettelsesdetaljer.avtaltStillingsprosent"], Periode: has["ansettelsesperiode.startdato"]}
}

// lookupRow is one arbeidsforhold as the web channel shows it: with names.
type lookupRow struct {
	Person, PersonIdent           string
	Arbeidssted, ArbeidsstedIdent string
	Opplysningspliktig            string
	Type, Yrke, Stilling          string
	Start, Slutt                  string
	Permisjoner                   string // "1 permisjon", "2 permisjoner"; "" for none
}

// termsOK reports whether the user ticked the terms at this sign-in, for the organisation acted for (Rule AA-04).
func (s *Server) termsOK(r *http.Request, v *site.Visitor) bool {
	return s.Sessions.GetString(r.Context(), sessionTermsOK) == v.Org
}

func (s *Server) lookupPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.Render(w, r, "oppslag.html", lookupPage{Frame: s.Frame(r, v, "Oppslag i Aa-registeret"), NeedTerms: !s.termsOK(r, v), Kind: searchPerson})
	return nil
}

// lookupTerms records that the user read the terms and knows the duty of confidentiality (Rule AA-04).
func (s *Server) lookupTerms(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if r.PostFormValue("bekreft") != "ja" {
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "oppslag.html", lookupPage{Frame: s.Frame(r, v, "Oppslag i Aa-registeret"), NeedTerms: true,
			TermsError: "Du må bekrefte at du har lest vilkårene og kjenner taushetsplikten før du kan søke."})
		return nil
	}
	// The acceptance is recorded per user, of the terms version in force (or, with none published yet, as an event).
	versions, err := s.DB.TermsVersions(r.Context())
	if err != nil {
		return err
	}
	if cur, _ := governance.InEffect(versions, governance.Bruksvilkar, s.Now()); cur != nil {
		err = s.DB.RecordUserAcceptance(r.Context(), v.User.ID, v.Org, cur.ID)
	} else {
		err = s.audit.Append(r.Context(), &audit.Record{Kind: audit.KindTerms, Consumer: v.Org, Actor: v.Actor(), CorrelationID: httperr.CorrelationID(r.Context()),
			Event: json.RawMessage(`{"change":"user_accepted","version":""}`)})
	}
	if err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessionTermsOK, v.Org)
	site.Redirect(w, r, "/portal/oppslag")
	return nil
}

// lookupTimeout bounds a web lookup's work once detached from the browser.
const lookupTimeout = 15 * time.Second

// lookupSearch answers a search, or the next page of one, through the lookup
// pipeline (package lookup) as every channel does.
func (s *Server) lookupSearch(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	// Every search is logged, whether or not the browser stays for the answer:
	// the work is detached from the connection, with a bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), lookupTimeout)
	defer cancel()
	p := lookupPage{Frame: s.Frame(r, v, "Oppslag i Aa-registeret"), Kind: r.PostFormValue("sok"), Ident: strings.TrimSpace(r.PostFormValue("ident"))}
	if len(p.Ident) > 64 {
		p.Ident = p.Ident[:64]
	}
	if side := r.PostFormValue("side"); len(side) < 6 {
		for _, c := range side {
			if c >= '0' && c <= '9' {
				p.Page = p.Page*10 + int(c-'0')
			}
		}
	}
	p.Page = max(p.Page, 1)
	rec := lookup.Caller{Channel: access.ChannelWeb, Consumer: v.Org, EndUser: v.Actor(), CorrelationID: httperr.CorrelationID(ctx),
		Operation: "POST /portal/oppslag"}.Record(map[string]any{"sok": p.Kind, "ident": p.Ident, "side": p.Page})
	// refuse logs a search that gets no data, then shows the page with status.
	refuse := func(status int, reason string) error {
		if err := s.Lookup.Refuse(ctx, rec, status, reason); err != nil {
			return httperr.WithStatus(http.StatusServiceUnavailable, err)
		}
		w.WriteHeader(status)
		s.Render(w, r, "oppslag.html", p)
		return nil
	}
	if !s.termsOK(r, v) {
		// Rule AA-04: no search before the terms are ticked at this sign-in.
		p.NeedTerms, p.TermsError = true, "Du må bekrefte at du har lest vilkårene og kjenner taushetsplikten før du kan søke."
		return refuse(http.StatusForbidden, "terms-not-confirmed")
	}
	q := register.Query{Screened: true, After: r.PostFormValue("etter"), Limit: 50}
	if len(q.After) > 64 {
		q.After = ""
	}
	var kind access.QueryKind
	var ok bool
	var why string
	switch p.Kind {
	case searchPerson:
		kind = access.ByArbeidstaker
		q.Arbeidstaker, why, ok = s.ParsePerson(p.Ident)
	case searchArbeidssted:
		kind = access.ByArbeidssted
		q.Arbeidssted, why, ok = s.ParseEmployer(p.Ident)
	case searchOpplysningspliktig:
		kind = access.ByOpplysningspliktig
		q.Opplysningspliktig, why, ok = s.ParseEmployer(p.Ident)
	default:
		p.Kind, why = searchPerson, "velg hva du vil søke på"
	}
	if !ok {
		p.Error = "Nummeret er ikke gyldig: " + why + "."
		return refuse(http.StatusBadRequest, "invalid-request")
	}
	in, err := s.Lookup.Inputs(ctx, v.Org, "")
	if err != nil {
		return err
	}
	a, err := s.Lookup.Lookup(ctx, in, rec, lookup.Query{Kind: kind, Register: q})
	var denied *lookup.Denied
	switch {
	case errors.As(err, &denied): // logged by the pipeline
		p.Denied = denied.Text
		w.WriteHeader(http.StatusForbidden)
		s.Render(w, r, "oppslag.html", p)
		return nil
	case errors.Is(err, lookup.ErrNotLogged):
		return httperr.WithStatus(http.StatusServiceUnavailable, err)
	case errors.Is(err, register.ErrUnavailable): // logged (503) by the pipeline
		return s.registerUnavailable(w, r, p, err)
	case err != nil:
		return err
	}
	// A person withheld for want of consent (Rule SK-08) or a protected
	// address (Rule AA-11) gets the page of a person the register does not
	// know; only the log says why.
	var (
		shown []byte
		names = nameCache{s: s, r: r.WithContext(ctx)}
	)
	for _, it := range a.Items {
		shown = append(append(shown, it.JSON...), '\n')
		row, err := s.lookupRow(it, &names)
		if errors.Is(err, register.ErrUnavailable) {
			// The names could not be read: nothing is shown, and the log says so.
			if lerr := s.Lookup.RefuseFailed(ctx, rec, err); lerr != nil {
				return httperr.WithStatus(http.StatusServiceUnavailable, lerr)
			}
			p.Rows = nil
			return s.registerUnavailable(w, r, p, err)
		}
		if err != nil {
			return err
		}
		p.Rows = append(p.Rows, row)
	}
	// Logged before a byte of the answer leaves (fail closed).
	if err := a.Deliver(ctx, shown); err != nil {
		return httperr.WithStatus(http.StatusServiceUnavailable, err)
	}
	p.Searched, p.Next, p.Columns = true, a.Next, columnsOf(in.Catalogue, a.Decision())
	s.Render(w, r, "oppslag.html", p)
	return nil
}

// registerUnavailable shows the search page with 503: the register could
// not be read now (a read replica down or too far behind).
func (s *Server) registerUnavailable(w http.ResponseWriter, r *http.Request, p lookupPage, err error) error {
	s.Log.Error("web lookup: register unavailable", "err", err, "correlation_id", httperr.CorrelationID(r.Context()))
	p.Unavailable = "Registeret er midlertidig utilgjengelig. Prøv igjen om litt."
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	s.Render(w, r, "oppslag.html", p)
	return nil
}

// lookupRow is one delivered arbeidsforhold as the page shows it: identifiers
// as far as the grant's packages give them, names always (the web channel
// shows names).
func (s *Server) lookupRow(it lookup.Item, names *nameCache) (lookupRow, error) {
	var a register.Arbeidsforhold
	if err := json.Unmarshal(it.JSON, &a); err != nil {
		return lookupRow{}, err
	}
	row := lookupRow{PersonIdent: a.ArbeidstakerIdent(), ArbeidsstedIdent: a.ArbeidsstedIdent(), Type: a.Type.Beskrivelse,
		Start: site.Date(string(a.Ansettelsesperiode.Startdato))}
	switch n := len(a.Permisjoner); n {
	case 0:
	case 1:
		row.Permisjoner = "1 permisjon"
	default:
		row.Permisjoner = strconv.Itoa(n) + " permisjoner"
	}
	if row.Type == "" {
		row.Type = a.Type.Kode
	}
	if a.Ansettelsesperiode.Sluttdato != nil {
		row.Slutt = site.Date(string(*a.Ansettelsesperiode.Sluttdato))
	}
	if det := a.GjeldendeDetaljer(); det != nil {
		if det.Yrke != nil {
			row.Yrke = det.Yrke.Beskrivelse
		}
		if det.AvtaltStillingsprosent != nil {
			row.Stilling = formatPercent(*det.AvtaltStillingsprosent)
		}
	}
	var err error
	if row.Person, err = names.person(it.Doc.Arbeidstaker); err == nil {
		row.Arbeidssted, err = names.org(it.Doc.Arbeidssted)
	}
	if err == nil {
		row.Opplysningspliktig, err = names.org(it.Doc.Opplysningspliktig)
	}
	return row, err
}

func formatPercent(f float64) string {
	b, _ := json.Marshal(f)
	return strings.Replace(string(b), ".", ",", 1) + " %"
}

// nameCache looks up names of persons and organisations once per request.
type nameCache struct {
	s     *Server
	r     *http.Request
	names map[string]string
}

func (c *nameCache) person(ident string) (string, error) {
	if n, ok := c.names[ident]; ok {
		return n, nil
	}
	p, err := c.s.DB.Person(c.r.Context(), ident)
	name := ""
	switch {
	case err == nil:
		name = p.Navn()
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	c.put(ident, name)
	return name, nil
}

func (c *nameCache) org(ident string) (string, error) {
	if n, ok := c.names[ident]; ok {
		return n, nil
	}
	if len(ident) == 11 { // a private employer is a person
		return c.person(ident)
	}
	o, err := c.s.DB.Organisation(c.r.Context(), ident)
	name := ""
	switch {
	case err == nil:
		name = o.Navn
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	c.put(ident, name)
	return name, nil
}

func (c *nameCache) put(k, v string) {
	if c.names == nil {
		c.names = map[string]string{}
	}
	c.names[k] = v
}
