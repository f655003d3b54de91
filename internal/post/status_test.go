package post

import (
	"encoding/json"
	"testing"
)

func TestCurrentByPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    []StatusEvent
		want Status
		ok   bool
	}{
		{"empty", nil, 0, false},
		{"fetched alone", hist(StatusFetched), 0, false},
		{"initialized", hist(StatusInitialized), StatusInitialized, true},
		{"published then fetched: fetched does not count", hist(StatusInitialized, StatusReadyForPublish, StatusPublished, StatusFetched), StatusPublished, true},
		{"read", hist(StatusInitialized, StatusReadyForPublish, StatusPublished, StatusFetched, StatusRead), StatusRead, true},
		{"confirmed outranks read whatever the order", hist(StatusInitialized, StatusPublished, StatusFetched, StatusConfirmed, StatusRead), StatusConfirmed, true},
		{"attachments downloaded outranks confirmed", hist(StatusPublished, StatusFetched, StatusAttachmentsDownloaded, StatusConfirmed), StatusAttachmentsDownloaded, true},
		{"purged by recipient outranks confirmed", hist(StatusPublished, StatusFetched, StatusConfirmed, StatusPurgedByRecipient), StatusPurgedByRecipient, true},
		{"failed", hist(StatusInitialized, StatusReadyForPublish, StatusFailed), StatusFailed, true},
		{"forwarded is highest", hist(StatusPublished, StatusForwarded, StatusAttachmentsDownloaded), StatusForwarded, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Current(tc.h)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Current = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestStatusNamesAndJSON(t *testing.T) {
	want := []string{"Initialized", "ReadyForPublish", "Published", "Fetched", "Read", "Replied", "Confirmed",
		"PurgedByRecipient", "PurgedByAltinn", "Archived", "Reserved", "Failed", "AttachmentsDownloaded", "Forwarded"}
	for i, s := range Statuses() {
		if int(s) != i || s.String() != want[i] {
			t.Errorf("status %d = %d %q, want %q", i, s, s, want[i])
		}
		b, _ := json.Marshal(s)
		var back Status
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("round trip %s: %v %v", b, back, err)
		}
		if p, err := ParseStatus(want[i]); err != nil || p != s {
			t.Errorf("ParseStatus(%q) = %v, %v", want[i], p, err)
		}
		if s.Label() == s.String() {
			t.Errorf("%v has no Norwegian label", s)
		}
	}
	var s Status
	if err := json.Unmarshal([]byte(`4`), &s); err != nil || s != StatusRead {
		t.Errorf("number 4 = %v, %v", s, err)
	}
}

// Every transition with its actor: allowed ones pass, the rest are refused with Altinn's code.
func TestTransitionsByActor(t *testing.T) {
	published := hist(StatusInitialized, StatusReadyForPublish, StatusPublished)
	fetched := hist(StatusInitialized, StatusReadyForPublish, StatusPublished, StatusFetched)
	for _, tc := range []struct {
		name string
		l    Lifecycle
		by   Actor
		to   Status
		code int // -1: allowed
	}{
		{"system: ready", Lifecycle{History: hist(StatusInitialized)}, BySystem, StatusReadyForPublish, -1},
		{"system: publish", Lifecycle{History: hist(StatusInitialized, StatusReadyForPublish)}, BySystem, StatusPublished, -1},
		{"system: publish needs ready", Lifecycle{History: hist(StatusInitialized)}, BySystem, StatusPublished, 0},
		{"system: fail before publish", Lifecycle{History: hist(StatusInitialized)}, BySystem, StatusFailed, -1},
		{"system: no fail after publish", Lifecycle{History: published}, BySystem, StatusFailed, 0},
		{"sender may not publish", Lifecycle{History: hist(StatusInitialized, StatusReadyForPublish)}, BySender, StatusPublished, 0},
		{"recipient: fetch", Lifecycle{History: published}, ByRecipient, StatusFetched, -1},
		{"recipient: unpublished is not found", Lifecycle{History: hist(StatusInitialized)}, ByRecipient, StatusFetched, CodeNotFound},
		{"recipient: failed is not found", Lifecycle{History: hist(StatusInitialized, StatusFailed)}, ByRecipient, StatusFetched, CodeNotFound},
		{"recipient: read needs fetched", Lifecycle{History: published}, ByRecipient, StatusRead, CodeReadBeforeFetched},
		{"recipient: read", Lifecycle{History: fetched}, ByRecipient, StatusRead, -1},
		{"recipient: read twice", Lifecycle{History: append(hist(StatusPublished, StatusFetched), StatusEvent{Status: StatusRead})}, ByRecipient, StatusRead, CodeAlreadyRead},
		{"recipient: confirm needs fetched", Lifecycle{History: published}, ByRecipient, StatusConfirmed, CodeConfirmBeforeFetched},
		{"recipient: confirm without read", Lifecycle{History: fetched}, ByRecipient, StatusConfirmed, -1},
		{"recipient: confirm twice", Lifecycle{History: hist(StatusPublished, StatusFetched, StatusConfirmed)}, ByRecipient, StatusConfirmed, CodeAlreadyConfirmed},
		{"recipient: download", Lifecycle{History: fetched}, ByRecipient, StatusAttachmentsDownloaded, -1},
		{"recipient: forward", Lifecycle{History: fetched}, ByRecipient, StatusForwarded, -1},
		{"recipient: purge", Lifecycle{History: fetched}, ByRecipient, StatusPurgedByRecipient, -1},
		{"recipient: purge unconfirmed needing confirmation", Lifecycle{History: fetched, ConfirmationNeeded: true}, ByRecipient, StatusPurgedByRecipient, CodePurgeBeforeConfirmed},
		{"recipient: purge confirmed", Lifecycle{History: hist(StatusPublished, StatusFetched, StatusConfirmed), ConfirmationNeeded: true}, ByRecipient, StatusPurgedByRecipient, -1},
		{"recipient: purged is not found", Lifecycle{History: hist(StatusPublished, StatusPurgedByRecipient)}, ByRecipient, StatusRead, CodeNotFound},
		{"recipient may not publish", Lifecycle{History: hist(StatusInitialized, StatusReadyForPublish)}, ByRecipient, StatusPublished, CodeNotFound},
		{"recipient may not set replied (legacy)", Lifecycle{History: fetched}, ByRecipient, StatusReplied, 0},
		{"recipient may not archive (legacy)", Lifecycle{History: fetched}, ByRecipient, StatusArchived, 0},
		{"sender: purge initialized", Lifecycle{History: hist(StatusInitialized)}, BySender, StatusPurgedByAltinn, -1},
		{"sender: purge ready", Lifecycle{History: hist(StatusInitialized, StatusReadyForPublish)}, BySender, StatusPurgedByAltinn, -1},
		{"sender: purge failed", Lifecycle{History: hist(StatusInitialized, StatusFailed)}, BySender, StatusPurgedByAltinn, -1},
		{"sender: no purge after publish", Lifecycle{History: published}, BySender, StatusPurgedByAltinn, CodeCantPurgePublished},
		{"sender: no purge after read", Lifecycle{History: hist(StatusPublished, StatusFetched, StatusRead)}, BySender, StatusPurgedByAltinn, CodeCantPurgePublished},
		{"sender may not set read", Lifecycle{History: fetched}, BySender, StatusRead, 0},
		// Rule DPV-11: deling deletes a leaving sender's archived post, published or not.
		{"system: purge published (DPV-11)", Lifecycle{History: hist(StatusPublished, StatusFetched, StatusRead)}, BySystem, StatusPurgedByAltinn, -1},
		{"purged twice", Lifecycle{History: hist(StatusInitialized, StatusPurgedByAltinn)}, BySystem, StatusPurgedByAltinn, CodeAlreadyPurged},
		{"empty history", Lifecycle{}, BySystem, StatusPublished, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.l.Check(tc.by, tc.to)
			switch {
			case tc.code == -1 && p != nil:
				t.Fatalf("refused: %v", p)
			case tc.code != -1 && p == nil:
				t.Fatal("allowed, want refused")
			case tc.code != -1 && p.Code != tc.code:
				t.Fatalf("code = %d (%v), want %d", p.Code, p, tc.code)
			case p != nil && (p.Melding == "" || p.Detail == ""):
				t.Fatalf("texts missing: %+v", p)
			}
		})
	}
}

func TestNextAgreesWithCheck(t *testing.T) {
	l := Lifecycle{History: hist(StatusInitialized, StatusReadyForPublish, StatusPublished, StatusFetched), ConfirmationNeeded: true}
	got := l.Next(ByRecipient)
	want := []Status{StatusFetched, StatusRead, StatusConfirmed, StatusAttachmentsDownloaded, StatusForwarded}
	if len(got) != len(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Next = %v, want %v", got, want)
		}
	}
	if got := (Lifecycle{History: hist(StatusInitialized)}).Next(BySender); len(got) != 1 || got[0] != StatusPurgedByAltinn {
		t.Errorf("sender Next before publish = %v", got)
	}
	if PurgeStatus(BySender) != StatusPurgedByAltinn || PurgeStatus(ByRecipient) != StatusPurgedByRecipient {
		t.Error("PurgeStatus")
	}
}

func TestHistoryForSenderHidesRecipientPurge(t *testing.T) {
	h := hist(StatusPublished, StatusFetched, StatusConfirmed, StatusPurgedByRecipient)
	if got := HistoryFor(BySender, h); len(got) != 3 || Has(got, StatusPurgedByRecipient) {
		t.Errorf("sender history = %v", got)
	}
	if got := HistoryFor(ByRecipient, h); len(got) != 4 {
		t.Errorf("recipient history = %v", got)
	}
}
