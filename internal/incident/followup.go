package incident

import (
	"slices"
	"strings"
	"time"
)

// LessonArea is one of the questions the seed asks after a breach (punkt 5,
// Rule AV-08).
type LessonArea string

// Lesson areas, in the seed's order.
const (
	LessonWhyFailed LessonArea = "hvorfor"      // why existing measures did not prevent it
	LessonSystems   LessonArea = "systemer"     // systems and governing documents to change
	LessonControls  LessonArea = "kontroll"     // whether control was sufficient
	LessonSuppliers LessonArea = "leverandorer" // whether suppliers should be replaced
	LessonAwareness LessonArea = "bevissthet"   // whether staff knew it could happen
	LessonTraining  LessonArea = "opplaering"   // need for more training
	LessonResources LessonArea = "ressurser"    // whether enough resources were set aside
)

// LessonAreas lists every area in order.
func LessonAreas() []LessonArea {
	return []LessonArea{LessonWhyFailed, LessonSystems, LessonControls, LessonSuppliers,
		LessonAwareness, LessonTraining, LessonResources}
}

// Label is the area's question in the portal.
func (a LessonArea) Label() string {
	switch a {
	case LessonWhyFailed:
		return "Hvorfor hindret ikke eksisterende tiltak avviket?"
	case LessonSystems:
		return "Bør systemer eller styrende dokumenter endres?"
	case LessonControls:
		return "Har det vært tilstrekkelig kontroll?"
	case LessonSuppliers:
		return "Bør leverandører eller tjenestetilbydere byttes ut?"
	case LessonAwareness:
		return "Var ansatte og innleide klar over at avviket kunne oppstå?"
	case LessonTraining:
		return "Trengs mer opplæring?"
	case LessonResources:
		return "Var det satt av nok ressurser?"
	}
	return string(a)
}

// FollowUpItem is one action from the learning follow-up, with an owner
// and a due date; reminders run until it is done (Rule AV-08).
type FollowUpItem struct {
	Area    LessonArea
	Finding string // the answer to the area's question
	Action  string // what will be done
	Owner   string // who sees to it
	Due     time.Time
	DoneAt  time.Time
}

// Field names of the follow-up form.
const (
	FieldArea    = "omrade"
	FieldFinding = "funn"
	FieldAction  = "oppfolgingstiltak"
	FieldOwner   = "ansvarlig"
	FieldDue     = "frist"
)

// Validate lists what keeps the item from being recorded, by field, in Norwegian.
func (it *FollowUpItem) Validate(now time.Time) map[string]string {
	it.Finding, it.Action, it.Owner = strings.TrimSpace(it.Finding), strings.TrimSpace(it.Action), strings.TrimSpace(it.Owner)
	bad := map[string]string{}
	if !slices.Contains(LessonAreas(), it.Area) {
		bad[FieldArea] = "Velg område fra listen."
	}
	if it.Finding == "" {
		bad[FieldFinding] = "Skriv hva vurderingen viste."
	}
	if it.Action == "" {
		bad[FieldAction] = "Skriv hvilket tiltak som skal gjennomføres."
	}
	if it.Owner == "" {
		bad[FieldOwner] = "Oppgi hvem som er ansvarlig."
	}
	switch {
	case it.Due.IsZero():
		bad[FieldDue] = "Oppgi en frist."
	case it.DoneAt.IsZero() && it.Due.Before(now):
		bad[FieldDue] = "Fristen kan ikke ha passert."
	}
	for k, v := range map[string]string{FieldFinding: it.Finding, FieldAction: it.Action} {
		if tooLong(v, maxLong) {
			bad[k] = tooLongMsg(maxLong)
		}
	}
	if tooLong(it.Owner, maxShort) {
		bad[FieldOwner] = tooLongMsg(maxShort)
	}
	return bad
}

// Overdue lists the items not done whose due date has passed at now, oldest first.
func Overdue(items []FollowUpItem, now time.Time) []FollowUpItem {
	var out []FollowUpItem
	for _, it := range items {
		if it.DoneAt.IsZero() && now.After(it.Due) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b FollowUpItem) int { return a.Due.Compare(b.Due) })
	return out
}

// AllDone reports whether there is a follow-up and every item is done.
func AllDone(items []FollowUpItem) bool {
	return len(items) > 0 && !slices.ContainsFunc(items, func(it FollowUpItem) bool { return it.DoneAt.IsZero() })
}

// FollowUpEvery is how often the reminder of an overdue follow-up repeats (Rule AV-08).
const FollowUpEvery = 7 * 24 * time.Hour

// FollowUpReminderDue is the instant of the follow-up reminder to send at
// now, zero when none: a closed case reminds at each item's due date and at
// its review date, and again every FollowUpEvery while any of them is
// overdue, until the follow-up is done (Rule AV-08). sentUpTo is how far
// reminders were sent; only the latest instant in (sentUpTo, now] is
// returned, so a job that was down sends one reminder, not a backlog.
func (b *Breach) FollowUpReminderDue(sentUpTo, now time.Time) time.Time {
	if b.Status != StatusClosed {
		return time.Time{}
	}
	var latest time.Time
	for _, d := range b.Due() {
		if d.What != DueFollowUp && d.What != DueReview || d.At.After(now) {
			continue
		}
		at := d.At.Add(now.Sub(d.At) / FollowUpEvery * FollowUpEvery) // the latest repetition at or before now
		if at.After(sentUpTo) && at.After(latest) {
			latest = at
		}
	}
	return latest
}
