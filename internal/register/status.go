package register

import "fmt"

// Status of an arbeidsforhold at a date, as the API's arbeidsforholdstatus filter names it.
type Status string

// The three statuses (research/aareg-api.md §1.5, §7).
const (
	StatusAktiv     Status = "AKTIV"
	StatusAvsluttet Status = "AVSLUTTET"
	StatusFremtidig Status = "FREMTIDIG"
)

// ParseStatus accepts AKTIV, AVSLUTTET or FREMTIDIG.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusAktiv, StatusAvsluttet, StatusFremtidig:
		return st, nil
	}
	return "", fmt.Errorf("unknown arbeidsforholdstatus %q (want AKTIV, AVSLUTTET or FREMTIDIG)", s)
}

// StatusAt is the status of the ansettelsesperiode on date at: future before the
// start date, ended after the end date, otherwise active (the end date is the
// last day of the employment).
func (p Ansettelsesperiode) StatusAt(at Date) Status {
	switch {
	case p.Startdato > at:
		return StatusFremtidig
	case p.Sluttdato != nil && *p.Sluttdato < at:
		return StatusAvsluttet
	}
	return StatusAktiv
}
