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
	// DenyPackageNotDelegated: the processor's delegations give none of
	// the packages the grants give (Rule SK-04).
	DenyPackageNotDelegated Reason = "package-not-delegated"
	DenyHistory             Reason = "history-not-granted"
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

// Delegated says whether processor may act for consumer on ch at now
// (Rules AA-13, SK-04): always when there is no processor or it is the
// consumer itself; else only under an active delegation from this consumer
// for this channel. all is true when a delegation gives every package;
// packages are the packages the delegations name otherwise.
func Delegated(delegations []Delegation, consumer, processor string, ch Channel, now time.Time) (ok, all bool, packages []string) {
	if processor == "" || processor == consumer {
		return true, true, nil
	}
	for _, d := range delegations {
		if d.Consumer == consumer && d.Processor == processor && d.ActiveAt(now) &&
			(len(d.Channels) == 0 || slices.Contains(d.Channels, ch)) {
			ok = true
			all = all || len(d.Packages) == 0
			packages = append(packages, d.Packages...)
		}
	}
	return ok, all, packages
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
	// delegated is the packages the processor's delegations give; all
	// when one delegates every package (one made before delegations named
	// packages).
	ok, allDelegated, delegated := Delegated(in.Delegations, req.Consumer, req.Processor, req.Channel, now)
	if !ok {
		return deny(DenyNoDelegation)
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
	// Rule AA-02: only the query kinds the decision grants. Rules SK-04,
	// AA-02 (minimisation): a processor gets only the packages both the
	// grant and its delegation give.
	d := Decision{Permit: true}
	for _, g := range active {
		if !slices.Contains(g.QueryKinds, req.Kind) {
			continue
		}
		pkgs := g.Packages
		if !allDelegated {
			pkgs = nil
			for _, p := range g.Packages {
				if slices.Contains(delegated, p) {
					pkgs = append(pkgs, p)
				}
			}
			if len(pkgs) == 0 {
				continue // the grant gives nothing the processor was delegated
			}
		}
		d.Grants = append(d.Grants, g)
		d.Packages = append(d.Packages, pkgs...)
	}
	if len(d.Grants) == 0 {
		if !allDelegated && slices.ContainsFunc(active, func(g Grant) bool { return slices.Contains(g.QueryKinds, req.Kind) }) {
			return deny(DenyPackageNotDelegated)
		}
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
