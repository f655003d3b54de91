package portal

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Consent as legal basis (issue 5, item 7, Rule SK-08): where a grant rests
// on the data subjects' consent, a person gives, sees and withdraws consent
// for a consumer and purpose, with an expiry, and the API delivers that
// person's data only under a valid consent. The person's fødselsnummer comes
// from their account (v.User.PID); it is never shown, put in a URL or logged.

type consentRow struct {
	ID, ConsumerName, Consumer, Purpose string
	Given, Expires, Withdrawn           string
	State                               governance.ConsentState
	StateColor                          string
	Active                              bool
}

type consentsPage struct {
	site.Frame
	Consents         []consentRow
	Requests         []governance.ConsentRequest
	Form             lifeForm
	MinDate, MaxDate string // yyyy-mm-dd, for the date field
	MaxDateText      string // MaxDate as Norwegians write it
	MaxDays          int
}

func (s *Server) renderConsents(w http.ResponseWriter, r *http.Request, v *site.Visitor, f lifeForm, status int) {
	ctx := r.Context()
	now := s.Now()
	cs, err := s.DB.Consents(ctx, v.User.PID)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	reqs, err := s.DB.ConsentRequests(ctx, now)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	p := consentsPage{Frame: s.Frame(r, v, "Samtykker"), Requests: reqs, Form: f,
		MinDate: now.In(s.Oslo).Format(time.DateOnly), MaxDate: s.lastConsentDate(now).Format(time.DateOnly),
		MaxDateText: s.OsloDate(s.lastConsentDate(now)), MaxDays: int(s.rules.ConsentMaxValidity / (24 * time.Hour))}
	for _, c := range cs {
		row := consentRow{ID: c.ID, Consumer: c.Consumer, ConsumerName: s.consumerName(r, c.Consumer), Purpose: c.Purpose,
			Given: s.OsloDate(c.GivenAt), Expires: s.OsloDate(c.ExpiresAt.Add(-time.Microsecond)), State: c.State(now)}
		if c.WithdrawnAt != nil {
			row.Withdrawn = s.OsloDate(*c.WithdrawnAt)
		}
		row.Active = row.State == governance.ConsentActive
		row.StateColor = map[governance.ConsentState]string{governance.ConsentActive: "success", governance.ConsentExpired: "neutral",
			governance.ConsentWithdrawn: "warning"}[row.State]
		p.Consents = append(p.Consents, row)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "samtykker.html", p)
}

// lastConsentDate is the last day a consent given at now may be valid through:
// the consent ends when that day does, at most ConsentMaxValidity ahead.
func (s *Server) lastConsentDate(now time.Time) time.Time {
	return now.Add(s.rules.ConsentMaxValidity).In(s.Oslo).AddDate(0, 0, -1)
}

// endOfDay is when a date (yyyy-mm-dd) ends in Norway: the consent is valid through it.
func (s *Server) endOfDay(date string) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date), s.Oslo)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

func (s *Server) consents(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	f := newLifeForm("foresporsel", "utloper")
	f.Values["utloper"] = s.Now().In(s.Oslo).AddDate(0, 6, 0).Format(time.DateOnly)
	if last := s.lastConsentDate(s.Now()).Format(time.DateOnly); f.Values["utloper"] > last {
		f.Values["utloper"] = last
	}
	s.renderConsents(w, r, v, f, http.StatusOK)
	return nil
}

// giveConsent stores the person's consent for a consumer and purpose that asks for it (Rule SK-08).
func (s *Server) giveConsent(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ctx := r.Context()
	now := s.Now()
	f := newLifeForm("foresporsel", "utloper")
	key, date := r.PostFormValue("foresporsel"), r.PostFormValue("utloper")
	f.Values["foresporsel"], f.Values["utloper"] = key, date
	consumer, purpose, _ := strings.Cut(key, "|")
	c := governance.Consent{PersonPID: v.User.PID, Consumer: consumer, Purpose: purpose}
	expires, ok := s.endOfDay(date)
	if ok {
		c.ExpiresAt = expires
	}
	reqs, err := s.DB.ConsentRequests(ctx, now)
	if err != nil {
		return err
	}
	bad := c.Check(now, s.rules.ConsentMaxValidity, reqs)
	if !ok && strings.TrimSpace(date) != "" {
		bad["utloper"] = "Skriv datoen som åååå-mm-dd, for eksempel 2027-05-31."
	}
	if len(bad) > 0 {
		f.Errors = bad
		s.renderConsents(w, r, v, f, http.StatusBadRequest)
		return nil
	}
	given, err := s.DB.GiveConsent(ctx, c, v.Actor())
	switch {
	case errors.Is(err, store.ErrExists):
		f.Errors["foresporsel"] = "Du har allerede et gyldig samtykke til dette. Trekk det tilbake først om du vil gi et nytt med en annen utløpsdato."
		s.renderConsents(w, r, v, f, http.StatusConflict)
		return nil
	case errors.Is(err, store.ErrConflict):
		f.Errors["foresporsel"] = "Virksomheten ber ikke lenger om samtykke til dette formålet."
		s.renderConsents(w, r, v, f, http.StatusConflict)
		return nil
	case err != nil:
		return err
	}
	s.Flash(r, "Samtykket er gitt til "+s.consumerName(r, given.Consumer)+" for formålet «"+given.Purpose+"», til og med "+
		s.OsloDate(given.ExpiresAt.Add(-time.Microsecond))+".")
	site.Redirect(w, r, "/portal/samtykker")
	return nil
}

// withdrawConsent withdraws one of the person's own consents at once; another's answers as unknown.
func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	id := r.PathValue("id")
	cs, err := s.DB.Consents(r.Context(), v.User.PID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cs, func(c governance.Consent) bool { return c.ID == id })
	if i < 0 {
		return httperr.ErrNotFound
	}
	if err := s.DB.WithdrawConsent(r.Context(), v.User.PID, id, v.Actor()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return httperr.ErrNotFound
		}
		return err
	}
	s.Flash(r, "Samtykket er trukket tilbake. "+s.consumerName(r, cs[i].Consumer)+" får ikke lenger opplysninger om deg på grunnlag av det.")
	site.Redirect(w, r, "/portal/samtykker")
	return nil
}
