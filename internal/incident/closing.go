package incident

import (
	"fmt"
	"slices"
)

// NoticeState is what the store knows of carrying out the decision on the
// persons (Rule AV-06) and of the letters to the consumers (Rule AA-22), for
// the close guard (CloseMissing).
type NoticeState struct {
	// Job is the newest job notifying the persons, nil when none was started.
	Job *NotifyProgress
	// PortalOnly is how many persons on the case got the notice on their
	// page only: they have no address in the portal.
	PortalOnly int
	// PublicNotice says a public notice of the case is on the public notices page (art. 34(3)(c)).
	PublicNotice bool
	// ConsumerLetters says the letters to the affected consumers were sent (Rule AA-22).
	ConsumerLetters bool
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
//   - Rule AV-06: when the decision says the persons are notified, the job
//     has notified every person of the newest computation of who was
//     affected. A person with no address in the portal only sees the notice
//     when they sign in: that is not telling them directly, so those persons
//     are reached the way art. 34(3)(c) allows when individual notice takes
//     disproportionate effort — a public notice on the public notices page;
//   - Rule AV-06: the art. 34(3)(c) exemption is used only with its public notice published;
//   - Rule AA-22: when a computation names consumers other than the one
//     that reported, their contact persons got the letter.
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
			latest := b.LatestAffected()
			switch j := n.Job; {
			case latest == nil:
				out = append(out, "Beregn hvem som er berørt, fra oppslagsloggen, og varsle dem.")
			case j == nil || j.Computation != latest.ID:
				out = append(out, "Varsle de berørte i den nyeste beregningen av hvem som er berørt.")
			case j.Failed:
				out = append(out, "Varslingen av de berørte stanset fordi listen ikke lenger stemmer med beregningen: beregn på nytt og varsle.")
			case !j.Finished || j.Done < j.Total:
				out = append(out, fmt.Sprintf("Varslingen av de berørte er ikke ferdig (%d av %d).", j.Done, j.Total))
			case n.PortalOnly > 0 && !n.PublicNotice:
				out = append(out, fmt.Sprintf("%d berørte har ingen adresse i portalen og ser varselet bare når de logger inn: "+
					"publiser en offentlig kunngjøring (art. 34 nr. 3 c).", n.PortalOnly))
			}
		case d.Persons == PersonsExempt && d.Exemption == ExemptDisproportionate && !n.PublicNotice:
			out = append(out, "Publiser den offentlige kunngjøringen som unntaket i art. 34 nr. 3 c krever.")
		}
	}
	if b.ConsumerLettersDue() && !n.ConsumerLetters {
		out = append(out, "Send brev til kontaktpersonene hos de berørte konsumentene (AA-22).")
	}
	return out
}

// ConsumerLettersDue reports whether a computation of who was affected
// names a consumer other than the organisation that reported the breach:
// those consumers' contact persons are written to (Rule AA-22).
func (b *Breach) ConsumerLettersDue() bool {
	for _, a := range b.Affected {
		if slices.ContainsFunc(a.Consumers, func(c string) bool { return c != b.Report.ReportedBy.Org }) {
			return true
		}
	}
	return false
}
