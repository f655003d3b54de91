package incident

import (
	"cmp"
	"slices"
	"time"
)

// DueKind is what falls due.
type DueKind string

// Due kinds, in the order they are listed when due at the same instant.
const (
	DueNotifyDT    DueKind = "melding_datatilsynet" // Rule AV-05
	DueFirstNotice DueKind = "forste_varsel"        // Rule AA-19
	DueReaction    DueKind = "reaksjon"             // Rule AA-19
	DueFollowUp    DueKind = "oppfolging"           // Rule AV-08
	DueReview      DueKind = "evaluering"           // Rule AV-08: the review date
)

var dueOrder = []DueKind{DueNotifyDT, DueFirstNotice, DueReaction, DueFollowUp, DueReview}

// Label is the kind in the portal.
func (k DueKind) Label() string {
	switch k {
	case DueNotifyDT:
		return "Melding til Datatilsynet"
	case DueFirstNotice:
		return "Første varsel"
	case DueReaction:
		return "Reaksjon"
	case DueFollowUp:
		return "Oppfølgingstiltak"
	case DueReview:
		return "Evaluering av tiltakene"
	}
	return string(k)
}

// Due is one deadline still to be met on a case.
type Due struct {
	CaseID string
	What   DueKind
	At     time.Time
	Note   string // e.g. the follow-up item's action
}

// Overdue reports whether the deadline has passed at now.
func (d Due) Overdue(now time.Time) bool { return now.After(d.At) }

// Left is the time left at now, negative when overdue.
func (d Due) Left(now time.Time) time.Duration { return d.At.Sub(now) }

// Due lists the breach's deadlines not yet met: the notice to Datatilsynet
// while the case is open (Rule AV-05), the follow-up items not done and the
// review date of a closed case whose follow-up is not finished (Rule AV-08).
func (b *Breach) Due() []Due {
	var out []Due
	if b.Status.Open() {
		out = append(out, Due{CaseID: b.ID, What: DueNotifyDT, At: NotifyDeadline(b.Awareness())})
	}
	for _, it := range b.FollowUp {
		if it.DoneAt.IsZero() {
			out = append(out, Due{CaseID: b.ID, What: DueFollowUp, At: it.Due, Note: it.Action})
		}
	}
	if b.Status == StatusClosed && !b.ReviewAt.IsZero() {
		out = append(out, Due{CaseID: b.ID, What: DueReview, At: b.ReviewAt})
	}
	return out
}

// Due lists the service incident's deadlines not yet met (Rule AA-19).
func (s *ServiceIncident) Due(c *Calendar) []Due {
	if s.Priority == "" {
		return nil
	}
	var out []Due
	if s.FirstNoticeAt.IsZero() {
		out = append(out, Due{CaseID: s.ID, What: DueFirstNotice, At: s.FirstNoticeBy(c)})
	}
	if s.ReactedAt.IsZero() {
		out = append(out, Due{CaseID: s.ID, What: DueReaction, At: s.ReactionBy(c)})
	}
	return out
}

// SortDue orders deadlines by what is due first: by instant, then kind,
// then case, so that the case list is the same on every load.
func SortDue(ds []Due) {
	slices.SortStableFunc(ds, func(a, b Due) int {
		return cmp.Or(a.At.Compare(b.At),
			cmp.Compare(slices.Index(dueOrder, a.What), slices.Index(dueOrder, b.What)),
			cmp.Compare(a.CaseID, b.CaseID))
	})
}
