package register

import (
	"errors"
	"fmt"
	"slices"
)

// Query is the criteria of an arbeidsforhold search: any combination of
// arbeidstaker, arbeidssted and opplysningspliktig, with the filters of the real
// API (research/aareg-api.md §7.2). Empty filter lists mean "no filter" here;
// the API layer decides which lists it requires.
type Query struct {
	UUID                   string
	Arbeidstaker           string
	Arbeidssted            string
	Opplysningspliktig     string
	Types                  []string // arbeidsforholdtype codes
	Statuses               []Status // evaluated at At
	Rapporteringsordninger []string
	At                     Date   // the date statuses are evaluated at; required when Statuses is set
	After                  string // keyset cursor: the last uuid of the previous page
	Limit                  int    // 0 means DefaultPageSize
	// Screened keeps only records whose employee, and private employer if any,
	// is in the person register without a protected address (Rule AA-11). A
	// person the register does not know cannot be known to be unprotected.
	Screened bool
}

// Page sizes for searches.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ErrNoCriteria is returned for a query that names no person or organisation.
var ErrNoCriteria = errors.New("query names no arbeidsforhold, arbeidstaker, arbeidssted or opplysningspliktig")

// ErrUnavailable is returned (wrapped) by a store that cannot read the
// register now, such as a read replica that is down or too far behind: the
// caller answers 503 and may try again, and never answers without the register.
var ErrUnavailable = errors.New("the register is unavailable")

// Validate checks the query's form and fills in defaults; it does not check identifiers,
// which the caller parses with package ident before building the query.
func (q *Query) Validate() error {
	if q.UUID == "" && q.Arbeidstaker == "" && q.Arbeidssted == "" && q.Opplysningspliktig == "" {
		return ErrNoCriteria
	}
	for _, t := range q.Types {
		if _, ok := Kodeverk.Lookup(KodeverkArbeidsforholdstyper, t); !ok {
			return fmt.Errorf("unknown arbeidsforholdtype %q", t)
		}
	}
	for _, r := range q.Rapporteringsordninger {
		if _, ok := Kodeverk.Lookup(KodeverkRapporteringsordninger, r); !ok {
			return fmt.Errorf("unknown rapporteringsordning %q", r)
		}
	}
	for _, s := range q.Statuses {
		if _, err := ParseStatus(string(s)); err != nil {
			return err
		}
	}
	if len(q.Statuses) > 0 {
		if err := checkDate(q.At); err != nil {
			return fmt.Errorf("status date: %w", err)
		}
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return fmt.Errorf("page size %d out of range 1-%d", q.Limit, MaxPageSize)
	}
	q.Types = dedupe(q.Types)
	q.Rapporteringsordninger = dedupe(q.Rapporteringsordninger)
	q.Statuses = dedupe(q.Statuses)
	return nil
}

// Matches reports whether a satisfies the query's criteria and filters (not
// the cursor). The store filters in SQL; this is the reference the store's
// tests compare against.
func (q *Query) Matches(a *Arbeidsforhold) bool {
	if q.UUID != "" && a.UUID != q.UUID {
		return false
	}
	if q.Arbeidstaker != "" && a.ArbeidstakerIdent() != q.Arbeidstaker {
		return false
	}
	if q.Arbeidssted != "" && a.ArbeidsstedIdent() != q.Arbeidssted {
		return false
	}
	if q.Opplysningspliktig != "" && a.OpplysningspliktigIdent() != q.Opplysningspliktig {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, a.Type.Kode) {
		return false
	}
	if len(q.Rapporteringsordninger) > 0 && !slices.Contains(q.Rapporteringsordninger, a.Rapporteringsordning.Kode) {
		return false
	}
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, a.Ansettelsesperiode.StatusAt(q.At)) {
		return false
	}
	return true
}

func dedupe[T comparable](xs []T) []T {
	var out []T
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
