package dpa

import (
	"slices"
	"strings"
	"time"
)

// StopOrder is the controller's order to stop processing at once (Rule
// DPA-11; template § 12.2). The delegations resting on the agreement are
// suspended in the same transaction, so the processor's next token request
// and API call are refused; only the controller's new decision resumes.
type StopOrder struct {
	OrderedBy     string // actor
	OrderedByName string
	OrderedAt     time.Time
	Reason        string
	// ResumedBy, ResumedAt and ResumeReason are the controller's new decision, once made.
	ResumedBy    string
	ResumedAt    time.Time
	ResumeReason string
}

// Field names of the stop, the end and the certificate.
const (
	FieldStopReason   = "stans_begrunnelse"
	FieldResumeReason = "gjenoppta_begrunnelse"
	FieldEndReason    = "avslutt_begrunnelse"
	FieldEndChoice    = "sletting_eller_tilbakelevering"
	FieldCertWhat     = "sletting_hva"
	FieldCertHow      = "sletting_hvordan"
	FieldCertWhen     = "sletting_tidspunkt"
	FieldCertBy       = "sletting_utfort_av"
	FieldCertBackups  = "sletting_sikkerhetskopier"
)

// ValidateStop says what a stop order lacks, by form field: the reason, in writing.
func ValidateStop(reason string) map[string]string {
	return reasonCheck(FieldStopReason, reason, "Skriv hvorfor behandlingen skal stanses.")
}

// ValidateResume says what the decision to resume lacks: the controller's reason, in writing (Rule DPA-11).
func ValidateResume(reason string) map[string]string {
	return reasonCheck(FieldResumeReason, reason, "Skriv beslutningen om å gjenoppta behandlingen, med begrunnelse.")
}

func reasonCheck(field, reason, missing string) map[string]string {
	switch r := strings.TrimSpace(reason); {
	case r == "":
		return map[string]string{field: missing}
	case tooLong(r, maxLong):
		return map[string]string{field: tooLongMsg(maxLong)}
	}
	return map[string]string{}
}

// EndChoice is the controller's choice at the end: delete, or return then delete (template § 12.3).
type EndChoice string

// End choices.
const (
	ChoiceDelete EndChoice = "slette"
	ChoiceReturn EndChoice = "tilbakelevere"
)

// Label is the choice in the portal.
func (c EndChoice) Label() string {
	switch c {
	case ChoiceDelete:
		return "Slette alle personopplysninger"
	case ChoiceReturn:
		return "Tilbakelevere alle personopplysninger og slette kopier"
	}
	return string(c)
}

// Ending is the agreement's end (Rule DPA-10): who ended it, when, why, the
// controller's choice, and the date by which the processor must have deleted
// or returned all data, backups included, and confirmed it in writing.
type Ending struct {
	EndedBy     string // actor
	EndedByName string
	Side        Side
	EndedAt     time.Time
	Reason      string
	Choice      EndChoice
	DeletionDue time.Time
}

// ValidateEnd says what an end lacks, by form field: its reason and, from the controller, the choice.
func ValidateEnd(e *Ending) map[string]string {
	bad := reasonCheck(FieldEndReason, e.Reason, "Skriv hvorfor avtalen avsluttes.")
	switch e.Choice {
	case ChoiceDelete, ChoiceReturn:
	case "":
		if e.Side == Controller {
			bad[FieldEndChoice] = "Velg om databehandleren skal slette eller tilbakelevere opplysningene."
		}
	default:
		bad[FieldEndChoice] = "Velg sletting eller tilbakelevering."
	}
	return bad
}

// DeletionDue is the last instant for the deletion certificate: the end of
// the calendar day (Oslo) days after the agreement ended (Rule DPA-10).
func DeletionDue(endedAt time.Time, days int) time.Time {
	d := endedAt.In(oslo())
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, d.Location())
	return start.AddDate(0, 0, days+1)
}

// DeletionCertificate is the processor's written confirmation that all
// data, backups included, is deleted or returned (Rule DPA-10; SCC clause
// 10(d)): what, how, when, by whom, signed by its role holder.
type DeletionCertificate struct {
	What            string    // which data, in which systems
	How             string    // the method: deletion, overwriting, return in which format
	DoneAt          time.Time // when the deletion was completed
	DoneBy          string    // who performed it
	BackupsIncluded bool      // the backups are deleted too
	SignedBy        string    // actor: the processor's role holder
	SignedByName    string
	SignedAt        time.Time
}

// Validate lists what keeps the certificate from being filed, by form
// field, in Norwegian. now is the time of filing; endedAt the agreement's end.
func (c *DeletionCertificate) Validate(endedAt, now time.Time) map[string]string {
	c.What, c.How, c.DoneBy = clean(c.What), clean(c.How), clean(c.DoneBy)
	bad := map[string]string{}
	if c.What == "" {
		bad[FieldCertWhat] = "Beskriv hvilke opplysninger som er slettet eller tilbakelevert, og fra hvilke systemer."
	} else if tooLong(c.What, maxLong) {
		bad[FieldCertWhat] = tooLongMsg(maxLong)
	}
	if c.How == "" {
		bad[FieldCertHow] = "Beskriv hvordan opplysningene er slettet eller tilbakelevert."
	} else if tooLong(c.How, maxLong) {
		bad[FieldCertHow] = tooLongMsg(maxLong)
	}
	switch {
	case c.DoneAt.IsZero():
		bad[FieldCertWhen] = "Oppgi når slettingen ble fullført."
	case c.DoneAt.After(now):
		bad[FieldCertWhen] = "Tidspunktet kan ikke være frem i tid."
	case c.DoneAt.Before(endedAt):
		bad[FieldCertWhen] = "Slettingen kan ikke være fullført før avtalen ble avsluttet."
	}
	if c.DoneBy == "" {
		bad[FieldCertBy] = "Oppgi hvem som utførte slettingen."
	} else if tooLong(c.DoneBy, maxShort) {
		bad[FieldCertBy] = tooLongMsg(maxShort)
	}
	// Rule DPA-10: backups included.
	if !c.BackupsIncluded {
		bad[FieldCertBackups] = "Bekreft at også sikkerhetskopier er slettet. Slettingen er ikke fullført før de er det."
	}
	return bad
}

// DefaultDeletionReminders are when the processor is reminded before the deletion is due.
func DefaultDeletionReminders() []time.Duration {
	return []time.Duration{14 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}
}

// Reminder is one reminder of the deletion deadline: before it to the
// processor, and once overdue to the controller and the register.
type Reminder struct {
	At      time.Time
	Before  time.Duration // before the deadline; 0 for the overdue one
	Overdue bool
}

// Reminders are the reminder instants for a deadline at due: one at each
// point before it, in time order, and one when overdue.
func Reminders(due time.Time, before []time.Duration) []Reminder {
	ps := slices.Clone(before)
	slices.Sort(ps)
	slices.Reverse(ps) // the longest lead first, so the instants run in order
	var out []Reminder
	for i, p := range ps {
		if p <= 0 || (i > 0 && p == ps[i-1]) {
			continue
		}
		out = append(out, Reminder{At: due.Add(-p), Before: p})
	}
	return append(out, Reminder{At: due, Overdue: true})
}

// RemindersDue are the reminders of an ended agreement to send now: those
// after sentUpTo (when the previous run sent up to; zero at first) up to
// and including now, while no certificate is filed (Rule DPA-10). A job
// calls it and records now as the new sentUpTo, so a reminder goes out
// once even if the job was down at its instant; only the latest of several
// missed is returned. Reminders before the ending itself are never due.
func (a *Agreement) RemindersDue(before []time.Duration, sentUpTo, now time.Time) []Reminder {
	if a.Status != StatusEnded || a.Ending == nil || a.Deletion != nil {
		return nil
	}
	var due []Reminder
	for _, r := range Reminders(a.Ending.DeletionDue, before) {
		if r.At.After(sentUpTo) && !r.At.After(now) && !r.At.Before(a.Ending.EndedAt) {
			due = append(due, r)
		}
	}
	if len(due) > 1 {
		due = due[len(due)-1:]
	}
	return due
}

// Overdue reports whether the deletion certificate is late at now: the
// agreement ended, the due instant has passed, and none is filed — flagged
// to the controller and the register (Rule DPA-10).
func (a *Agreement) Overdue(now time.Time) bool {
	return a.Status == StatusEnded && a.Ending != nil && a.Deletion == nil && !now.Before(a.Ending.DeletionDue)
}
