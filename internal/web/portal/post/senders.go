package post

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"deling/internal/ident"
	dpv "deling/internal/post"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// The register's staff registers the eligible senders (Rule DPV-01) with a
// service lead and a deputy or shared address (DPV-09), sees each one's
// count this year against the free volume (DPV-10), and marks one as having
// left, which deletes its archived post with a record in the log (DPV-11).

type sendersPage struct {
	site.Frame
	Rows       []senderRow
	Categories []option
	Values     map[string]string
	Errors     map[string]string
	Summary    []site.FieldError
	Free       int
	Year       int
}

type senderRow struct {
	Orgnr, Name, Lead, Deputy, Left string
	Sent                            int
	Agreement, At, Over             bool // Rule DPV-10: at the free volume, or over it
}

var senderFields = []string{"orgnr", "navn", "grunnlag", "serviceleder", "stedfortreder", "kategorier", "avtale_referanse"}

// senders is the senders page; ?endre={orgnr} fills the form with that
// sender's current values, so that a change keeps what it does not change.
func (s *Feature) senders(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	vals, cats := map[string]string{}, []dpv.Category(nil)
	if org := r.URL.Query().Get("endre"); org != "" {
		snd, err := s.DB.PostSender(r.Context(), ident.Orgnr(org))
		if err != nil {
			return err
		}
		vals = senderValues(snd, s.Now())
		cats = snd.Categories
	}
	return s.renderSenders(w, r, v, vals, nil, cats)
}

// senderValues are the form's values for snd as registered.
func senderValues(snd *dpv.Sender, now time.Time) map[string]string {
	vals := map[string]string{"orgnr": string(snd.Orgnr), "navn": snd.Name, "grunnlag": snd.Basis,
		"serviceleder_navn": snd.ServiceLead.Name, "serviceleder_epost": snd.ServiceLead.Email, "serviceleder_telefon": snd.ServiceLead.Phone}
	if d := snd.Deputy; d != nil {
		vals["stedfortreder_navn"], vals["stedfortreder_epost"], vals["stedfortreder_telefon"] = d.Name, d.Email, d.Phone
	}
	if sh := snd.Shared; sh != nil {
		vals["felles_epost"], vals["felles_telefon"] = sh.Email, sh.Phone
	}
	if snd.Agreement.InForce(now) {
		vals["avtale"], vals["avtale_referanse"] = "1", snd.Agreement.Reference
	}
	return vals
}

func (s *Feature) renderSenders(w http.ResponseWriter, r *http.Request, v *site.Visitor, vals, bad map[string]string, cats []dpv.Category) error {
	ctx := r.Context()
	all, err := s.DB.PostSenders(ctx)
	if err != nil {
		return err
	}
	now, quota := s.Now(), dpv.DefaultQuota()
	year := dpv.QuotaYear(now, s.Oslo)
	from, to := dpv.YearSpan(year, s.Oslo)
	p := sendersPage{Frame: s.Frame(r, v, "Avsendere av digital post"), Values: vals, Errors: bad,
		Summary: site.ErrorList(bad, senderFields...), Free: quota.FreePerYear, Year: year}
	for _, snd := range all {
		// Rule DPV-10: the count this year, against the free volume.
		n, err := s.DB.PostSent(ctx, snd.Orgnr, from, to)
		if err != nil {
			return err
		}
		row := senderRow{Orgnr: string(snd.Orgnr), Name: snd.Name, Sent: n, Agreement: snd.Agreement.InForce(now),
			Lead: snd.ServiceLead.Name + ", " + snd.ServiceLead.Email}
		row.At, row.Over = n == quota.FreePerYear && !row.Agreement, n > quota.FreePerYear && !row.Agreement
		switch {
		case snd.Deputy != nil && snd.Deputy.Email != "":
			row.Deputy = snd.Deputy.Name + ", " + snd.Deputy.Email
		case snd.Shared != nil:
			row.Deputy = "Felles: " + snd.Shared.Email
		}
		if snd.LeftAt != nil {
			row.Left = s.OsloTime(*snd.LeftAt)
		}
		p.Rows = append(p.Rows, row)
	}
	for _, c := range dpv.Categories() {
		p.Categories = append(p.Categories, option{Value: string(c), Label: c.Label(), Selected: slices.Contains(cats, c)})
	}
	if len(bad) > 0 {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	s.Render(w, r, "post_avsendere.html", p)
	return nil
}

var senderInputs = []string{"orgnr", "navn", "grunnlag", "serviceleder_navn", "serviceleder_epost", "serviceleder_telefon",
	"stedfortreder_navn", "stedfortreder_epost", "stedfortreder_telefon", "felles_epost", "felles_telefon", "avtale", "avtale_referanse"}

// registerSender registers or changes a sender (Rules DPV-01, DPV-09, DPV-10);
// a refusal shows the form again by field, nothing stored.
func (s *Feature) registerSender(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	vals := map[string]string{}
	for _, f := range senderInputs {
		vals[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	var cats []dpv.Category
	for _, c := range r.PostForm["kategorier"] {
		cats = append(cats, dpv.Category(c))
	}
	now := s.Now()
	snd := dpv.Sender{Orgnr: ident.Orgnr(vals["orgnr"]), Name: vals["navn"], Basis: vals["grunnlag"], RegisteredBy: v.Actor(),
		ServiceLead: dpv.Contact{Name: vals["serviceleder_navn"], Email: vals["serviceleder_epost"], Phone: vals["serviceleder_telefon"]},
		Categories:  cats}
	if vals["stedfortreder_epost"] != "" || vals["stedfortreder_navn"] != "" {
		snd.Deputy = &dpv.Contact{Name: vals["stedfortreder_navn"], Email: vals["stedfortreder_epost"], Phone: vals["stedfortreder_telefon"]}
	}
	if vals["felles_epost"] != "" {
		snd.Shared = &dpv.Contact{Email: vals["felles_epost"], Phone: vals["felles_telefon"]}
	}
	bad := snd.Validate()
	if vals["avtale"] != "" {
		// Rule DPV-10: a full agreement lifts the yearly cap.
		if vals["avtale_referanse"] == "" {
			bad["avtale_referanse"] = "Skriv avtalens referanse."
		}
		snd.Agreement = &dpv.Agreement{Reference: vals["avtale_referanse"], From: now, RecordedBy: v.Actor()}
	}
	if len(bad) > 0 {
		return s.renderSenders(w, r, v, vals, bad, cats)
	}
	msg := "Avsenderen " + snd.Name + " er registrert."
	if prev, err := s.DB.PostSender(r.Context(), snd.Orgnr); err == nil {
		snd.RegisteredAt = prev.RegisteredAt
		// Rule DPV-10: a recorded full agreement stays when the sender is
		// changed; the form only records a new one.
		if snd.Agreement == nil || prev.Agreement.InForce(now) {
			snd.Agreement = prev.Agreement
		}
		var dropped []string
		for _, c := range prev.Categories {
			if !slices.Contains(cats, c) {
				dropped = append(dropped, c.Label())
			}
		}
		if len(dropped) > 0 {
			msg += " Avsenderen kan ikke lenger sende i: " + strings.Join(dropped, ", ") + "."
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.DB.RegisterPostSender(r.Context(), snd, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, msg)
	site.Redirect(w, r, "/portal/forvalter/post")
	return nil
}

// senderLeaves marks a sender as having left: its archived post is deleted,
// with a record of the deletion in the log (Rule DPV-11).
func (s *Feature) senderLeaves(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if r.PostFormValue("bekreft") == "" {
		s.Flash(r, "Kryss av for at avsenderens arkiverte post skal slettes.")
		site.Redirect(w, r, "/portal/forvalter/post")
		return nil
	}
	n, err := s.DB.PostSenderLeaves(r.Context(), ident.Orgnr(r.PathValue("orgnr")), v.Actor())
	if err != nil {
		return err
	}
	if n == 1 {
		s.Flash(r, "Avsenderen er meldt ut. 1 melding er slettet.")
	} else {
		s.Flash(r, fmt.Sprintf("Avsenderen er meldt ut. %d meldinger er slettet.", n))
	}
	site.Redirect(w, r, "/portal/forvalter/post")
	return nil
}

// F is a text field of the form with the user's input and its error.
func (p sendersPage) F(name, label string) site.Field {
	return site.Field{Name: name, Label: label, Value: p.Values[name], Error: p.Errors[name]}
}

// G is a field of a group whose error (group's) is shown once for the
// group: the field is marked invalid (aria-invalid) without repeating it.
func (p sendersPage) G(name, label, group string) site.Field {
	return site.Field{Name: name, Label: label, Value: p.Values[name], Error: p.Errors[group]}
}
