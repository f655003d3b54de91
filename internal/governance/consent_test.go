package governance

import (
	"reflect"
	"testing"
	"time"

	"deling/internal/access"
)

// Rule SK-08: a consent is valid from when it was given until it expires or is withdrawn, edges included.
func TestConsentValid(t *testing.T) {
	given := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := given.Add(30 * 24 * time.Hour)
	withdrawn := given.Add(10 * 24 * time.Hour)
	for _, tc := range []struct {
		name  string
		c     Consent
		now   time.Time
		valid bool
		state ConsentState
	}{
		{"just given", Consent{GivenAt: given, ExpiresAt: expires}, given, true, ConsentActive},
		{"before it was given", Consent{GivenAt: given, ExpiresAt: expires}, given.Add(-time.Second), false, ConsentExpired},
		{"last moment", Consent{GivenAt: given, ExpiresAt: expires}, expires.Add(-time.Microsecond), true, ConsentActive},
		{"at expiry", Consent{GivenAt: given, ExpiresAt: expires}, expires, false, ConsentExpired},
		{"never given", Consent{ExpiresAt: expires}, given, false, ConsentExpired},
		{"before withdrawal", Consent{GivenAt: given, ExpiresAt: expires, WithdrawnAt: &withdrawn}, withdrawn.Add(-time.Second), true, ConsentActive},
		{"at withdrawal", Consent{GivenAt: given, ExpiresAt: expires, WithdrawnAt: &withdrawn}, withdrawn, false, ConsentWithdrawn},
		{"withdrawn and expired", Consent{GivenAt: given, ExpiresAt: expires, WithdrawnAt: &withdrawn}, expires.Add(time.Hour), false, ConsentWithdrawn},
	} {
		if got := tc.c.Valid(tc.now); got != tc.valid {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.valid)
		}
		if got := tc.c.State(tc.now); got != tc.state {
			t.Errorf("%s: State = %v, want %v", tc.name, got, tc.state)
		}
	}
}

// Rule SK-08: consent only where a consent-based grant asks for it, with an expiry in the future and at most the maximum ahead.
func TestConsentCheck(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	asked := []ConsentRequest{{Consumer: "310000001", Purpose: "lån"}}
	max := 365 * 24 * time.Hour
	for _, tc := range []struct {
		name string
		c    Consent
		bad  []string
	}{
		{"fine", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "lån", ExpiresAt: now.Add(24 * time.Hour)}, nil},
		{"at the maximum", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "lån", ExpiresAt: now.Add(max)}, nil},
		{"beyond the maximum", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "lån", ExpiresAt: now.Add(max + time.Second)}, []string{"utloper"}},
		{"expired already", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "lån", ExpiresAt: now}, []string{"utloper"}},
		{"no expiry", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "lån"}, []string{"utloper"}},
		{"purpose not asked for", Consent{PersonPID: "x", Consumer: "310000001", Purpose: "markedsføring", ExpiresAt: now.Add(time.Hour)}, []string{"foresporsel"}},
		{"consumer not asking", Consent{PersonPID: "x", Consumer: "310000002", Purpose: "lån", ExpiresAt: now.Add(time.Hour)}, []string{"foresporsel"}},
		{"no person", Consent{Consumer: "310000001", Purpose: "lån", ExpiresAt: now.Add(time.Hour)}, []string{"person"}},
	} {
		bad := tc.c.Check(now, max, asked)
		var got []string
		for _, f := range []string{"foresporsel", "utloper", "person"} {
			if bad[f] != "" {
				got = append(got, f)
			}
		}
		if !reflect.DeepEqual(got, tc.bad) {
			t.Errorf("%s: got errors in %v, want %v", tc.name, got, tc.bad)
		}
	}
}

func TestConsentRequests(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	from := now.Add(-time.Hour)
	ended := now.Add(-time.Minute)
	grants := []access.Grant{
		{Consumer: "1", Purpose: "lån", Consent: true, Status: access.Active, ValidFrom: from},
		{Consumer: "1", Purpose: "lån", Consent: true, Status: access.Active, ValidFrom: from, Channel: access.ChannelWeb},
		{Consumer: "1", Purpose: "kontroll", Consent: false, Status: access.Active, ValidFrom: from},
		{Consumer: "2", Purpose: "forsikring", Consent: true, Status: access.Suspended, ValidFrom: from},
		{Consumer: "3", Purpose: "bolig", Consent: true, Status: access.Active, ValidFrom: from, ValidTo: &ended},
		{Consumer: "4", Purpose: "lån", Consent: true, Status: access.Active, ValidFrom: from},
	}
	got := ConsentRequests(grants, now)
	want := []ConsentRequest{{Consumer: "1", Purpose: "lån"}, {Consumer: "4", Purpose: "lån"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// Rule AA-27: a role is due for review when its last confirmation is ReviewEvery old; reminders at most every RemindEvery.
func TestReviewDue(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	every := 180 * 24 * time.Hour
	for _, tc := range []struct {
		reviewed time.Time
		due      bool
	}{
		{now, false},
		{now.Add(-every + time.Second), false},
		{now.Add(-every), true},
		{now.Add(-every - time.Hour), true},
	} {
		if got := ReviewDue(tc.reviewed, now, every); got != tc.due {
			t.Errorf("reviewed %v: due %v, want %v", tc.reviewed, got, tc.due)
		}
		if got := !tc.reviewed.After(ReviewCutoff(now, every)); got != tc.due {
			t.Errorf("reviewed %v: cutoff says %v, want %v", tc.reviewed, got, tc.due)
		}
	}
	ms := []Membership{{ReviewedAt: now.Add(-time.Hour)}, {ReviewedAt: now.Add(-every - time.Hour)}}
	if !MembershipsDue(ms, now, every) || MembershipsDue(ms[:1], now, every) {
		t.Fatal("MembershipsDue: one due role makes the user due")
	}
	if got := LastReviewed(ms); !got.Equal(now.Add(-every - time.Hour)) {
		t.Fatalf("LastReviewed = %v", got)
	}
	week := 7 * 24 * time.Hour
	if !ReminderDue(time.Time{}, now, week) || ReminderDue(now.Add(-week+time.Second), now, week) || !ReminderDue(now.Add(-week), now, week) {
		t.Fatal("ReminderDue: never reminded, or a week ago, is due; less than a week ago is not")
	}
}
