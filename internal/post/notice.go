package post

import (
	"fmt"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
)

// Rule DPV-08: planned maintenance of the post service is announced at least
// 5 working days ahead, and interface changes that senders must act on at
// least 6 months ahead. Working days are Norway's (incident.Calendar).
//
// Counting: the day of the notice does not count; the 5th working day after
// it is the first day maintenance may start (from midnight). A notice on
// Monday allows maintenance from the next Monday when no holiday falls
// between; Easter, 1 and 17 May and the other public holidays push it on.

// OpsRules are the lead times of Rule DPV-08.
type OpsRules struct {
	MaintenanceWorkDays   int // 5
	InterfaceChangeMonths int // 6
}

// DefaultOps is DPV-08's 5 working days and 6 months.
func DefaultOps() OpsRules { return OpsRules{MaintenanceWorkDays: 5, InterfaceChangeMonths: 6} }

// EarliestMaintenance is the first instant planned maintenance announced at
// published may start: midnight at the end of the n-th working day after the notice's day.
func EarliestMaintenance(cal *incident.Calendar, published time.Time, n int) time.Time {
	return governance.EarliestWorkday(cal, published, n)
}

// CheckMaintenance says whether maintenance starting at start may be
// announced at published, nil if so.
func CheckMaintenance(cal *incident.Calendar, published, start time.Time, rules OpsRules) *Problem {
	earliest := EarliestMaintenance(cal, published, rules.MaintenanceWorkDays)
	if start.Before(earliest) {
		return problem(0, "start",
			fmt.Sprintf("Planned maintenance must be announced at least %d working days ahead: start on %s or later",
				rules.MaintenanceWorkDays, earliest.Format("2006-01-02")),
			fmt.Sprintf("Planlagt vedlikehold må varsles minst %d virkedager før det begynner: tidligst %s.",
				rules.MaintenanceWorkDays, earliest.Format("02.01.2006")))
	}
	return nil
}

// EarliestInterfaceChange is the first instant an interface change that
// senders must act on, announced at published, may take effect.
func EarliestInterfaceChange(published time.Time, loc *time.Location, months int) time.Time {
	return published.In(loc).AddDate(0, months, 0)
}

// CheckInterfaceChange says whether an interface change taking effect at
// effective may be announced at published, nil if so.
func CheckInterfaceChange(published, effective time.Time, loc *time.Location, rules OpsRules) *Problem {
	earliest := EarliestInterfaceChange(published, loc, rules.InterfaceChangeMonths)
	if effective.Before(earliest) {
		return problem(0, "effective",
			fmt.Sprintf("Interface changes senders must act on are announced at least %d months ahead: %s or later",
				rules.InterfaceChangeMonths, earliest.Format("2006-01-02")),
			fmt.Sprintf("Endringer i grensesnittet som krever endringer hos avsendere må varsles minst %d måneder før: tidligst %s.",
				rules.InterfaceChangeMonths, earliest.Format("02.01.2006")))
	}
	return nil
}
