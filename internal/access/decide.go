package access

import (
	"slices"
	"time"

	"deling/internal/audit"
	"deling/internal/register"
)

// Request is what a caller asks for, as far as access is concerned.
type Request struct {
	Consumer  string // orgnr the data is for (the token's consumer)
	Processor string // orgnr of a data processor acting for the consumer (the token's supplier), or ""
	Channel   Channel
	Env       register.Env
	Kind      QueryKind
	History   bool // every version of ansettelsesdetaljer (historikk=true)
}

// Inputs is the state a decision rests on, loaded fresh for each request so
// that a suspension or an ending takes effect on the very next one.
type Inputs struct {
	Consumer    *Consumer // nil when the organisation is not a consumer
	Grants      []Grant   // the consumer's grants, any status
	Delegations []Delegation
	Catalogue   *Catalogue
}

// Reason says why a request was denied; the empty reason is a permit.
type Reason string

// Deny reasons, stable: they are logged and counted.
const (
	DenyUnknownConsumer Reason = "unknown-consumer"
	DenyConsumerCeased  Reason = "consumer-ceased"
	DenyNoDelegation    Reason = "no-active-delegation"
	DenyNoGrant         Reason = "no-grant"
	DenyGrantSuspended  Reason = "grant-suspended"
	DenyGrantEnded      Reason = "grant-ended"
	DenyQueryKind       Reason = "query-kind-not-granted"
	DenyHistory         Reason = "history-not-granted"
	// DenyConsentPerPerson: the grants rest on consent, which is given person
	// by person, and the lookup is not keyed on one person (Rule SK-08).
	DenyConsentPerPerson Reason = "consent-per-person"
)

// Decision is the outcome: permit with the grants and packages it rests on, or deny with a reason.
type Decision struct {
	Permit   bool
	Reason   Reason
	Grants   []Grant  // the grants used (for the log: id, legal basis, purpose)
	Packages []string // union of the grants' package refs
	History  bool     // historikk allowed and asked for
}

// GrantRefs are the grants the decision rests on, as the lookup log keeps them (Rule AA-16).
func (d Decision) GrantRefs() []audit.GrantRef {
	var out []audit.GrantRef
	for _, g := range d.Grants {
		out = append(out, audit.GrantRef{ID: g.ID, LegalBasis: g.LegalBasis, ProcessingBasis: g.ProcessingBasis, Purpose: g.Purpose})
	}
	return out
}

// Decide is the access decision. It is pure: the same inputs and time give the same decision.
func Decide(req Request, in Inputs, now time.Time) Decision {
	deny := func(r Reason) Decision { return Decision{Reason: r} }
	c := in.Consumer
	if c == nil || c.Orgnr != req.Consumer || req.Consumer == "" {
		return deny(DenyUnknownConsumer)
	}
	// Rule AA-26: a consumer whose organisation has ceased gets nothing.
	if c.Status != Active {
		return deny(DenyConsumerCeased)
	}
	// Rules AA-13, SK-04: a data processor acts only under an active
	// delegation from this consumer, for a channel it delegates (one made
	// before delegations named channels delegates all); its access derives
	// from the consumer's.
	if req.Processor != "" && req.Processor != req.Consumer {
		ok := slices.ContainsFunc(in.Delegations, func(d Delegation) bool {
			return d.Consumer == req.Consumer && d.Processor == req.Processor && d.ActiveAt(now) &&
				(len(d.Channels) == 0 || slices.Contains(d.Channels, req.Channel))
		})
		if !ok {
			return deny(DenyNoDelegation)
		}
	}
	var (
		matching, active []Grant
	)
	for _, g := range in.Grants {
		if g.Consumer == req.Consumer && g.Channel == req.Channel && g.Env == req.Env {
			matching = append(matching, g)
			if g.ActiveAt(now) {
				active = append(active, g)
			}
		}
	}
	if len(active) == 0 {
		// Rule AA-25 (suspended) and AA-26 (ended) take effect at once; say which.
		switch {
		case slices.ContainsFunc(matching, func(g Grant) bool { return g.Status == Suspended }):
			return deny(DenyGrantSuspended)
		case slices.ContainsFunc(matching, func(g Grant) bool {
			return g.Status == Ended || (g.ValidTo != nil && !now.Before(*g.ValidTo))
		}):
			return deny(DenyGrantEnded)
		}
		return deny(DenyNoGrant)
	}
	// Rule AA-02: only the query kinds the decision grants.
	d := Decision{Permit: true}
	for _, g := range active {
		if slices.Contains(g.QueryKinds, req.Kind) {
			d.Grants = append(d.Grants, g)
			d.Packages = append(d.Packages, g.Packages...)
		}
	}
	if len(d.Grants) == 0 {
		return deny(DenyQueryKind)
	}
	slices.Sort(d.Packages)
	d.Packages = slices.Compact(d.Packages)
	// Rule AA-07: history is a data element of its own.
	if req.History {
		if in.Catalogue == nil || !in.Catalogue.History(d.Packages) {
			return deny(DenyHistory)
		}
		d.History = true
	}
	return d
}

// RateLimit is the consumer's requests per second: the highest of its active
// grants' limits on the channel, or DefaultRateLimit.
func RateLimit(grants []Grant, ch Channel, now time.Time) int {
	limit := 0
	for _, g := range grants {
		if g.Channel == ch && g.ActiveAt(now) && g.RateLimit > limit {
			limit = g.RateLimit
		}
	}
	if limit == 0 {
		return DefaultRateLimit
	}
	return limit
}
