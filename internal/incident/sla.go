package incident

import (
	"cmp"
	"slices"
	"time"
)

// SLA is the service incidents' compliance with their targets in one
// quarter for one priority (Rule AA-19). An incident belongs to the quarter
// it was reported in, in the calendar's location. A target is met when done
// by its deadline, missed when done later or still not done past it, and
// pending while not done and not yet due; pending ones count in neither rate.
type SLA struct {
	Year, Quarter                        int
	Priority                             Priority
	Incidents                            int
	FirstNoticeMet, FirstNoticeMissed    int
	ReactionMet, ReactionMissed, Pending int
}

// FirstNoticeRate is the share of decided first notices that were on time; 1 when none were decided.
func (s SLA) FirstNoticeRate() float64 { return rate(s.FirstNoticeMet, s.FirstNoticeMissed) }

// ReactionRate is the share of decided reactions that were on time; 1 when none were decided.
func (s SLA) ReactionRate() float64 { return rate(s.ReactionMet, s.ReactionMissed) }

func rate(met, missed int) float64 {
	if met+missed == 0 {
		return 1
	}
	return float64(met) / float64(met+missed)
}

// QuarterOf is the year and quarter (1–4) of t in loc.
func QuarterOf(t time.Time, loc *time.Location) (year, quarter int) {
	t = t.In(loc)
	return t.Year(), (int(t.Month())-1)/3 + 1
}

type outcome int

const (
	pending outcome = iota
	met
	missed
)

func judge(done, deadline, now time.Time) outcome {
	switch {
	case !done.IsZero() && !done.After(deadline):
		return met
	case !done.IsZero() || now.After(deadline):
		return missed
	}
	return pending
}

// Compliance aggregates incidents with a priority by quarter and priority,
// oldest quarter first, A before C. now decides which open ones are missed.
// An incident counts under its current priority, but a first notice or a
// reaction already done counts under the priority it was measured under, so
// that changing the priority later does not rewrite it (Rule AA-19).
func Compliance(incs []ServiceIncident, c *Calendar, now time.Time) []SLA {
	type key struct {
		y, q int
		p    Priority
	}
	m := map[key]*SLA{}
	for i := range incs {
		s := &incs[i]
		if s.Priority == "" {
			continue
		}
		y, q := QuarterOf(s.ReportedAt, c.Location())
		bucket := func(p Priority) *SLA {
			k := key{y, q, p}
			if m[k] == nil {
				m[k] = &SLA{Year: y, Quarter: q, Priority: p}
			}
			return m[k]
		}
		agg := bucket(s.Priority)
		agg.Incidents++
		fo, ro := judge(s.FirstNoticeAt, s.FirstNoticeBy(c), now), judge(s.ReactedAt, s.ReactionBy(c), now)
		first, reaction := bucket(s.measuredUnder(s.FirstNoticeAt, s.FirstNoticePriority)), bucket(s.measuredUnder(s.ReactedAt, s.ReactedPriority))
		switch fo {
		case met:
			first.FirstNoticeMet++
		case missed:
			first.FirstNoticeMissed++
		}
		switch ro {
		case met:
			reaction.ReactionMet++
		case missed:
			reaction.ReactionMissed++
		}
		if fo == pending || ro == pending {
			agg.Pending++
		}
	}
	out := make([]SLA, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SLA) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Quarter, b.Quarter), cmp.Compare(a.Priority, b.Priority))
	})
	return out
}
