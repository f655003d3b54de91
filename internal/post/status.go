package post

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Status is where a correspondence stands: Altinn 3's CorrespondenceStatus,
// with its numbers. The number is the precedence: a correspondence's
// current status is the highest in its history, Fetched aside.
type Status int

// The statuses, in Altinn's order (research §1.5).
const (
	StatusInitialized           Status = 0  // created, validated
	StatusReadyForPublish       Status = 1  // attachments uploaded and scanned
	StatusPublished             Status = 2  // visible to the recipient
	StatusFetched               Status = 3  // the recipient opened the overview or details
	StatusRead                  Status = 4  // the recipient marked it read
	StatusReplied               Status = 5  // legacy: nothing sets it
	StatusConfirmed             Status = 6  // the recipient confirmed it
	StatusPurgedByRecipient     Status = 7  // the recipient deleted it
	StatusPurgedByAltinn        Status = 8  // the platform deleted it (also a sender's pre-publish purge)
	StatusArchived              Status = 9  // legacy: archiving is a label now
	StatusReserved              Status = 10 // a reserved person (batch sends only; not for organisations)
	StatusFailed                Status = 11 // publishing failed
	StatusAttachmentsDownloaded Status = 12 // the recipient downloaded an attachment
	StatusForwarded             Status = 13 // the recipient forwarded it to e-mail
)

var statusNames = []string{"Initialized", "ReadyForPublish", "Published", "Fetched", "Read", "Replied", "Confirmed",
	"PurgedByRecipient", "PurgedByAltinn", "Archived", "Reserved", "Failed", "AttachmentsDownloaded", "Forwarded"}

// Statuses lists every status in precedence order.
func Statuses() []Status {
	out := make([]Status, len(statusNames))
	for i := range out {
		out[i] = Status(i)
	}
	return out
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return s >= 0 && int(s) < len(statusNames) }

// String is Altinn's name of the status.
func (s Status) String() string {
	if s.Valid() {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// ParseStatus accepts Altinn's name or number of a status.
func ParseStatus(v string) (Status, error) {
	if i := slices.Index(statusNames, v); i >= 0 {
		return Status(i), nil
	}
	if i, err := strconv.Atoi(v); err == nil && Status(i).Valid() {
		return Status(i), nil
	}
	return 0, fmt.Errorf("unknown correspondence status %q", v)
}

// MarshalJSON writes the name, as Altinn's API does.
func (s Status) MarshalJSON() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid status %d", int(s))
	}
	return json.Marshal(s.String())
}

// UnmarshalJSON accepts the name or the number.
func (s *Status) UnmarshalJSON(b []byte) error {
	v, err := enumName(b, statusNames, "status")
	if err != nil {
		return err
	}
	*s = Status(slices.Index(statusNames, v))
	return nil
}

// Label is the status in the portal (Norwegian).
func (s Status) Label() string {
	switch s {
	case StatusInitialized:
		return "Opprettet"
	case StatusReadyForPublish:
		return "Klar til publisering"
	case StatusPublished:
		return "Publisert"
	case StatusFetched:
		return "Åpnet"
	case StatusRead:
		return "Lest"
	case StatusReplied:
		return "Besvart"
	case StatusConfirmed:
		return "Bekreftet"
	case StatusPurgedByRecipient:
		return "Slettet av mottaker"
	case StatusPurgedByAltinn:
		return "Slettet"
	case StatusArchived:
		return "Arkivert"
	case StatusReserved:
		return "Reservert"
	case StatusFailed:
		return "Feilet"
	case StatusAttachmentsDownloaded:
		return "Vedlegg lastet ned"
	case StatusForwarded:
		return "Videresendt"
	}
	return s.String()
}

// Purged reports whether the status deletes the correspondence.
func (s Status) Purged() bool { return s == StatusPurgedByRecipient || s == StatusPurgedByAltinn }

// VisibleToRecipient reports whether a correspondence whose current status
// is s exists for its recipient; for any other status the recipient is
// answered as if there were none (404).
func (s Status) VisibleToRecipient() bool {
	switch s {
	case StatusPublished, StatusFetched, StatusRead, StatusReplied, StatusConfirmed, StatusArchived,
		StatusReserved, StatusAttachmentsDownloaded, StatusForwarded:
		return true
	}
	return false
}

// visibleToSender reports whether a history entry is shown to the sender:
// not the recipient's purge or archiving (Altinn's IsAvailableForSender).
func (s Status) visibleToSender() bool {
	return s != StatusPurgedByRecipient && s != StatusArchived
}

// StatusEvent is one entry of a correspondence's status history.
type StatusEvent struct {
	Status  Status    `json:"status"`
	Changed time.Time `json:"statusChanged"`
	// By is who caused it; not part of Altinn's answer, kept for the log.
	By Actor `json:"-"`
}

// Current is the current status of a history: the highest status in it,
// Fetched not counted (Altinn's GetHighestStatus). ok is false for an empty
// history, or one of Fetched alone.
func Current(history []StatusEvent) (s Status, ok bool) {
	for _, e := range history {
		if e.Status == StatusFetched {
			continue
		}
		if !ok || e.Status > s {
			s, ok = e.Status, true
		}
	}
	return s, ok
}

// Has reports whether the history holds the status at all.
func Has(history []StatusEvent, s Status) bool {
	return slices.ContainsFunc(history, func(e StatusEvent) bool { return e.Status == s })
}

// At is when the status first entered the history, or the zero time.
func At(history []StatusEvent, s Status) time.Time {
	var first time.Time
	for _, e := range history {
		if e.Status == s && (first.IsZero() || e.Changed.Before(first)) {
			first = e.Changed
		}
	}
	return first
}

// HistoryFor is the history as actor by sees it, ordered by time: the sender
// does not see the recipient's purge or archiving.
func HistoryFor(by Actor, history []StatusEvent) []StatusEvent {
	out := make([]StatusEvent, 0, len(history))
	for _, e := range history {
		if by == BySender && !e.Status.visibleToSender() {
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b StatusEvent) int { return a.Changed.Compare(b.Changed) })
	return out
}
