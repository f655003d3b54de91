package channel

import (
	"context"
	"deling/internal/access"
	"deling/internal/governance"
	"slices"
)

// ReasonNoConsent is the log's reason for a lookup answered as for an unknown
// person because the consent the grants need is missing (Rule SK-08).
const ReasonNoConsent = "no-consent"

// ConsentOutcome is what Rule SK-08 makes of a permitted decision.
type ConsentOutcome int

const (
	ConsentOK       ConsentOutcome = iota // deliver under the decision returned
	ConsentMissing                        // answer as for an unknown person; log deny, no-consent
	ConsentAnswered                       // the call was answered (denied or failed)
	ConsentNotKeyed                       // consent grants alone, and the lookup is not keyed on one person: deny
)

// ConsentNotKeyedText is the denial of a lookup not keyed on one person under consent grants alone.
const ConsentNotKeyedText = "Vedtaket bygger på samtykke og gir bare oppslag på én arbeidstaker om gangen."

// ApplyConsent applies Rule SK-08 to a permitted decision d for req, a lookup
// keyed on person ("" when the query is not keyed on one person), on any channel:
//
//   - no grant of the decision rests on consent: delivered as decided, at no cost;
//   - grants on other bases (statute) allow as much alone: no consent needed;
//   - a person-keyed lookup with a valid consent of that person for the
//     consumer and one of the consent-based grants' purposes: delivered as
//     decided (one indexed query);
//   - otherwise the consent-based grants give nothing: what the other grants
//     allow alone is delivered; with no other grant a person-keyed lookup is
//     answered as for an unknown person (ConsentMissing), and a lookup not keyed
//     on one person (arbeidssted, opplysningspliktig, uuid) is denied
//     (ConsentNotKeyed), since consent is given person by person.
func (s *Shared) ApplyConsent(ctx context.Context, req access.Request, in access.Inputs, d access.Decision, person string) (access.Decision, ConsentOutcome, error) {
	purposes := governance.ConsentPurposes(d.Grants)
	if len(purposes) == 0 {
		return d, ConsentOK, nil
	}
	in.Grants = slices.DeleteFunc(slices.Clone(in.Grants), func(g access.Grant) bool { return g.Consent })
	other := access.Decide(req, in, s.now())
	if other.Permit && slices.Equal(other.Packages, d.Packages) && other.History == d.History {
		return d, ConsentOK, nil
	}
	if person != "" {
		ok, err := s.db.HasValidConsent(ctx, person, req.Consumer, purposes, s.now())
		if err != nil {
			return d, ConsentAnswered, err
		}
		if ok {
			return d, ConsentOK, nil
		}
	}
	switch {
	case other.Permit:
		return other, ConsentOK, nil
	case person != "":
		return d, ConsentMissing, nil
	}
	return d, ConsentNotKeyed, nil
}
