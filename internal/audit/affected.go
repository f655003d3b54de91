package audit

import (
	"slices"
	"time"
)

// Who was affected by a breach, from the log (issue 12 item 6; Rules AV-05,
// AA-16, AA-22). A breach that involves a consumer, a client key, a web user
// or a time window is a Scope; Affected goes through the log's records and
// keeps the persons whose data the lookups in scope returned, through which
// channels and in which records. The result is reproducible: a scope names
// the checkpoint (its size) it is computed at, and a record counts only if
// that checkpoint covers it (its index is below the size) — the same
// checkpoint gives the same list however many lookups follow.

// Scope selects the lookups a breach concerns. Every criterion given must
// match; an empty one matches everything. At least the checkpoint is always
// given (Size).
type Scope struct {
	Consumer string    // the consumer the lookup was made for (orgnr)
	ClientID string    // the API client (key) it was made with
	EndUser  string    // the web user (or extract orderer) it was made by
	From, To time.Time // the window [From, To); zero is open
	Size     uint64    // the checkpoint's size: records with index < Size count
}

// Empty reports whether the scope names no consumer, client, user or window:
// it would select every lookup in the log.
func (s Scope) Empty() bool {
	return s.Consumer == "" && s.ClientID == "" && s.EndUser == "" && s.From.IsZero() && s.To.IsZero()
}

// inWindow reports whether t is in [From, To).
func (s Scope) inWindow(t time.Time) bool {
	return (s.From.IsZero() || !t.Before(s.From)) && (s.To.IsZero() || t.Before(s.To))
}

// Covers reports whether the record at index seq is in scope: covered by the
// checkpoint, a lookup that was answered with data (permitted; a denied or
// screened lookup returned no one's data), and matching every criterion.
func (s Scope) Covers(seq uint64, r Record) bool {
	return seq < s.Size && r.Kind == KindLookup && r.Decision == Permit &&
		(s.Consumer == "" || r.Consumer == s.Consumer) &&
		(s.ClientID == "" || r.ClientID == s.ClientID) &&
		(s.EndUser == "" || r.EndUser == s.EndUser) &&
		s.inWindow(r.Time)
}

// AffectedPerson is one person in the list: the channels and the records
// (log indexes, ascending) through which their data was returned.
type AffectedPerson struct {
	Ident    string
	Channels []string
	Records  []uint64
}

// ChannelCount is a channel's share: the persons whose data it returned
// (a person found through two channels counts in both) and its records.
type ChannelCount struct {
	Channel string
	Persons int
	Records int
}

// AffectedList is who was affected within a scope.
type AffectedList struct {
	Scope   Scope
	Persons []AffectedPerson // by identity
	Records int              // lookups in scope that returned someone's data
	// Items is the sum of the records' result counts: the personal data
	// records (arbeidsforhold) returned.
	Items     int
	ByChannel []ChannelCount // by channel name
	// Consumers are the consumers whose lookups are in the list, each once,
	// sorted: a breach at the register contacts every one (Rule AA-22).
	Consumers []string
	// Erased counts the records within the checkpoint and the window whose
	// content retention erased: the list cannot say whom they returned.
	Erased int
}

// Affected gathers an AffectedList record by record, in any order.
type Affected struct {
	scope     Scope
	persons   map[string]*AffectedPerson
	records   int
	items     int
	channels  map[string]*channelAcc
	consumers map[string]bool
	erased    int
}

type channelAcc struct {
	persons map[string]bool
	records int
}

// NewAffected starts a list for scope.
func NewAffected(scope Scope) *Affected {
	return &Affected{scope: scope, persons: map[string]*AffectedPerson{}, channels: map[string]*channelAcc{}, consumers: map[string]bool{}}
}

// Add takes the record at index seq, opened (Returned filled); it reports
// whether the record counted.
func (a *Affected) Add(seq uint64, r Record) bool {
	if !a.scope.Covers(seq, r) || len(r.Returned) == 0 {
		return false
	}
	a.records++
	a.items += r.ResultCount
	a.consumers[r.Consumer] = true
	ch := a.channels[r.Channel]
	if ch == nil {
		ch = &channelAcc{persons: map[string]bool{}}
		a.channels[r.Channel] = ch
	}
	ch.records++
	for _, id := range r.Returned {
		p := a.persons[id]
		if p == nil {
			p = &AffectedPerson{Ident: id}
			a.persons[id] = p
		}
		if !slices.Contains(p.Channels, r.Channel) {
			p.Channels = append(p.Channels, r.Channel)
		}
		if n := len(p.Records); n == 0 || p.Records[n-1] != seq {
			p.Records = append(p.Records, seq)
		}
		ch.persons[id] = true
	}
	return true
}

// AddErased takes a record whose content retention erased: only its index,
// time and consumer are left. It counts when it could have been in scope.
func (a *Affected) AddErased(seq uint64, t time.Time, consumer string) {
	if seq < a.scope.Size && a.scope.inWindow(t) && (a.scope.Consumer == "" || consumer == a.scope.Consumer) {
		a.erased++
	}
}

// List is the list so far, in a fixed order: the same records give the same
// list whatever order they were added in.
func (a *Affected) List() AffectedList {
	l := AffectedList{Scope: a.scope, Records: a.records, Items: a.items, Erased: a.erased}
	for _, p := range a.persons {
		q := *p
		q.Channels = slices.Clone(p.Channels)
		slices.Sort(q.Channels)
		q.Records = slices.Clone(p.Records)
		slices.Sort(q.Records)
		q.Records = slices.Compact(q.Records)
		l.Persons = append(l.Persons, q)
	}
	slices.SortFunc(l.Persons, func(x, y AffectedPerson) int {
		switch {
		case x.Ident < y.Ident:
			return -1
		case x.Ident > y.Ident:
			return 1
		}
		return 0
	})
	for name, ch := range a.channels {
		l.ByChannel = append(l.ByChannel, ChannelCount{Channel: name, Persons: len(ch.persons), Records: ch.records})
	}
	slices.SortFunc(l.ByChannel, func(x, y ChannelCount) int {
		switch {
		case x.Channel < y.Channel:
			return -1
		case x.Channel > y.Channel:
			return 1
		}
		return 0
	})
	for c := range a.consumers {
		l.Consumers = append(l.Consumers, c)
	}
	slices.Sort(l.Consumers)
	return l
}

// AffectedIn is the list of records (indexed by their place in the log) for
// scope: the selection as a function over records.
func AffectedIn(scope Scope, records map[uint64]Record) AffectedList {
	a := NewAffected(scope)
	for seq, r := range records {
		a.Add(seq, r)
	}
	return a.List()
}
