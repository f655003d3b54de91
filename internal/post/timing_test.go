package post

import (
	"strings"
	"testing"
	"time"
)

// Rule DPV-06: the main notification at publication, reminders after 7 days unread.
func TestNotificationsDue_DPV06(t *testing.T) {
	pub := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	published := []StatusEvent{{Status: StatusInitialized, Changed: pub.Add(-time.Hour)}, {Status: StatusPublished, Changed: pub}}
	read := append(append([]StatusEvent{}, published...), StatusEvent{Status: StatusFetched, Changed: pub.Add(time.Hour)}, StatusEvent{Status: StatusRead, Changed: pub.Add(time.Hour)})
	confirmed := append(append([]StatusEvent{}, published...), StatusEvent{Status: StatusFetched, Changed: pub.Add(time.Hour)}, StatusEvent{Status: StatusConfirmed, Changed: pub.Add(time.Hour)})
	week := 7 * 24 * time.Hour
	kinds := func(ds []DueNotification) string {
		var s []string
		for _, d := range ds {
			s = append(s, string(d.Kind))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		m    Notifiable
		now  time.Time
		want string
	}{
		{"not yet published", Notifiable{History: hist(StatusInitialized, StatusReadyForPublish)}, pub, ""},
		{"at publication", Notifiable{History: published, SendReminder: true}, pub, "varsel"},
		{"main already sent", Notifiable{History: published, SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(time.Hour), ""},
		{"6 days 23 hours unread", Notifiable{History: published, SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week - time.Hour), ""},
		{"7 days unread", Notifiable{History: published, SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), "revarsel"},
		{"7 days unread, no reminder asked", Notifiable{History: published, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), ""},
		{"reminder sent", Notifiable{History: published, SendReminder: true, Sent: []NotificationKind{NotifyMain, NotifyReminder}}, pub.Add(2 * week), ""},
		{"read before 7 days", Notifiable{History: read, SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), ""},
		{"confirmed counts as read", Notifiable{History: confirmed, SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), ""},
		{"fetched only is unread", Notifiable{History: append(append([]StatusEvent{}, published...), StatusEvent{Status: StatusFetched, Changed: pub}), SendReminder: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), "revarsel"},
		{"confidential: own reminder even unasked", Notifiable{History: published, Confidential: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), "revarsel_taushetsbelagt"},
		{"confidential and asked: both", Notifiable{History: published, Confidential: true, SendReminder: true}, pub.Add(week), "varsel,revarsel,revarsel_taushetsbelagt"},
		{"confidential read", Notifiable{History: read, Confidential: true, Sent: []NotificationKind{NotifyMain}}, pub.Add(week), ""},
		{"purged", Notifiable{History: append(append([]StatusEvent{}, published...), StatusEvent{Status: StatusPurgedByAltinn, Changed: pub}), SendReminder: true}, pub.Add(week), ""},
		{"failed", Notifiable{History: hist(StatusInitialized, StatusFailed)}, pub.Add(week), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kinds(NotificationsDue(tc.m, DefaultNotify(), tc.now)); got != tc.want {
				t.Errorf("due = %q, want %q", got, tc.want)
			}
		})
	}
	due := NotificationsDue(Notifiable{History: published, SendReminder: true}, DefaultNotify(), pub.Add(2*week))
	if len(due) != 2 || !due[1].At.Equal(pub.Add(week)) {
		t.Errorf("reminder due at = %v", due)
	}
}

// Rule DPV-08: maintenance at least 5 working days ahead, over Easter and 17 May.
func TestMaintenanceNotice_DPV08(t *testing.T) {
	cal := norway(t)
	loc := oslo(t)
	d := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, loc) }
	for _, tc := range []struct {
		name      string
		published time.Time
		earliest  time.Time
	}{
		{"ordinary week: from the end of the fifth working day (review finding 14)", d(2026, 3, 2, 15), d(2026, 3, 10, 0)},
		{"Friday: from Saturday a week later", d(2026, 3, 6, 9), d(2026, 3, 14, 0)},
		{"Saturday counts from Monday", d(2026, 3, 7, 9), d(2026, 3, 14, 0)},
		// Easter 2026: Maundy Thursday 2 April, Good Friday 3, Easter Monday 6.
		{"over Easter 2026", d(2026, 3, 30, 10), d(2026, 4, 10, 0)},
		// 2024: Ascension 9 May, 17 May a Friday, Whit Monday 20 May.
		{"over 17 May and Whit Monday 2024", d(2024, 5, 13, 10), d(2024, 5, 23, 0)},
		// 1 May 2026 is a Friday.
		{"over 1 May 2026", d(2026, 4, 27, 10), d(2026, 5, 6, 0)},
		// 2027: Whit Monday and 17 May are the same Monday.
		{"17 May 2027 on Whit Monday", d(2027, 5, 11, 10), d(2027, 5, 20, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EarliestMaintenance(cal, tc.published, DefaultOps().MaintenanceWorkDays)
			if !got.Equal(tc.earliest) {
				t.Fatalf("earliest = %v, want %v", got, tc.earliest)
			}
			if p := CheckMaintenance(cal, tc.published, tc.earliest.Add(2*time.Hour), DefaultOps()); p != nil {
				t.Errorf("on the earliest day: %v", p)
			}
			p := CheckMaintenance(cal, tc.published, tc.earliest.Add(-time.Minute), DefaultOps())
			if p == nil || !strings.Contains(p.Melding, "5 virkedager") {
				t.Errorf("a minute early: %v", p)
			}
		})
	}
}

// Rule DPV-08: interface changes senders must act on, at least 6 months ahead.
func TestInterfaceChangeNotice_DPV08(t *testing.T) {
	loc := oslo(t)
	pub := time.Date(2026, 3, 2, 10, 0, 0, 0, loc)
	if p := CheckInterfaceChange(pub, time.Date(2026, 9, 2, 10, 0, 0, 0, loc), loc, DefaultOps()); p != nil {
		t.Errorf("exactly 6 months: %v", p)
	}
	p := CheckInterfaceChange(pub, time.Date(2026, 9, 1, 10, 0, 0, 0, loc), loc, DefaultOps())
	if p == nil || !strings.Contains(p.Melding, "6 måneder") {
		t.Errorf("a day short: %v", p)
	}
}
