package dpa

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
)

// Delegated is what a delegation lets a processor do for a consumer: the
// channels and packages of the consumer's access it may use, and the
// agreement it rests on (Rule SK-04).
type Delegated struct {
	ID          string // the delegation's id; "" for one being created
	Consumer    string // orgnr of the controller
	Processor   string // orgnr of the processor
	Channels    []access.Channel
	Packages    []string // refs "id@version"
	AgreementID string   // the agreement it rests on; "" when none is recorded
}

// Why an agreement does not cover a delegation.
var (
	ErrNoAgreement   = errors.New("no data processing agreement")
	ErrWrongParties  = errors.New("the agreement is between other parties")
	ErrNotInForce    = errors.New("the agreement is not active and signed")
	ErrNotCovered    = errors.New("the agreement does not cover what is delegated")
	ErrEmptyDelegate = errors.New("a delegation names at least one channel and one package")
	ErrBeyondTerm    = errors.New("the delegation runs beyond the agreement's term")
)

// Check says why agreement a does not cover delegation d at now, or nil
// when it does (Rule SK-04): a is between exactly d's consumer (as
// controller) and processor, it is active with a version signed by both in
// force and within its term — not pending, stopped, ended or expired — and
// that version names every channel and every package d delegates.
func Check(a *Agreement, d Delegated, now time.Time) error {
	switch {
	case a == nil:
		return ErrNoAgreement
	case len(d.Channels) == 0 || len(d.Packages) == 0:
		return ErrEmptyDelegate
	case a.Controller != d.Consumer || a.Processor != d.Processor:
		return fmt.Errorf("agreement %s is between %s and %s: %w", a.ID, a.Controller, a.Processor, ErrWrongParties)
	case !a.ActiveAt(now):
		return fmt.Errorf("agreement %s (%s): %w", a.ID, a.Status, ErrNotInForce)
	}
	if missing := a.InForce(now).Lacks(d); len(missing) > 0 {
		return fmt.Errorf("agreement %s lacks %s: %w", a.ID, strings.Join(missing, ", "), ErrNotCovered)
	}
	return nil
}

// Lacks is what d delegates that version v does not name: channels, then
// packages; none when v covers it (Rule SK-04).
func (v *Version) Lacks(d Delegated) []string {
	var missing []string
	for _, ch := range d.Channels {
		if !slices.Contains(v.Content.Channels, ch) {
			missing = append(missing, string(ch))
		}
	}
	for _, p := range d.Packages {
		if !slices.Contains(v.Content.Packages, p) {
			missing = append(missing, p)
		}
	}
	return missing
}

// Covers reports whether agreement a covers delegation d at now (Rule SK-04).
func Covers(a *Agreement, d Delegated, now time.Time) bool { return Check(a, d, now) == nil }

// Reason is Check's error as the portal states it, in Norwegian; "" for nil.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNoAgreement):
		return "Delegeringen er ikke knyttet til en databehandleravtale."
	case errors.Is(err, ErrEmptyDelegate):
		return "En delegering gjelder minst én tilgangstype og én rettighetspakke."
	case errors.Is(err, ErrWrongParties):
		return "Databehandleravtalen er inngått mellom andre parter enn delegeringen gjelder."
	case errors.Is(err, ErrNotInForce):
		return "Databehandleravtalen er ikke aktiv og signert av begge parter (den kan være under arbeid, stanset, avsluttet eller utløpt)."
	case errors.Is(err, ErrNotCovered):
		return "Databehandleravtalen dekker ikke alle tilgangstypene og rettighetspakkene som delegeres."
	case errors.Is(err, ErrBeyondTerm):
		return "Delegeringen kan ikke gjelde lenger enn databehandleravtalen."
	}
	return "Databehandleravtalen dekker ikke delegeringen."
}

// Covering is the agreement among as that covers d at now: the one d names
// when it names one, else — for a delegation being created — any agreement
// between its parties that covers it, the newest first. It fails with
// Check's error for the agreement named, or ErrNoAgreement.
func Covering(as []Agreement, d Delegated, now time.Time) (*Agreement, error) {
	if d.AgreementID != "" {
		i := slices.IndexFunc(as, func(a Agreement) bool { return a.ID == d.AgreementID })
		if i < 0 {
			return nil, fmt.Errorf("agreement %s: %w", d.AgreementID, ErrNoAgreement)
		}
		if err := Check(&as[i], d, now); err != nil {
			return nil, err
		}
		return &as[i], nil
	}
	var best *Agreement
	for i := range as {
		if Check(&as[i], d, now) == nil && (best == nil || as[i].CreatedAt.After(best.CreatedAt)) {
			best = &as[i]
		}
	}
	if best == nil {
		return nil, ErrNoAgreement
	}
	return best, nil
}

// Gap is a delegation without a covering agreement, for the register's case workers.
type Gap struct {
	Delegation Delegated
	Err        error
	Reason     string // Err in Norwegian
	// Candidates are agreements between the same parties that would cover
	// it: a case worker may link one, but none is linked by itself.
	Candidates []string
}

// Uncovered lists the delegations ds that lack a covering agreement among
// as at now, in ds's order (Rule SK-04). A delegation that names no
// agreement is listed even when one between its parties would cover it:
// a migration never silently invents the agreement a delegation rests on;
// the candidates are named for the case worker to decide.
func Uncovered(ds []Delegated, as []Agreement, now time.Time) []Gap {
	var out []Gap
	for _, d := range ds {
		var err error
		if d.AgreementID == "" {
			err = ErrNoAgreement
		} else {
			_, err = Covering(as, d, now)
		}
		if err == nil {
			continue
		}
		g := Gap{Delegation: d, Err: err, Reason: Reason(err)}
		for i := range as {
			if as[i].ID != d.AgreementID && Check(&as[i], d, now) == nil {
				g.Candidates = append(g.Candidates, as[i].ID)
			}
		}
		out = append(out, g)
	}
	return out
}
