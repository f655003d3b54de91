package governance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
)

// NoticeKinds lists every kind in the order the portal shows them.
func NoticeKinds() []NoticeKind {
	return []NoticeKind{NoticeNews, NoticeDowntime, NoticeStandard, NoticeNormal, NoticeEmergency, NoticeTerms}
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
	}
	return string(k)
}

// Color is the kind's ds-tag colour.
func (k NoticeKind) Color() string {
	switch k {
	case NoticeDowntime, NoticeNormal, NoticeTerms:
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
	if n.Kind != NoticeDowntime {
		n.Start, n.End = nil, nil
	}
	if n.Kind != NoticeNormal {
		n.APIPrefix, n.Sunset = "", nil
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
