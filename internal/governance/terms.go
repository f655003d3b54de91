package governance

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TermsKind is which terms a version belongs to (Rule SK-02: the general
// sharing terms plus the terms of each API used).
type TermsKind string

// The two kinds of terms.
const (
	Bruksvilkar   TermsKind = "bruksvilkar"   // terms of use of the register's API, web lookup and extract
	Delingsvilkar TermsKind = "delingsvilkar" // general terms of data sharing
)

// TermsKinds lists the kinds in the order the portal shows them.
func TermsKinds() []TermsKind { return []TermsKind{Bruksvilkar, Delingsvilkar} }

// ParseTermsKind accepts a kind's name.
func ParseTermsKind(s string) (TermsKind, error) {
	if k := TermsKind(s); slices.Contains(TermsKinds(), k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown terms kind %q", s)
}

// Label is the kind's name in the portal.
func (k TermsKind) Label() string {
	switch k {
	case Bruksvilkar:
		return "Bruksvilkår for Aa-registeret (API, oppslag og uttrekk)"
	case Delingsvilkar:
		return "Delingsvilkår"
	}
	return string(k)
}

// TermsVersion is one published version of one kind of terms (Rule AA-24: terms are versioned).
type TermsVersion struct {
	ID            string
	Kind          TermsKind
	Version       int // 1, 2, … per kind
	Title         string
	Body          string // plain text; a blank line separates paragraphs
	PublishedAt   time.Time
	EffectiveFrom time.Time
	PublishedBy   string
}

// Paragraphs splits the body at blank lines.
func (v TermsVersion) Paragraphs() []string { return Paragraphs(v.Body) }

// Paragraphs splits plain text at blank lines, trimming each paragraph.
func Paragraphs(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(body, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Limits of a terms text.
const (
	maxNoticeTitle = 200
	maxNoticeBody  = 100_000
)

// Validate lists what is wrong with a new version, by form field, in Norwegian.
// first is whether it is the kind's first version: that one takes effect at
// once, and Validate sets its EffectiveFrom to PublishedAt. A later version
// takes effect no sooner than notice after publication (Rule AA-24: announced
// ahead, so that a consumer can object before it counts as accepted).
func (v *TermsVersion) Validate(first bool, notice time.Duration) map[string]string {
	bad := map[string]string{}
	v.Title, v.Body = strings.TrimSpace(v.Title), strings.TrimSpace(v.Body)
	if _, err := ParseTermsKind(string(v.Kind)); err != nil {
		bad["type"] = "Velg hvilke vilkår dette er."
	}
	if v.Title == "" || utf8.RuneCountInString(v.Title) > maxNoticeTitle {
		bad["tittel"] = fmt.Sprintf("Skriv en tittel på høyst %d tegn.", maxNoticeTitle)
	}
	if v.Body == "" || len(v.Body) > maxNoticeBody {
		bad["tekst"] = "Skriv vilkårsteksten."
	}
	switch {
	case first:
		v.EffectiveFrom = v.PublishedAt
	case v.EffectiveFrom.IsZero():
		bad["gjelder_fra"] = "Skriv datoen vilkårene gjelder fra."
	case v.EffectiveFrom.Before(v.PublishedAt.Add(notice)):
		// Rule AA-24: a new version is announced ahead.
		bad["gjelder_fra"] = fmt.Sprintf("Nye vilkår må varsles minst %d dager før de gjelder.", wholeDays(notice))
	}
	return bad
}

func wholeDays(d time.Duration) int { return int((d + 24*time.Hour - 1) / (24 * time.Hour)) }

// InEffect is the version of kind in effect at t (nil if none yet) and the
// versions published that take effect later, soonest first.
func InEffect(versions []TermsVersion, kind TermsKind, t time.Time) (current *TermsVersion, upcoming []TermsVersion) {
	for i := range versions {
		v := &versions[i]
		if v.Kind != kind || v.PublishedAt.After(t) {
			continue
		}
		if v.EffectiveFrom.After(t) {
			upcoming = append(upcoming, *v)
			continue
		}
		if current == nil || v.Version > current.Version {
			current = v
		}
	}
	slices.SortFunc(upcoming, func(a, b TermsVersion) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	return current, upcoming
}

// Acceptance is an organisation's explicit acceptance of a terms version.
type Acceptance struct {
	Consumer   string
	VersionID  string
	AcceptedAt time.Time
	AcceptedBy string // the actor, e.g. "user:<id>"
}

// ObjectionStatus is where an objection to terms stands.
type ObjectionStatus string

// Objection statuses (Rule AA-24).
const (
	ObjectionPending  ObjectionStatus = "pending"  // with the register's case workers
	ObjectionMet      ObjectionStatus = "met"      // the register met it
	ObjectionRejected ObjectionStatus = "rejected" // it cannot be met: the consumer's access ended
)

// Label is the status in the portal.
func (s ObjectionStatus) Label() string {
	switch s {
	case ObjectionPending:
		return "Til behandling"
	case ObjectionMet:
		return "Imøtekommet"
	case ObjectionRejected:
		return "Kan ikke imøtekommes"
	}
	return string(s)
}

// Objection is a consumer's objection to a terms version, made before the version takes effect.
type Objection struct {
	ID         string
	Consumer   string
	VersionID  string
	Reason     string
	CreatedAt  time.Time
	CreatedBy  string
	Status     ObjectionStatus
	ResolvedAt *time.Time
	ResolvedBy string
	Note       string // the case worker's answer
}

// Validate lists what is wrong with a new objection, by form field, in Norwegian.
func (o *Objection) Validate() map[string]string {
	bad := map[string]string{}
	o.Reason = strings.TrimSpace(o.Reason)
	if o.Reason == "" || len(o.Reason) > 20_000 {
		bad["begrunnelse"] = "Skriv hva dere har innsigelse mot, og hvorfor."
	}
	return bad
}

// TermsState is where an organisation stands with one terms version.
type TermsState string

// States of an organisation towards a terms version.
const (
	TermsAccepted         TermsState = "accepted"          // accepted explicitly
	TermsDeemedAccepted   TermsState = "deemed"            // counts as accepted: no objection before it took effect (Rule AA-24)
	TermsAwaiting         TermsState = "awaiting"          // announced; counts as accepted from EffectiveFrom unless objected to
	TermsNotAccepted      TermsState = "not_accepted"      // no access, and not accepted
	TermsObjected         TermsState = "objected"          // objection pending
	TermsObjectionMet     TermsState = "objection_met"     // objection met
	TermsObjectionRefused TermsState = "objection_refused" // objection cannot be met: access ended
)

// Label is the state in the portal.
func (s TermsState) Label() string {
	switch s {
	case TermsAccepted:
		return "Godtatt"
	case TermsDeemedAccepted:
		return "Ansett som godtatt"
	case TermsAwaiting:
		return "Varslet – godtas automatisk om dere ikke melder innsigelse"
	case TermsNotAccepted:
		return "Ikke godtatt"
	case TermsObjected:
		return "Innsigelse til behandling"
	case TermsObjectionMet:
		return "Innsigelsen er imøtekommet"
	case TermsObjectionRefused:
		return "Innsigelsen kunne ikke imøtekommes – tilgangen er avsluttet"
	}
	return string(s)
}

// Color is the state's ds-tag colour.
func (s TermsState) Color() string {
	switch s {
	case TermsAccepted, TermsDeemedAccepted, TermsObjectionMet:
		return "success"
	case TermsObjected, TermsAwaiting:
		return "warning"
	case TermsObjectionRefused:
		return "danger"
	}
	return "neutral"
}

// StateOf is where an organisation stands with version v at t. hasAccess is
// whether it has access (a grant) at all; accepted its explicit acceptance of
// v, if any; objections its objections to v. The latest of the explicit
// acceptance and the objections decides. Without either, Rule AA-24: an
// organisation with access has accepted the version from EffectiveFrom.
// (A new objection is only allowed before EffectiveFrom, so one that exists
// was made in time.)
func StateOf(v TermsVersion, hasAccess bool, accepted *Acceptance, objections []Objection, t time.Time) TermsState {
	var last *Objection
	for i := range objections {
		o := &objections[i]
		if o.VersionID == v.ID && (last == nil || o.CreatedAt.After(last.CreatedAt)) {
			last = o
		}
	}
	if accepted != nil && accepted.VersionID == v.ID && (last == nil || accepted.AcceptedAt.After(last.CreatedAt)) {
		return TermsAccepted
	}
	if last != nil {
		switch last.Status {
		case ObjectionMet:
			return TermsObjectionMet
		case ObjectionRejected:
			return TermsObjectionRefused
		default:
			return TermsObjected
		}
	}
	switch {
	case !hasAccess:
		return TermsNotAccepted
	case t.Before(v.EffectiveFrom):
		return TermsAwaiting
	default:
		return TermsDeemedAccepted
	}
}

// CanObject reports whether an organisation in state may object to v at t:
// only before v takes effect (Rule AA-24: "without undue delay"), and not
// while an objection is pending or after one was decided.
func CanObject(v TermsVersion, state TermsState, t time.Time) bool {
	if !t.Before(v.EffectiveFrom) {
		return false
	}
	switch state {
	case TermsObjected, TermsObjectionMet, TermsObjectionRefused:
		return false
	}
	return true
}

// CanAccept reports whether an organisation in state may accept v explicitly.
func CanAccept(state TermsState) bool {
	switch state {
	case TermsAccepted, TermsObjected, TermsObjectionRefused:
		return false
	}
	return true
}
