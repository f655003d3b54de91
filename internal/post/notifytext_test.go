package post

import (
	"slices"
	"testing"
)

// Rule DPV-06: what deling does not send (SMS, HTML e-mail) and links in
// its e-mails are refused with a code of their own, never accepted and
// dropped; plain custom texts pass.
func TestNotificationDeliverable_DPV06(t *testing.T) {
	ok := func() *NotificationRequest {
		return &NotificationRequest{NotificationTemplate: TemplateCustomMessage, NotificationChannel: ChannelEmail,
			EmailSubject: "Vedtak", EmailBody: "Hei.\nDere har fått vedtak."}
	}
	if ps := ok().validate(DefaultLimits(), 1); len(ps) != 0 {
		t.Fatalf("plain texts refused: %v", ps)
	}
	for _, tc := range []struct {
		name   string
		change func(n *NotificationRequest)
		code   int
	}{
		{"sms", func(n *NotificationRequest) { n.NotificationChannel, n.SmsBody = ChannelSms, "x" }, CodeSmsNotSupported},
		{"sms preferred", func(n *NotificationRequest) { n.NotificationChannel, n.SmsBody = ChannelSmsPreferred, "x" }, CodeSmsNotSupported},
		{"email and sms", func(n *NotificationRequest) { n.NotificationChannel, n.SmsBody = ChannelEmailAndSms, "x" }, CodeSmsNotSupported},
		{"sms reminder", func(n *NotificationRequest) {
			n.SendReminder, n.ReminderNotificationChannel, n.ReminderSmsBody = true, ChannelSms, "x"
		}, CodeSmsNotSupported},
		{"mobile number", func(n *NotificationRequest) { n.CustomRecipients = []CustomRecipient{{MobileNumber: "+4791234567"}} }, CodeSmsNotSupported},
		{"html e-mail", func(n *NotificationRequest) { n.EmailContentType = "Html" }, CodeHTMLEmailNotAllowed},
		{"html body", func(n *NotificationRequest) { n.EmailBody = "<a href=x>klikk</a>" }, CodeHTMLEmailNotAllowed},
		{"two-line subject", func(n *NotificationRequest) { n.EmailSubject = "Vedtak\r\nBcc: x@example.no" }, CodeHTMLEmailNotAllowed},
		{"link in body", func(n *NotificationRequest) { n.EmailBody = "Logg inn på altinn.no" }, CodeLinkInNotification},
		{"link in subject", func(n *NotificationRequest) { n.EmailSubject = "Se https://example.com" }, CodeLinkInNotification},
	} {
		n := ok()
		tc.change(n)
		if codes := n.validate(DefaultLimits(), 1).Codes(); !slices.Contains(codes, tc.code) {
			t.Errorf("%s: codes %v, want %d", tc.name, codes, tc.code)
		}
	}
	// EmailPreferred is e-mail in deling.
	n := ok()
	n.NotificationChannel, n.SmsBody = ChannelEmailPreferred, "x"
	if ps := n.validate(DefaultLimits(), 1); len(ps) != 0 {
		t.Fatalf("EmailPreferred refused: %v", ps)
	}
}

// An upload's Content-Type is application/octet-stream or its file's own.
func TestCheckUploadType(t *testing.T) {
	for _, tc := range []struct {
		file, ct string
		ok       bool
	}{
		{"a.pdf", "application/octet-stream", true}, {"a.pdf", "", true}, {"a.PDF", "application/pdf", true},
		{"a.txt", "text/plain; charset=utf-8", true}, {"a.pdf", "text/html", false}, {"a.pdf", "image/png", false},
		{"a.txt", "application/pdf", false},
	} {
		if p := CheckUploadType(tc.file, tc.ct); (p == nil) != tc.ok || (p != nil && (p.Status != 415 || p.Code != CodeUploadContentType)) {
			t.Errorf("%s as %q: %v", tc.file, tc.ct, p)
		}
	}
}
