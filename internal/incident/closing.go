package incident

import (
	"fmt"
	"slices"
	"strings"
)

// NoticeState is what the store knows of carrying out the decision on the
// persons (Rule AV-06) and of the letters to the consumers (Rule AA-22), for
// the close guard (CloseMissing).
type NoticeState struct {
	// Job is the newest job notifying the persons, nil when none was started.
	Job *NotifyProgress
	// Jobs is the newest job of each computation that has one, by the computation's id.
	Jobs map[string]NotifyProgress
	// PortalOnly is how many persons on the case got the notice on their
	// page only: they have no address in the portal.
	PortalOnly int
	// PublicNotice says a public notice of the case is on the public notices page (art. 34(3)(c)).
	PublicNotice bool
	// Lettered are the consumers (orgnr) that got a letter on the case, in
	// any phase (Rule AA-22): a letter queued to at least one recipient.
	Lettered []string
	// Names are the names of the consumers the computations name, by orgnr.
	Names map[string]string
	// NoRecipients are the consumers not yet written to that have no
	// contact person and no administrator or role holder in the portal: a
	// letter to them reaches no one (Rule AA-22).
	NoRecipients []string
}

// NotifyProgress is a notification job's progress: Done of Total persons of
// the computation of who was affected it notifies.
type NotifyProgress struct {
	Computation      string
	Total, Done      int
	Finished, Failed bool
}

// CloseMissing lists in Norwegian what keeps the case from closing (Rule
// AV-07), nil when nothing does:
//   - an immediate measure recorded, and a complete notice to Datatilsynet
//     once one was filed;
//   - Rule AV-06: when the decision says the persons are notified, a job
//     has notified every person of every computation of who was affected
//     (notifyMissing). A person with no address in the portal only sees the notice
//     when they sign in: that is not telling them directly, so those persons
//     are reached the way art. 34(3)(c) allows when individual notice takes
//     disproportionate effort — a public notice on the public notices page;
//   - Rule AV-06: the art. 34(3)(c) exemption is used only with its public notice published;
//   - Rule AA-22: every consumer a computation names, other than the one
//     that reported, got a letter (UnletteredConsumers), listed by name.
func (b *Breach) CloseMissing() []string {
	var out []string
	if len(b.Measures) == 0 {
		out = append(out, "Registrer minst ett strakstiltak.")
	}
	if b.Status == StatusNotified && !Complete(b.Filings) {
		out = append(out, "Send tilleggsmelding til Datatilsynet til meldingen er komplett.")
	}
	n := b.Notices
	if d := b.Decision; d != nil {
		switch {
		case d.Persons == PersonsNotify:
			out = append(out, b.notifyMissing()...)
		case d.Persons == PersonsExempt && d.Exemption == ExemptDisproportionate && !n.PublicNotice:
			out = append(out, "Publiser den offentlige kunngjøringen som unntaket i art. 34 nr. 3 c krever.")
		}
	}
	if missing := b.UnletteredConsumers(); len(missing) > 0 {
		// Rule AA-22: each consumer named, by name, and those no letter can reach.
		names := make([]string, len(missing))
		for i, o := range missing {
			names[i] = b.consumerName(o)
		}
		msg := "Send brev til kontaktpersonene hos de berørte konsumentene som ikke har fått det: " + strings.Join(names, ", ") + "."
		var unreachable []string
		for _, o := range missing {
			if slices.Contains(n.NoRecipients, o) {
				unreachable = append(unreachable, b.consumerName(o))
			}
		}
		if len(unreachable) > 0 {
			msg += " Disse har ingen kontaktperson, administrator eller rolleinnehaver å sende brevet til, og må få en først: " + strings.Join(unreachable, ", ") + "."
		}
		out = append(out, msg)
	}
	return out
}

// notifyMissing is what keeps the persons' notices from being done (Rule
// AV-06): every computation of who was affected that names someone, and
// that no later computation of the same scope supersedes, needs a finished
// job. A finished job leaves every person of its list with a notice (a
// person notified before is skipped), so every person any computation named
// has one; a computation of no persons needs none.
func (b *Breach) notifyMissing() []string {
	if len(b.Affected) == 0 {
		return []string{"Beregn hvem som er berørt, fra oppslagsloggen, og varsle dem."}
	}
	var out []string
	for i, a := range b.Affected {
		if a.Persons == 0 || slices.ContainsFunc(b.Affected[i+1:], func(l AffectedCount) bool { return sameScope(a, l) }) {
			continue
		}
		j, ok := b.Notices.Jobs[a.ID]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("Varsle de %d berørte i beregning %s.", a.Persons, a.ID))
		case j.Failed:
			out = append(out, "Varslingen av de berørte stanset fordi listen ikke lenger stemmer med beregningen: beregn på nytt og varsle.")
		case !j.Finished || j.Done < j.Total:
			out = append(out, fmt.Sprintf("Varslingen av de berørte er ikke ferdig (%d av %d).", j.Done, j.Total))
		}
	}
	if n := b.Notices; len(out) == 0 && n.PortalOnly > 0 && !n.PublicNotice {
		out = append(out, fmt.Sprintf("%d berørte har ingen adresse i portalen og ser varselet bare når de logger inn: "+
			"publiser en offentlig kunngjøring (art. 34 nr. 3 c).", n.PortalOnly))
	}
	return out
}

// sameScope says a and b counted the same lookups (at their own checkpoints).
func sameScope(a, b AffectedCount) bool {
	return a.Consumer == b.Consumer && a.ClientID == b.ClientID && a.EndUser == b.EndUser && a.From.Equal(b.From) && a.To.Equal(b.To)
}

// UnletteredConsumers are the consumers a computation of who was affected
// names, other than the organisation that reported the breach, that have
// not got a letter on the case (Rule AA-22), sorted.
func (b *Breach) UnletteredConsumers() []string {
	var out []string
	for _, a := range b.Affected {
		for _, c := range a.Consumers {
			if c != b.Report.ReportedBy.Org && !slices.Contains(b.Notices.Lettered, c) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// consumerName is "Name (org.nr. X)", or the orgnr alone when the name is unknown.
func (b *Breach) consumerName(orgnr string) string {
	if n := b.Notices.Names[orgnr]; n != "" {
		return n + " (org.nr. " + orgnr + ")"
	}
	return "org.nr. " + orgnr
}
