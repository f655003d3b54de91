package dpa

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// The register's case workers delegate a consumer's access to its data
// processor only under an active agreement signed by both that covers the
// channels and packages delegated (Rule SK-04), and resolve the
// delegations made before agreements were records, which name none.

const fieldAgreement = "avtale"

type agreementOption struct {
	ID, Label string
	Checked   bool
}

type delegationPage struct {
	site.Frame
	form
	Agreements []agreementOption
	Channels   []choice
	Packages   []choice
	Gaps       []dpa.Gap
}

// delegationPageData is the form: only the agreements delegations may rest on now are offered.
func (s *Feature) delegationPageData(r *http.Request, v *site.Visitor, f form, chosen []string) (delegationPage, error) {
	ctx := r.Context()
	now := s.Now()
	recs, err := s.DB.Agreements(ctx, "")
	if err != nil {
		return delegationPage{}, err
	}
	p := delegationPage{Frame: s.Frame(r, v, "Delegering til databehandler"), form: f}
	for _, rec := range recs {
		if !rec.ActiveAt(now) {
			continue
		}
		c := rec.Current().Content
		var chans []string
		for _, ch := range c.Channels {
			chans = append(chans, governance.ChannelLabel(ch))
		}
		// The parties by organisation number, not only by the names the agreement's text gives them.
		p.Agreements = append(p.Agreements, agreementOption{ID: rec.ID, Checked: rec.ID == f.Values[fieldAgreement],
			Label: site.OrgLabel(c.Controller.Navn, rec.Controller) + " → " + site.OrgLabel(c.Processor.Navn, rec.Processor) +
				" · hovedavtale «" + c.MainAgreement + "» av " + c.MainAgreementDate +
				" (" + strings.Join(chans, ", ") + "; " + strings.Join(c.Packages, ", ") + ")"})
	}
	for _, ch := range []access.Channel{access.ChannelAPI, access.ChannelWeb, access.ChannelExtract} {
		p.Channels = append(p.Channels, choice{Value: string(ch), Label: governance.ChannelLabel(ch), Checked: slices.Contains(chosen, string(ch))})
	}
	for _, pk := range s.rules.Cat.Packages() {
		p.Packages = append(p.Packages, choice{Value: pk.Ref(), Label: pk.Navn + " (" + pk.Ref() + ")", Checked: slices.Contains(chosen, pk.Ref())})
	}
	if p.Gaps, err = s.DB.UncoveredDelegations(ctx, now); err != nil {
		return p, err
	}
	return p, nil
}

// delegationForm is the case worker's form and the delegations lacking a covering agreement.
func (s *Feature) delegationForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p, err := s.delegationPageData(r, v, newForm(), nil)
	if err != nil {
		return err
	}
	s.Render(w, r, "dpa_delegering.html", p)
	return nil
}

// delegate makes the delegation under the agreement chosen (Rule SK-04):
// the store checks, with the agreement's row locked, that it is active,
// signed by both and covers every channel and package; otherwise the
// reason is shown in Norwegian and nothing is stored.
func (s *Feature) delegate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ctx := r.Context()
	f := newForm()
	id := r.PostFormValue(fieldAgreement)
	f.Values[fieldAgreement] = id
	d := access.Delegation{AgreementID: id, DPARef: id, ValidFrom: s.Now()}
	for _, ch := range r.PostForm[dpa.FieldChannels] {
		d.Channels = append(d.Channels, access.Channel(ch))
	}
	d.Packages = r.PostForm[dpa.FieldPackages]
	chosen := append(slices.Clone(d.Packages), r.PostForm[dpa.FieldChannels]...)
	rec, err := s.DB.Agreement(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound) || id == "":
		f.Errors[fieldAgreement] = "Velg en aktiv databehandleravtale som er signert av begge parter."
	case err != nil:
		return err
	default:
		d.Consumer, d.Processor = rec.Controller, rec.Processor
		if len(d.Channels) == 0 {
			f.Errors[dpa.FieldChannels] = "Velg minst én tilgangstype."
		}
		if len(d.Packages) == 0 {
			f.Errors[dpa.FieldPackages] = "Velg minst én rettighetspakke."
		}
	}
	if len(f.Errors) == 0 {
		if d, err = s.DB.AddDelegation(ctx, d, v.Actor()); errors.Is(err, store.ErrConflict) {
			f.Errors[fieldAgreement] = dpa.Reason(err) // Rule SK-04
		} else if err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		p, err := s.delegationPageData(r, v, f, chosen)
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "dpa_delegering.html", p)
		return nil
	}
	s.Log.Info("delegation added", "delegation", d.ID, "agreement", id, "user", v.User.ID)
	s.Flash(r, "Delegeringen er opprettet under databehandleravtalen. Databehandleren har nå tilgang til det som er delegert.")
	site.Redirect(w, r, Delegations)
	return nil
}

// endDelegation ends a delegation that lacks a covering agreement, once
// the case worker has resolved it (Rule SK-04); others are not ended here.
func (s *Feature) endDelegation(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	gaps, err := s.DB.UncoveredDelegations(r.Context(), s.Now())
	if err != nil {
		return err
	}
	did := r.PathValue("did")
	if !slices.ContainsFunc(gaps, func(g dpa.Gap) bool { return g.Delegation.ID == did }) {
		return httperr.ErrNotFound
	}
	if err := s.DB.EndDelegation(r.Context(), did, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, "Delegeringen uten databehandleravtale er avsluttet.")
	site.Redirect(w, r, Delegations)
	return nil
}
