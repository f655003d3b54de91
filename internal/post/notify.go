package post

import (
	"slices"
	"time"
)

// Rule DPV-06: when a correspondence is published the recipient
// organisation's notification addresses are told; when it stays unread, they
// are told again. As in Altinn 3: the main notification at publication,
// unless the correspondence was purged or failed; the reminder 7 days later
// if it asked for one (sendReminder) and is still unread. Confidential post
// (research §1.10) always gets a notification and, after 7 days unread, its
// own reminder that tells how to get access, whether or not a reminder was asked for.

// NotificationKind is which notification is meant.
type NotificationKind string

// The kinds.
const (
	NotifyMain                 NotificationKind = "varsel"
	NotifyReminder             NotificationKind = "revarsel"
	NotifyConfidentialReminder NotificationKind = "revarsel_taushetsbelagt"
)

// NotifyRules are the delays of Rule DPV-06.
type NotifyRules struct {
	ReminderAfter             time.Duration // 7 days (1 day in test in Altinn)
	ConfidentialReminderAfter time.Duration // 7 days
}

// DefaultNotify is 7 days for both reminders.
func DefaultNotify() NotifyRules {
	return NotifyRules{ReminderAfter: 7 * 24 * time.Hour, ConfidentialReminderAfter: 7 * 24 * time.Hour}
}

// Notifiable is what the decision needs of a correspondence.
type Notifiable struct {
	History      []StatusEvent
	Confidential bool
	SendReminder bool               // notification.sendReminder
	Sent         []NotificationKind // already sent (or ordered)
}

// DueNotification is a notification to send and when it fell due.
type DueNotification struct {
	Kind NotificationKind
	At   time.Time
}

// unread reports whether the recipient has not read it: Read, or Confirmed
// (which needs the message opened), counts as read.
func unread(h []StatusEvent) bool { return !Has(h, StatusRead) && !Has(h, StatusConfirmed) }

// NotificationsDue lists the notifications due at now that are not sent yet.
func NotificationsDue(m Notifiable, rules NotifyRules, now time.Time) []DueNotification {
	cur, ok := Current(m.History)
	published := At(m.History, StatusPublished)
	if !ok || published.IsZero() || cur.Purged() || cur == StatusFailed || cur == StatusReserved {
		return nil
	}
	var due []DueNotification
	add := func(k NotificationKind, at time.Time) {
		if !at.After(now) && !slices.Contains(m.Sent, k) {
			due = append(due, DueNotification{Kind: k, At: at})
		}
	}
	add(NotifyMain, published)
	if unread(m.History) {
		if m.SendReminder {
			add(NotifyReminder, published.Add(rules.ReminderAfter))
		}
		if m.Confidential {
			add(NotifyConfidentialReminder, published.Add(rules.ConfidentialReminderAfter))
		}
	}
	return due
}
