package lookup

import (
	"context"
	"fmt"
	"time"

	"deling/internal/access"
)

// Denied is a request the access decision refuses. Text is the reason in
// Norwegian, fit to show the caller.
type Denied struct {
	Reason access.Reason
	Text   string
}

func (e *Denied) Error() string { return "lookup denied: " + string(e.Reason) }

// denyText is what a caller is told for each deny reason.
var denyText = map[access.Reason]string{
	access.DenyUnknownConsumer:     "Organisasjonen har ikke tilgang til registeret.",
	access.DenyConsumerCeased:      "Organisasjonen er opphørt, og tilgangen er avsluttet.",
	access.DenyNoDelegation:        "Databehandleren har ingen aktiv delegering fra konsumenten.",
	access.DenyNoGrant:             "Organisasjonen har ikke vedtak om tilgang til denne kanalen i dette miljøet.",
	access.DenyGrantSuspended:      "Tilgangen er suspendert.",
	access.DenyGrantEnded:          "Tilgangen er avsluttet.",
	access.DenyQueryKind:           "Vedtaket gir ikke tilgang til denne typen oppslag.",
	access.DenyHistory:             "Vedtaket gir ikke tilgang til historikk.",
	access.DenyPackageNotDelegated: "Databehandleren er ikke delegert noen av pakkene vedtaket gir.",
	access.DenyConsentPerPerson:    "Vedtaket bygger på samtykke og gir bare oppslag på én arbeidstaker om gangen.",
}

// Deny is the Denied for reason r.
func Deny(r access.Reason) *Denied {
	t, ok := DenyText(r)
	if !ok {
		t = "Tilgangen gjelder ikke (" + string(r) + ")."
	}
	return &Denied{Reason: r, Text: t}
}

// DenyText is what a caller is told for a deny reason of the access decision; ok is false for any other reason.
func DenyText(r access.Reason) (string, bool) {
	t, ok := denyText[r]
	return t, ok
}

// View is what of one person's arbeidsforhold may be delivered: the decision
// it rests on and the projection that minimises a record to it.
type View struct {
	Decision   access.Decision
	Projection *access.Projection
}

// Options are the projection's options under the view's decision: only the
// current ansettelsesdetaljer unless history is granted and asked for.
func (v View) Options() access.Options { return access.Options{CurrentDetaljer: !v.Decision.History} }

// Plan is a permitted request's decision with consent planned (Rule SK-08):
// the views a person may get, chosen person by person with View.
type Plan struct {
	consent access.ConsentPlan
	full    View
	other   View // Projection nil: a person without consent gets nothing
	// consented asks the store; answers are kept for the plan's life, so a
	// long extract asks once per person per batch (it plans again each batch).
	consented func(ctx context.Context, person string, purposes []string) (bool, error)
	cache     map[string]bool
}

// maxConsentCache bounds the consent answers a plan keeps.
const maxConsentCache = 100_000

// NewPlan decides req (Rule AA-16's "on what basis") and plans consent. It
// returns *Denied when the decision does not permit. cat resolves the
// decision's packages into the projection: the live catalogue, or the
// packages an extract was ordered under.
func NewPlan(req access.Request, in access.Inputs, cat *access.Catalogue, now time.Time,
	consented func(ctx context.Context, person string, purposes []string) (bool, error)) (*Plan, error) {
	in.Catalogue = cat
	d := access.Decide(req, in, now)
	if !d.Permit {
		return nil, Deny(d.Reason)
	}
	p := &Plan{consent: access.PlanConsent(req, in, d, now), consented: consented}
	proj, err := cat.Projection(d.Packages)
	if err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	p.full = View{Decision: d, Projection: proj}
	if p.consent.Needed && p.consent.Other.Permit {
		if p.other.Projection, err = cat.Projection(p.consent.Other.Packages); err != nil {
			return nil, fmt.Errorf("projection: %w", err)
		}
		p.other.Decision = p.consent.Other
	}
	return p, nil
}

// Decision is the decision as made, before consent.
func (p *Plan) Decision() access.Decision { return p.full.Decision }

// Full is the view of a person whose consent is not needed or is given.
func (p *Plan) Full() View { return p.full }

// KeyedOn checks that a lookup keyed on person ("" for one that is not, such
// as a search by employer or a uuid) may be answered under the plan: when
// nothing is delivered without consent, only one keyed on a person may
// (Rule SK-08, access.ConsentPlan.PersonByPerson).
func (p *Plan) KeyedOn(person string) error {
	if person == "" && p.consent.PersonByPerson() {
		return Deny(access.DenyConsentPerPerson)
	}
	return nil
}

// View is what of person's data may be delivered, and false when nothing
// may (Rule SK-08). The person's consents are read only when they matter.
func (p *Plan) View(ctx context.Context, person string) (View, bool, error) {
	dl, err := p.consent.Deliver(person, func(person string, purposes []string) (bool, error) {
		if v, seen := p.cache[person]; seen {
			return v, nil
		}
		v, err := p.consented(ctx, person, purposes)
		if err != nil {
			return false, err
		}
		if p.cache == nil || len(p.cache) >= maxConsentCache {
			p.cache = map[string]bool{}
		}
		p.cache[person] = v
		return v, nil
	})
	switch {
	case err != nil:
		return View{}, false, fmt.Errorf("consent: %w", err)
	case dl == access.DeliverFull:
		return p.full, true, nil
	case dl == access.DeliverOther:
		return p.other, true, nil
	}
	return View{}, false, nil
}
