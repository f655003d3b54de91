package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Priority is a service incident's priority, set by the register (Rule AA-19).
type Priority string

// Priorities.
const (
	PriorityA Priority = "A" // critical: first notice within 15 minutes, reaction within 2 working hours
	PriorityB Priority = "B" // serious: 1 hour, 8 working hours
	PriorityC Priority = "C" // minor: 1 working day, 5 working days
)

// Priorities lists the priorities, most urgent first.
func Priorities() []Priority { return []Priority{PriorityA, PriorityB, PriorityC} }

// ParsePriority accepts "A", "B" or "C".
func ParsePriority(s string) (Priority, error) {
	if p := Priority(strings.ToUpper(strings.TrimSpace(s))); slices.Contains(Priorities(), p) {
		return p, nil
	}
	return "", fmt.Errorf("unknown priority %q", s)
}

// Label is the priority in the portal.
func (p Priority) Label() string {
	switch p {
	case PriorityA:
		return "A – kritisk"
	case PriorityB:
		return "B – alvorlig"
	case PriorityC:
		return "C – mindre alvorlig"
	}
	return string(p)
}

// Targets are the priority's first-notice and reaction times (Rule AA-19).
// The first notice of A and B is elapsed time (the terms say minutes and an
// hour, not working time); the rest count in the working calendar.
func (p Priority) Targets() (firstNotice, reaction Span) {
	switch p {
	case PriorityA:
		return Span{Elapsed: 15 * time.Minute}, Span{WorkHours: 2 * time.Hour}
	case PriorityB:
		return Span{Elapsed: time.Hour}, Span{WorkHours: 8 * time.Hour}
	case PriorityC:
		return Span{WorkDays: 1}, Span{WorkDays: 5}
	}
	return Span{}, Span{}
}

// ServiceIncident is a fault in the service reported by a consumer or the
// register's staff (Rules AA-18, AA-19). The clocks run from ReportedAt.
type ServiceIncident struct {
	ID            string
	Title         string
	Description   string
	Priority      Priority
	ReportedBy    Actor
	ReportedAt    time.Time
	FirstNoticeAt time.Time // the first operational notice; zero until sent
	ReactedAt     time.Time // reaction: someone is working on it; zero until then
	ResolvedAt    time.Time
	// The priority in force when the first notice was sent and when the
	// reaction came: a result measured stays measured under it when the
	// priority changes later (Rule AA-19). "" before, or from before they were kept.
	FirstNoticePriority, ReactedPriority Priority
}

// measuredUnder is the priority a clock is judged by: the one in force when
// it stopped (at), else the current one.
func (s *ServiceIncident) measuredUnder(at time.Time, then Priority) Priority {
	if !at.IsZero() && then != "" {
		return then
	}
	return s.Priority
}

// Field names of the service-incident form.
const (
	FieldTitle       = "tittel"
	FieldDescription = "beskrivelse"
	FieldPriority    = "prioritet"
)

// Validate lists what keeps the incident from being recorded, by field, in
// Norwegian. A reporter leaves the priority empty; the register sets it.
func (s *ServiceIncident) Validate() map[string]string {
	s.Title, s.Description = strings.TrimSpace(s.Title), strings.TrimSpace(s.Description)
	bad := map[string]string{}
	switch {
	case s.Title == "":
		bad[FieldTitle] = "Skriv en kort tittel."
	case tooLong(s.Title, maxShort):
		bad[FieldTitle] = tooLongMsg(maxShort)
	}
	switch {
	case s.Description == "":
		bad[FieldDescription] = "Beskriv feilen."
	case tooLong(s.Description, maxLong):
		bad[FieldDescription] = tooLongMsg(maxLong)
	}
	if s.Priority != "" && !slices.Contains(Priorities(), s.Priority) {
		bad[FieldPriority] = "Velg prioritet A, B eller C."
	}
	return bad
}

// FirstNoticeBy is when the first notice is due (Rule AA-19); zero without a priority.
// Once sent, it is judged under the priority then in force (Rule AA-19).
func (s *ServiceIncident) FirstNoticeBy(c *Calendar) time.Time {
	p := s.measuredUnder(s.FirstNoticeAt, s.FirstNoticePriority)
	if p == "" {
		return time.Time{}
	}
	first, _ := p.Targets()
	return c.Add(s.ReportedAt, first)
}

// ReactionBy is when the reaction is due (Rule AA-19); zero without a priority.
// Once reacted, it is judged under the priority then in force (Rule AA-19).
func (s *ServiceIncident) ReactionBy(c *Calendar) time.Time {
	p := s.measuredUnder(s.ReactedAt, s.ReactedPriority)
	if p == "" {
		return time.Time{}
	}
	_, reaction := p.Targets()
	return c.Add(s.ReportedAt, reaction)
}
