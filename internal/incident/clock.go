package incident

import (
	"slices"
	"time"
)

// The breach clocks run in elapsed time, not working hours: GDPR art. 33's
// 72 hours count weekends, holidays and nights (Regulation 1182/71 art.
// 3(4) extends only periods not expressed in hours), and an hour lost or
// gained at a summer-time change is still an hour. Instants are compared as
// instants; only the portal turns them into wall-clock times.

// NotifyWithin is the longest time from awareness to the notice to Datatilsynet (Rule AV-05).
const NotifyWithin = 72 * time.Hour

// DefaultProcessorNoticeHours is the processor's duty to tell the
// controller, in hours from its own awareness, unless the data processing
// agreement says otherwise (Rule DPA-07).
const DefaultProcessorNoticeHours = 24

// Awareness is when the register's clock started (Rules AV-03, AV-05): the
// processor's awareness when a processor reported, else the register's
// recorded awareness, else — until a case worker records it — the time the
// report came in, so that no clock starts late by default.
func (b *Breach) Awareness() time.Time {
	switch {
	case b.Report.ByProcessor && !b.Report.ProcessorAwareAt.IsZero():
		return b.Report.ProcessorAwareAt
	case !b.AwareAt.IsZero():
		return b.AwareAt
	}
	return b.Report.ReportedAt
}

// NotifyDeadline is the last instant for the notice to Datatilsynet: 72
// elapsed hours after awareness (Rule AV-05). Across a summer-time change the
// wall clock shows one hour more or less than at the start.
func NotifyDeadline(aware time.Time) time.Time { return aware.Add(NotifyWithin) }

// LateReasonRequired reports whether a notice filed at filedAt must give the
// reasons for its delay: it came after the 72 hours (Rule AV-05).
func LateReasonRequired(aware, filedAt time.Time) bool {
	return filedAt.After(NotifyDeadline(aware))
}

// ProcessorDeadline is the last instant for a processor to tell the
// controller: hours (DefaultProcessorNoticeHours when 0) after the
// processor became aware (Rule DPA-07).
func ProcessorDeadline(processorAware time.Time, hours int) time.Time {
	if hours <= 0 {
		hours = DefaultProcessorNoticeHours
	}
	return processorAware.Add(time.Duration(hours) * time.Hour)
}

// ProcessorOnTime reports whether a processor's report reached the register
// within the processor's duty; true for a report that is not a processor's (Rule DPA-07).
func (b *Breach) ProcessorOnTime() bool {
	if !b.Report.ByProcessor {
		return true
	}
	return !b.Report.ReportedAt.After(ProcessorDeadline(b.Report.ProcessorAwareAt, b.ProcessorNoticeHours))
}

// DefaultReminderPoints are when the case's owner and the DPO are reminded
// of an open notification, after awareness (Rule AV-05).
func DefaultReminderPoints() []time.Duration {
	return []time.Duration{24 * time.Hour, 48 * time.Hour, 66 * time.Hour}
}

// Reminder is one reminder of the Datatilsynet deadline.
type Reminder struct {
	At      time.Time
	After   time.Duration // since awareness
	Overdue bool          // the deadline has passed
}

// Reminders are the reminder instants for awareness at aware: one at each
// point before the deadline, in order, and one when overdue.
func Reminders(aware time.Time, points []time.Duration) []Reminder {
	ps := slices.Clone(points)
	slices.Sort(ps)
	var out []Reminder
	for i, p := range ps {
		if p <= 0 || p >= NotifyWithin || (i > 0 && p == ps[i-1]) {
			continue
		}
		out = append(out, Reminder{At: aware.Add(p), After: p})
	}
	return append(out, Reminder{At: NotifyDeadline(aware), After: NotifyWithin, Overdue: true})
}

// RemindersDue are the reminders to send now: those after sentUpTo (when
// the previous run sent up to; zero at first) up to and including now,
// while the case is still open (Rule AV-05). A job calls it and records
// now as the new sentUpTo, so a reminder goes out once even if the job
// was down at its instant; only the latest of several missed is returned.
func (b *Breach) RemindersDue(points []time.Duration, sentUpTo, now time.Time) []Reminder {
	if !b.Status.Open() {
		return nil
	}
	var due []Reminder
	for _, r := range Reminders(b.Awareness(), points) {
		if r.At.After(sentUpTo) && !r.At.After(now) {
			due = append(due, r)
		}
	}
	if len(due) > 1 {
		due = due[len(due)-1:]
	}
	return due
}
