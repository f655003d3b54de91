package dpa

import (
	"strings"
	"time"
)

// AuthorityRequest is a request from an authority for data processed under
// the agreement, as the processor records it (Rule DPA-09; template §
// 11.4). Recording it notifies the controller at once; unless the law
// requires it, the processor does not comply without the controller's prior
// written approval.
type AuthorityRequest struct {
	ID          string
	AgreementID string
	Authority   string    // who asked
	ReceivedAt  time.Time // when
	What        string    // what data was asked for
	LegalBasis  string    // the legal basis the authority claimed
	// LawForbidsNotice: the law the authority relies on forbids telling the
	// controller now; the processor tells it as soon as the law allows (template § 9.2).
	LawForbidsNotice bool
	RecordedBy       string // actor: the processor's staff
	RecordedByName   string
	RecordedAt       time.Time
	// NotifiedAt is when the processor told the controller of a request
	// first withheld because the law forbade it (zero until then).
	NotifiedAt     time.Time
	NotifiedByName string
}

// Field names of the request form.
const (
	FieldReqAuthority  = "myndighet"
	FieldReqReceivedAt = "mottatt"
	FieldReqWhat       = "hva"
	FieldReqBasis      = "hjemmel"
)

// Validate lists what keeps the request from being recorded, by form field,
// in Norwegian. now is the time of recording.
func (r *AuthorityRequest) Validate(now time.Time) map[string]string {
	r.Authority, r.What, r.LegalBasis = strings.TrimSpace(r.Authority), clean(r.What), strings.TrimSpace(r.LegalBasis)
	bad := map[string]string{}
	switch {
	case r.Authority == "":
		bad[FieldReqAuthority] = "Oppgi hvilken myndighet som ba om opplysningene."
	case tooLong(r.Authority, maxShort):
		bad[FieldReqAuthority] = tooLongMsg(maxShort)
	}
	switch {
	case r.ReceivedAt.IsZero():
		bad[FieldReqReceivedAt] = "Oppgi når forespørselen kom."
	case r.ReceivedAt.After(now):
		bad[FieldReqReceivedAt] = "Tidspunktet kan ikke være frem i tid."
	}
	switch {
	case r.What == "":
		bad[FieldReqWhat] = "Beskriv hvilke opplysninger myndigheten ba om."
	case tooLong(r.What, maxLong):
		bad[FieldReqWhat] = tooLongMsg(maxLong)
	}
	switch {
	case r.LegalBasis == "":
		bad[FieldReqBasis] = "Oppgi hjemmelen myndigheten viste til, eller «ikke oppgitt»."
	case tooLong(r.LegalBasis, maxShort):
		bad[FieldReqBasis] = tooLongMsg(maxShort)
	}
	return bad
}

// NotifyNow reports whether the controller is told at once (Rule DPA-09):
// always, unless the law forbids it for now.
func (r *AuthorityRequest) NotifyNow() bool { return !r.LawForbidsNotice }

// Withheld reports whether the request is still kept from the controller
// (Rule DPA-09): the law forbade the notice and the processor has not yet
// told it. Only the processor and the register see a withheld request.
func (r *AuthorityRequest) Withheld() bool { return r.LawForbidsNotice && r.NotifiedAt.IsZero() }
