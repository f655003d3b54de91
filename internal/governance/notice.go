package governance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"deling/internal/incident"
)

// NoticeKind is what a notice (driftsmelding) is about (Rules AA-15, AA-20, AA-23, AA-24).
type NoticeKind string

// The kinds of notice.
const (
	NoticeNews      NoticeKind = "nyhet"
	NoticeDowntime  NoticeKind = "planlagt_nedetid" // Rule AA-15: at least DowntimeNotice ahead
	NoticeStandard  NoticeKind = "endring_standard" // Rule AA-23: announced as news after release
	NoticeNormal    NoticeKind = "endring_normal"   // Rule AA-23: an API version change; the old version lives DeprecationMonths
	NoticeEmergency NoticeKind = "endring_akutt"    // Rule AA-23: announced as soon as known
	NoticeTerms     NoticeKind = "vilkår"           // Rule AA-24: a new terms version; made when terms are published
	// Digital post (Rule DPV-08): planned maintenance of the post service, at
	// least 5 working days ahead; an interface change senders must act on, at
	// least 6 months before it takes effect (Sunset is when).
	NoticePostMaintenance NoticeKind = "post_vedlikehold"
	NoticePostInterface   NoticeKind = "post_grensesnitt"
)

// NoticeKinds lists every kind in the order the portal shows them.
func NoticeKinds() []NoticeKind {
	return []NoticeKind{NoticeNews, NoticeDowntime, NoticeStandard, NoticeNormal, NoticeEmergency, NoticeTerms,
		NoticePostMaintenance, NoticePostInterface}
}

// ParseNoticeKind accepts a kind's name.
func ParseNoticeKind(s string) (NoticeKind, error) {
	if k := NoticeKind(s); slices.Contains(NoticeKinds(), k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown notice kind %q", s)
}

// Manual reports whether staff write notices of the kind themselves; a terms
// notice is made by publishing terms.
func (k NoticeKind) Manual() bool { return k != NoticeTerms && slices.Contains(NoticeKinds(), k) }

// Label is the kind's name in the portal.
func (k NoticeKind) Label() string {
	switch k {
	case NoticeNews:
		return "Nyhet"
	case NoticeDowntime:
		return "Planlagt nedetid"
	case NoticeStandard:
		return "Standardendring"
	case NoticeNormal:
		return "Endring av API-versjon"
	case NoticeEmergency:
		return "Akutt endring"
	case NoticeTerms:
		return "Nye vilkår"
	case NoticePostMaintenance:
		return "Vedlikehold av digital post"
	case NoticePostInterface:
		return "Endring i grensesnittet for digital post"
	}
	return string(k)
}

// Color is the kind's ds-tag colour.
func (k NoticeKind) Color() string {
	switch k {
	case NoticeDowntime, NoticeNormal, NoticeTerms, NoticePostMaintenance, NoticePostInterface:
		return "warning"
	case NoticeEmergency:
		return "danger"
	case NoticeStandard:
		return "success"
	}
	return "info"
}

// Notice is a news item or operational notice (Rule AA-20).
type Notice struct {
	ID          string
	Kind        NoticeKind
	Title       string
	Body        string // plain text; a blank line separates paragraphs
	PublishedAt time.Time
	PublishedBy string
	// Planned downtime: when it starts and ends (Rule AA-15).
	Start, End *time.Time
	// A normal change (Rule AA-23): the path prefix of the API version that
	// goes, e.g. "/api/v2", and when it goes.
	APIPrefix string
	Sunset    *time.Time
}

// Paragraphs splits the body at blank lines.
func (n Notice) Paragraphs() []string { return Paragraphs(n.Body) }

var apiPrefix = regexp.MustCompile(`^/api/v[0-9]+$`)

// EarliestDowntime is the earliest start planned downtime published at may have (Rule AA-15).
func EarliestDowntime(published time.Time, rules Settings) time.Time {
	return published.Add(rules.WithDefaults().DowntimeNotice)
}

// Timed reports whether notices of the kind have a start and an end (downtime, maintenance).
func (k NoticeKind) Timed() bool { return k == NoticeDowntime || k == NoticePostMaintenance }

// Effective reports whether notices of the kind name a date something takes
// effect (Sunset): an old API version goes, or a post interface change comes.
func (k NoticeKind) Effective() bool { return k == NoticeNormal || k == NoticePostInterface }

// EarliestWorkday is the first instant something announced at published may
// start when it must be announced at least n working days ahead (Rule
// DPV-08): midnight at the end of the n-th working day after the notice's
// day, in cal's zone, so that n whole working days lie between (the notice's
// day does not count; holidays such as Easter and 17 May do not either).
func EarliestWorkday(cal *incident.Calendar, published time.Time, n int) time.Time {
	loc := cal.Location()
	y, m, d := published.In(loc).Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, loc) // noon: safe from summer-time changes
	for count := 0; count < n; {
		day = day.AddDate(0, 0, 1)
		if cal.IsWorkday(day) {
			count++
		}
	}
	y, m, d = day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// EarliestSunset is the earliest day an API version announced at published may go (Rule AA-23).
func EarliestSunset(published time.Time, rules Settings) time.Time {
	return published.AddDate(0, rules.WithDefaults().DeprecationMonths, 0)
}

// Validate lists what is wrong with a notice to be published at n.PublishedAt,
// by form field, in Norwegian. Fields a kind does not use are cleared.
func (n *Notice) Validate(rules Settings) map[string]string {
	rules = rules.WithDefaults()
	bad := map[string]string{}
	n.Title, n.Body, n.APIPrefix = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body), strings.TrimSpace(n.APIPrefix)
	if _, err := ParseNoticeKind(string(n.Kind)); err != nil {
		bad["type"] = "Velg hva slags melding dette er."
	}
	if n.Title == "" || utf8.RuneCountInString(n.Title) > maxNoticeTitle {
		bad["tittel"] = fmt.Sprintf("Skriv en tittel på høyst %d tegn.", maxNoticeTitle)
	}
	if n.Body == "" || len(n.Body) > maxNoticeBody {
		bad["tekst"] = "Skriv meldingsteksten."
	}
	if !n.Kind.Timed() {
		n.Start, n.End = nil, nil
	}
	if n.Kind != NoticeNormal {
		n.APIPrefix = ""
	}
	if !n.Kind.Effective() {
		n.Sunset = nil
	}
	switch n.Kind {
	case NoticeDowntime:
		earliest := EarliestDowntime(n.PublishedAt, rules)
		switch {
		case n.Start == nil:
			bad["start"] = "Skriv når nedetiden begynner."
		case n.Start.Before(earliest):
			// Rule AA-15: planned downtime is announced at least a week ahead.
			bad["start"] = fmt.Sprintf("Planlagt nedetid må varsles minst %d dager før den begynner.", wholeDays(rules.DowntimeNotice))
		}
		switch {
		case n.End == nil:
			bad["slutt"] = "Skriv når nedetiden slutter."
		case n.Start != nil && !n.End.After(*n.Start):
			bad["slutt"] = "Nedetiden må slutte etter at den begynner."
		}
	case NoticePostMaintenance:
		cal := rules.Calendar
		switch {
		case n.Start == nil:
			bad["start"] = "Skriv når vedlikeholdet begynner."
		case cal == nil:
			bad["start"] = "Virkedagskalenderen mangler: vedlikehold kan ikke varsles nå."
		case n.Start.Before(EarliestWorkday(cal, n.PublishedAt, rules.PostMaintenanceWorkDays)):
			// Rule DPV-08: at least 5 working days ahead, in Norway's working calendar.
			bad["start"] = fmt.Sprintf("Planlagt vedlikehold av digital post må varsles minst %d virkedager før det begynner: tidligst %s.",
				rules.PostMaintenanceWorkDays, FormatDate(EarliestWorkday(cal, n.PublishedAt, rules.PostMaintenanceWorkDays), cal.Location()))
		}
		switch {
		case n.End == nil:
			bad["slutt"] = "Skriv når vedlikeholdet slutter."
		case n.Start != nil && !n.End.After(*n.Start):
			bad["slutt"] = "Vedlikeholdet må slutte etter at det begynner."
		}
	case NoticePostInterface:
		earliest := n.PublishedAt.AddDate(0, rules.PostInterfaceMonths, 0)
		switch {
		case n.Sunset == nil:
			bad["sunset"] = "Skriv datoen endringen tar effekt."
		case n.Sunset.Before(earliest):
			// Rule DPV-08: changes senders must act on, at least 6 months ahead.
			loc := time.UTC
			if rules.Calendar != nil {
				loc = rules.Calendar.Location()
			}
			first := earliest.In(loc) // the first whole day it may take effect, as the form takes a date
			if day := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc); day.Before(first) {
				first = day.AddDate(0, 0, 1)
			}
			bad["sunset"] = fmt.Sprintf("Endringer i grensesnittet som avsendere må tilpasse seg, må varsles minst %d måneder før de tar effekt: tidligst %s.",
				rules.PostInterfaceMonths, FormatDate(first, loc))
		}
	case NoticeNormal:
		if !apiPrefix.MatchString(n.APIPrefix) {
			bad["api"] = "Skriv stien til API-versjonen som skal fases ut, for eksempel /api/v2."
		}
		switch {
		case n.Sunset == nil:
			bad["sunset"] = "Skriv datoen den gamle versjonen slutter å virke."
		case n.Sunset.Before(EarliestSunset(n.PublishedAt, rules)):
			// Rule AA-23: the old version lives DeprecationMonths after the change is announced.
			bad["sunset"] = fmt.Sprintf("Den gamle versjonen må leve minst %d måneder etter varselet.", rules.DeprecationMonths)
		}
	}
	return bad
}

// Deprecation is an API version on its way out: from Since (the notice's
// publication) until Sunset, answers under Prefix say so (Rule AA-23).
type Deprecation struct {
	NoticeID string
	Prefix   string
	Since    time.Time
	Sunset   time.Time
}

// Covers reports whether a request path is under the deprecated version.
func (d Deprecation) Covers(path string) bool {
	return path == d.Prefix || strings.HasPrefix(path, d.Prefix+"/")
}

// Deprecations are the API versions deprecated at t by normal-change notices
// whose sunset is still ahead: one per prefix, the latest announcement's.
func Deprecations(notices []Notice, t time.Time) []Deprecation {
	byPrefix := map[string]Deprecation{}
	for _, n := range notices {
		if n.Kind != NoticeNormal || n.Sunset == nil || n.APIPrefix == "" || n.PublishedAt.After(t) || !n.Sunset.After(t) {
			continue
		}
		if d, ok := byPrefix[n.APIPrefix]; ok && !n.PublishedAt.After(d.Since) {
			continue
		}
		byPrefix[n.APIPrefix] = Deprecation{NoticeID: n.ID, Prefix: n.APIPrefix, Since: n.PublishedAt, Sunset: *n.Sunset}
	}
	out := make([]Deprecation, 0, len(byPrefix))
	for _, d := range byPrefix {
		out = append(out, d)
	}
	// Longest prefix first, so that the most specific one answers.
	slices.SortFunc(out, func(a, b Deprecation) int {
		if len(a.Prefix) != len(b.Prefix) {
			return len(b.Prefix) - len(a.Prefix)
		}
		return strings.Compare(a.Prefix, b.Prefix)
	})
	return out
}
