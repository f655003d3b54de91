package access

import (
	"slices"
	"time"
)

// ConsentPurposes are the purposes of the consent-based grants among grants,
// sorted and without repeats: a person's consent for any of them lets the
// consumer have what those grants give (Rule SK-08).
func ConsentPurposes(grants []Grant) []string {
	var out []string
	for _, g := range grants {
		if g.Consent {
			out = append(out, g.Purpose)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ConsentPlan is what Rule SK-08 makes of a permitted decision, before any
// person is known: whether consent matters at all, and what a person without
// consent gets. It is pure; Deliver takes a function that looks up a person's
// consents, as upspin's access.Can takes one that loads an access file.
type ConsentPlan struct {
	// Full is the decision as made, consent-based grants included.
	Full Decision
	// Purposes are the consent-based grants' purposes; empty when no grant of Full rests on consent.
	Purposes []string
	// Needed is set when the consent-based grants add something the other
	// grants do not give alone: then a person's data needs their consent.
	Needed bool
	// Other is what the grants that do not rest on consent give alone; its
	// Permit is false when they give nothing.
	Other Decision
}

// PlanConsent plans Rule SK-08 for a permitted decision d on req:
//
//   - no grant of d rests on consent: every person gets d, at no cost;
//   - the other grants (statute) alone give as much as d: no consent needed;
//   - otherwise a person with a valid consent for one of the consent-based
//     grants' purposes gets d, and one without gets what the other grants
//     give alone (Other), or nothing.
func PlanConsent(req Request, in Inputs, d Decision, now time.Time) ConsentPlan {
	p := ConsentPlan{Full: d, Purposes: ConsentPurposes(d.Grants)}
	if !d.Permit || len(p.Purposes) == 0 {
		return p
	}
	in.Grants = slices.DeleteFunc(slices.Clone(in.Grants), func(g Grant) bool { return g.Consent })
	p.Other = Decide(req, in, now)
	p.Needed = !p.Other.Permit || !slices.Equal(p.Other.Packages, d.Packages) || p.Other.History != d.History
	return p
}

// PersonByPerson reports whether the plan delivers nothing without a
// person's consent: the consent-based grants give something and the others
// give nothing alone. Then only a lookup keyed on one person may be answered
// (Rule SK-08): a search by employer or a uuid would page through, count or
// confirm persons who never consented, even if their data were left out.
func (p ConsentPlan) PersonByPerson() bool { return p.Needed && !p.Other.Permit }

// Consented reports whether person has a valid, unexpired, unrevoked consent
// for the consumer and one of purposes (Rule SK-08).
type Consented func(person string, purposes []string) (bool, error)

// Delivery is what of a person's data a plan delivers.
type Delivery int

// Deliveries.
const (
	DeliverNothing Delivery = iota // none of the person's data
	DeliverFull                    // as decided: consent not needed, or given
	DeliverOther                   // what the grants not resting on consent give alone
)

// Deliver is what of person's data may be delivered. consented is asked
// only when consent matters.
func (p ConsentPlan) Deliver(person string, consented Consented) (Delivery, error) {
	if !p.Full.Permit {
		return DeliverNothing, nil
	}
	if !p.Needed {
		return DeliverFull, nil
	}
	ok, err := consented(person, p.Purposes)
	switch {
	case err != nil:
		return DeliverNothing, err
	case ok:
		return DeliverFull, nil
	case p.Other.Permit:
		return DeliverOther, nil
	}
	return DeliverNothing, nil
}
