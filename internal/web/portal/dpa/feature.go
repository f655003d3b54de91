package dpa

import (
	"embed"
	"errors"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Base is where the pages live; the reminder letters link to Base/<id>.
const Base = "/portal/databehandleravtaler"

// Delegations is the register's case workers' delegation form (Rule SK-04).
const Delegations = "/portal/delegeringer"

// Feature is the data processing agreements' pages. Build one with New.
type Feature struct {
	*site.Site
	rules store.DPARules
}

// New makes the pages on st; cat is the package catalogue agreements and delegations name packages from.
func New(st *site.Site, cat *access.Catalogue) *Feature {
	return &Feature{Site: st, rules: store.DPARules{Env: st.Env, Cat: cat}}
}

// Templates are the pages' templates (dpa_*.html).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Guards: the parties' people (the controller's administrator and role
// holder, the processor's staff and role holder) and the register's case
// workers and data protection officer. Which agreement they may see is
// decided per agreement (dpa.CanSee).
var (
	party      = site.AnyOf(site.Member(governance.Administrator, governance.Rolleinnehaver, governance.Databehandler), overseer)
	overseer   = site.Staff(governance.Saksbehandler, governance.Personvernombud)
	drafter    = site.Member(governance.Administrator, governance.Rolleinnehaver)
	caseWorker = site.Staff(governance.Saksbehandler)
)

// Guard is who sees the menu entry.
func Guard(v *site.Visitor) bool { return party(v) }

// Routes are the pages, each with its guard (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, g site.Guard, h site.Handler) site.Route {
		if strings.HasPrefix(p, "POST ") {
			h = formBody(h)
		}
		return site.Route{Pattern: p, Handler: s.SignedIn(g, h)}
	}
	return []site.Route{
		f("GET "+Base, party, s.list),
		f("GET "+Base+"/ny", drafter, s.draftForm),
		f("POST "+Base+"/ny", drafter, s.create),
		// Rule SK-04: the case workers' delegation form and the delegations without an agreement (delegations.go).
		f("GET "+Delegations, caseWorker, s.delegationForm),
		f("POST "+Delegations, caseWorker, s.delegate),
		f("POST "+Delegations+"/{did}/avslutt", caseWorker, s.endDelegation),
		f("GET "+Base+"/{id}", party, s.page),
		f("GET "+Base+"/{id}/rediger", party, s.editForm),
		f("POST "+Base+"/{id}/rediger", party, s.save),
		f("POST "+Base+"/{id}/steg", party, s.step),
		f("GET "+Base+"/{id}/versjoner/{n}", party, s.document),
		f("GET "+Base+"/{id}/versjoner/{n}/last-ned", party, s.download),
		// Rules DPA-05, DPA-06, DPA-07, DPA-09 (records.go).
		f("POST "+Base+"/{id}/underdatabehandlere", party, s.proposeSub),
		f("POST "+Base+"/{id}/underdatabehandlere/{sid}", party, s.decideSub),
		f("POST "+Base+"/{id}/foresporsler", party, s.recordRequest),
		f("POST "+Base+"/{id}/foresporsler/{qid}/varsle", party, s.notifyRequest),
		// The one multipart form: uploadReport limits and reads its own body.
		{Pattern: "POST " + Base + "/{id}/revisjonsrapporter", Handler: s.SignedIn(party, s.uploadReport)},
		f("GET "+Base+"/{id}/revisjonsrapporter/{rid}", party, s.downloadReport),
		f("POST "+Base+"/{id}/brudd", party, s.reportBreach),
	}
}

// maxFormBytes bounds a form's body (all but the audit report's upload).
const maxFormBytes = 256 << 10

// formBody reads a form's body before h, once the guard has let the
// visitor in: only application/x-www-form-urlencoded (415 otherwise; an
// empty body may have no type), at most maxFormBytes (413), so no handler
// parses a multipart or an unbounded body. No browser sends these from the
// pages, so the answer is plain text.
func formBody(h site.Handler) site.Handler {
	return func(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" && (mt != "" || r.ContentLength != 0) {
			http.Error(w, "Skjemaet må sendes som et vanlig nettskjema.", http.StatusUnsupportedMediaType)
			return nil
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "Skjemaet er for stort.", http.StatusRequestEntityTooLarge)
				return nil
			}
			http.Error(w, "Skjemaet kan ikke leses.", http.StatusBadRequest)
			return nil
		}
		return h(w, r, v)
	}
}

// recordsOpen reports whether records may be kept with a: it is or has
// been in force, not pending or discarded (as the store checks; Rules DPA-07, DPA-09).
func recordsOpen(a *dpa.Agreement) bool {
	return a.Status != dpa.StatusPending && a.Status != dpa.StatusDiscarded
}

// actor is the visitor as the store names who takes a step.
func actor(v *site.Visitor) store.DPAActor {
	return store.DPAActor{UserID: v.User.ID, Name: v.User.Navn}
}

// scoped are the visitor's memberships for the organisation they act for
// and the register's: what the pages show and offer is for that organisation only.
func scoped(v *site.Visitor) []governance.Membership {
	var out []governance.Membership
	for _, m := range v.Memberships {
		if (m.Org != "" && m.Org == v.Org) || m.Org == governance.AuthorityOrg {
			out = append(out, m)
		}
	}
	return out
}

// side is the side the visitor is on for agreement a: the controller's,
// the processor's or the register's; "" when none.
func side(v *site.Visitor, a *dpa.Agreement) dpa.Side {
	hats := dpa.Hats(scoped(v), a.Controller, a.Processor)
	for _, want := range []dpa.Side{dpa.Controller, dpa.Processor, dpa.Register} {
		if slices.ContainsFunc(hats, func(h dpa.Hat) bool { return h.Side == want }) {
			return want
		}
	}
	return ""
}

// load is agreement id if the visitor may see it; otherwise httperr.ErrNotFound,
// the same answer as for one that does not exist (never reveal what exists).
func (s *Feature) load(r *http.Request, v *site.Visitor) (store.AgreementRecord, error) {
	rec, err := s.DB.Agreement(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return rec, httperr.ErrNotFound
	}
	if err != nil {
		return rec, err
	}
	if !dpa.CanSee(&rec.Agreement, scoped(v)) {
		return rec, httperr.ErrNotFound
	}
	return rec, nil
}

// stepError is how a refused step or record answers when handled: bad
// input goes by field into bad (400); a step not possible now, or a
// signature over a version changed since it was shown, is 409 with a
// message. A step the visitor may not take is not handled here (refused).
func stepError(err error, bad map[string]string) (msg string, status int, handled bool) {
	var inv *store.InvalidError
	switch {
	case errors.As(err, &inv):
		maps.Copy(bad, inv.Fields)
		return "", http.StatusBadRequest, true
	case errors.Is(err, dpa.ErrNotYourStep):
		return "", http.StatusForbidden, false
	case errors.Is(err, dpa.ErrChanged):
		return "Avtalen er endret siden du åpnet den. Les den nye versjonen før du signerer.", http.StatusConflict, true
	case errors.Is(err, dpa.ErrNotReady):
		return "Avtalen er ikke ferdig utfylt. Rett opp feltene som mangler før du går videre.", http.StatusConflict, true
	case errors.Is(err, dpa.ErrWrongStatus), errors.Is(err, store.ErrConflict):
		return "Det er ikke mulig i avtalens nåværende status.", http.StatusConflict, true
	}
	return "", 0, false
}

// refused answers an error stepError does not handle: 403 for a step the visitor may not take, else ServeError.
func refused(err error) error {
	if errors.Is(err, dpa.ErrNotYourStep) {
		return httperr.WithStatus(http.StatusForbidden, err)
	}
	return err
}

// dates shows times as Norwegians read them, for the templates.
type dates struct{ st *site.Site }

// When is t in Oslo's time, or "" for the zero time.
func (d dates) When(t time.Time) string { return d.st.OsloTime(t) }

// form is a form's values and messages by field, for the layout's "field" partial.
type form struct{ Values, Errors map[string]string }

func newForm() form { return form{Values: map[string]string{}, Errors: map[string]string{}} }

// Field is a field of the form: {{template "field" (.Field "navn" "Navn" "" "")}}; typ "" is text.
func (f form) Field(name, label, typ, help string) site.Field {
	return site.Field{Name: name, Label: label, Value: f.Values[name], Error: f.Errors[name], Type: typ, Help: help}
}

// ErrorList is the form's messages in field order, for the error summary.
func (f form) ErrorList() []site.FieldError {
	return site.ErrorList(f.Errors, slices.Sorted(maps.Keys(f.Errors))...)
}

// choice is a checkbox or an option.
type choice struct {
	Value, Label string
	Checked      bool
}
