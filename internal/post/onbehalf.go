package post

import (
	"time"

	"deling/internal/ident"
)

// Rule DPV-04: a technical sender (a system vendor, a shared service) may
// send for an actual sender, only under that sender's delegation. The
// recipient sees the actual sender, never the technical one; both are
// stored and logged. The actual sender is named as eFormidling does on
// Altinn 3: propertyList["senderOrgNumber"].

// PropertyActualSender is the propertyList key that names the actual sender.
const PropertyActualSender = "senderOrgNumber"

// SenderDelegation is an actual sender's permission for a technical sender
// to send in its name.
type SenderDelegation struct {
	Actual    ident.Orgnr
	Technical ident.Orgnr
	From      time.Time
	Until     *time.Time
	RevokedAt *time.Time
}

// InForce reports whether the delegation covers t.
func (d SenderDelegation) InForce(t time.Time) bool {
	return !t.Before(d.From) && (d.Until == nil || t.Before(*d.Until)) && (d.RevokedAt == nil || t.Before(*d.RevokedAt))
}

// Origin is who sent a correspondence: the organisation the caller's token
// names (Technical) and the one the post is from (Actual); equal when a
// sender sends for itself.
type Origin struct {
	Technical ident.Orgnr
	Actual    ident.Orgnr
}

// OnBehalf reports whether someone sent for another.
func (o Origin) OnBehalf() bool { return o.Technical != o.Actual }

// ResolveOrigin decides who a request from caller is from at now: the
// caller itself, or the actual sender the request names, if that sender's
// delegation to the caller is in force. Whether the actual sender is an
// eligible sender (DPV-01) is checked next, on it, not on the caller.
func ResolveOrigin(caller ident.Orgnr, req *InitializeRequest, delegations []SenderDelegation, now time.Time) (Origin, *Problem) {
	named := req.Correspondence.PropertyList[PropertyActualSender]
	if named == "" || named == string(caller) {
		return Origin{Technical: caller, Actual: caller}, nil
	}
	actual, err := ident.ParseOrgnr(named)
	if err != nil {
		return Origin{}, problem(0, "correspondence.propertyList", "senderOrgNumber is not a valid organisation number",
			"Den faktiske avsenderen har ikke et gyldig organisasjonsnummer.")
	}
	for _, d := range delegations {
		if d.Actual == actual && d.Technical == caller && d.InForce(now) {
			return Origin{Technical: caller, Actual: actual}, nil
		}
	}
	p := problem(CodeNotDelegated, "correspondence.propertyList",
		"The caller has no delegation to send on behalf of "+string(actual),
		"Dere har ikke fullmakt til å sende på vegne av "+string(actual)+".")
	p.Status = 403
	return Origin{}, p
}

// ShownSender is the sender as the recipient sees it (Rule DPV-04): the
// actual sender's organisation number, and its registered name unless the
// request set messageSender. The technical sender is never shown.
type ShownSender struct {
	Orgnr ident.Orgnr
	Name  string
}

// Shown is what the recipient sees of o, given the actual sender's registered name.
func (o Origin) Shown(actualName, messageSender string) ShownSender {
	name := actualName
	if messageSender != "" {
		name = messageSender
	}
	return ShownSender{Orgnr: o.Actual, Name: name}
}
