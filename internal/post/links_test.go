package post

import (
	"slices"
	"testing"
)

// Rule DPV-06 (review of post1, findings 3 and 4): what a mail client would
// make a link of, or a reader would type, is an address however it is
// written; ordinary Norwegian text with dots in it is not.
func TestContainsLink_DPV06(t *testing.T) {
	for _, tc := range []struct {
		s    string
		link bool
	}{
		// Not addresses: abbreviations, file names, references, dates, numbers.
		{"Se f.eks. vedlegget", false},
		{"Vedtaket ligger i vedtak.pdf", false},
		{"Ref.nr 2026/123", false},
		{"Frist 01.02.2026 kl. 12.00", false},
		{"Beløpet er 1.234,50 kr", false},
		{"Se vedlegg.zip og bilde.png", false},
		{"Logg inn i deling og les meldingen.", false},
		{"Hilsen Økonomiavdelingen", false},
		{"jf. forskr. § 3", false},
		// Addresses.
		{"Logg inn på altinn.no", true},
		{"Se https://example.com", true},
		{"ftp://x", true},
		{"www.evil.no", true},
		{"WWW.Evil.Example", true},
		{"evil.com", true},
		{"Ref.no 12", true}, // a heuristic: "no" is Norway's domain
		{"evil。com/deling", true},
		{"evil．com", true},
		{"evil｡com", true},
		{"evil․com", true},
		{"ｗｗｗ．evil．com", true},
		{"evil\u200b.com", true},
		{"пример.рф", true},
		{"evil.соm", true}, // Cyrillic о
		{"evil.xn--p1ai", true},
		{"192.168.10.5/login", true},
		{"Gå til 10.0.0.1", true},
	} {
		if got := containsLink(tc.s); got != tc.link {
			t.Errorf("containsLink(%q) = %v, want %v", tc.s, got, tc.link)
		}
	}
}

// Rules DPV-06, DPV-04 (review of post1, findings 2 and 4): a custom text
// naming the register, or holding an invisible format character, is
// refused; the messageSender with a format character is refused too.
func TestNotificationTextRefusals_DPV06(t *testing.T) {
	ok := func() *NotificationRequest {
		return &NotificationRequest{NotificationTemplate: TemplateCustomMessage, NotificationChannel: ChannelEmail,
			EmailSubject: "Vedtak fra avdelingen", EmailBody: "Hei.\nLogg inn i deling for å lese vedtaket fra f.eks. vedtak.pdf."}
	}
	if ps := ok().validate(DefaultLimits(), 1); len(ps) != 0 {
		t.Fatalf("plain texts refused: %v", ps)
	}
	for _, tc := range []struct {
		name   string
		change func(n *NotificationRequest)
		field  string
		code   int
	}{
		{"register in subject", func(n *NotificationRequest) { n.EmailSubject = "Melding fra Aa-registeret" }, "emailSubject", 0},
		{"register in body", func(n *NotificationRequest) { n.EmailBody = "Hilsen A A registeret" }, "emailBody", 0},
		{"authority in reminder", func(n *NotificationRequest) {
			n.SendReminder, n.ReminderEmailSubject, n.ReminderEmailBody = true, "Påminnelse", "Fra registerforvalteren"
		}, "reminderEmailBody", 0},
		{"full-width register", func(n *NotificationRequest) { n.EmailSubject = "ＡＡ-registeret" }, "emailSubject", 0},
		{"zero-width space in subject", func(n *NotificationRequest) { n.EmailSubject = "Vedtak\u200b" }, "emailSubject", CodeHTMLEmailNotAllowed},
		{"right-to-left override in body", func(n *NotificationRequest) { n.EmailBody = "Hei \u202efdp.exe" }, "emailBody", CodeHTMLEmailNotAllowed},
		{"ideographic dot link in body", func(n *NotificationRequest) { n.EmailBody = "Gå til evil。com/deling" }, "emailBody", CodeLinkInNotification},
		{"ip address in subject", func(n *NotificationRequest) { n.EmailSubject = "192.168.10.5/login" }, "emailSubject", CodeLinkInNotification},
	} {
		n := ok()
		tc.change(n)
		ps := n.validate(DefaultLimits(), 1)
		if !slices.ContainsFunc(ps, func(p *Problem) bool {
			return p.Code == tc.code && p.Field == "correspondence.notification."+tc.field
		}) {
			t.Errorf("%s: problems %v, want code %d on %s", tc.name, ps, tc.code, tc.field)
		}
		// Review of post1, finding 5: a text stored unchecked is not sent as the sender's.
		n.NotificationTemplate = TemplateCustomMessage
		kind := NotifyMain
		if tc.field == "reminderEmailBody" {
			kind = NotifyReminder
		}
		if _, _, ok := NotificationText(n, kind); ok {
			t.Errorf("%s: NotificationText used the refused text", tc.name)
		}
	}
	if _, _, ok := NotificationText(ok(), NotifyMain); !ok {
		t.Error("NotificationText refused plain texts")
	}
	r := validRequest()
	r.Correspondence.MessageSender = "Kommunen\u202e"
	if codes := r.Validate(now, DefaultLimits()).Codes(); !slices.Contains(codes, CodeMessageSenderNotPlain) {
		t.Errorf("messageSender with U+202E: codes %v, want %d", codes, CodeMessageSenderNotPlain)
	}
}

// FuzzContainsLink: any text is decided without a panic, and an address
// stays one with ordinary words around it.
func FuzzContainsLink(f *testing.F) {
	for _, s := range []string{"evil。com/deling", "ｗｗｗ．evil．com", "evil\u200b.com", "пример.рф", "192.168.10.5/login",
		"f.eks. vedtak.pdf", "Ref.nr", "https://x", "a.b.c.d", "1.2.3.4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if containsLink(s) && !containsLink("Hei "+s+" hilsen") {
			t.Fatalf("%q is an address alone but not among words", s)
		}
	})
}
