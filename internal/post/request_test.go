package post

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestDecodeInitializeAltinnShape(t *testing.T) {
	body := `{"correspondence":{"resourceId":"dpv-administrasjon","sendersReference":"r1",
	 "content":{"language":"nb","messageTitle":"T","messageSummary":"S","messageBody":"# B",
	   "attachments":[{"fileName":"a.pdf","sendersReference":"a","checksum":"0123456789abcdef0123456789abcdef","expirationInDays":30}]},
	 "requestedPublishTime":"2026-03-03T08:00:00+01:00","dueDateTime":"2026-04-01T00:00:00Z",
	 "externalReferences":[{"referenceValue":"x","referenceType":"DialogportenDialogId"},{"referenceValue":"y","referenceType":0}],
	 "propertyList":{"k":"v"},"replyOptions":[{"linkURL":"https://svar.example.no","linkText":"Svar"}],
	 "notification":{"notificationTemplate":"CustomMessage","notificationChannel":2,"emailSubject":"s","emailBody":"b","smsBody":"m","sendReminder":true,"reminderEmailSubject":"rs","reminderEmailBody":"rb","reminderSmsBody":"rm"},
	 "isConfirmationNeeded":true,"isConfidential":true,"messageSender":"Etaten","allowForwarding":true},
	 "recipients":["urn:altinn:organization:identifier-no:` + string(orgA) + `","0192:` + string(orgB) + `"],
	 "existingAttachments":["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]}`
	req, err := DecodeInitialize(strings.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.Correspondence.Notification.NotificationChannel, ChannelEmailPreferred; got != want {
		t.Errorf("channel = %q, want %q (number accepted)", got, want)
	}
	if got := req.Correspondence.ExternalReferences[1].ReferenceType; got != "Generic" {
		t.Errorf("referenceType 0 = %q, want Generic", got)
	}
	if len(req.ExistingAttachments) != 1 {
		t.Errorf("existingAttachments = %v", req.ExistingAttachments)
	}
	req.ExistingAttachments = nil // decoded, but refused (TestValidateRefusesExistingAttachmentsAndLinks)
	req.Normalize()
	if ps := req.Validate(now, DefaultLimits()); len(ps) != 0 {
		t.Fatalf("valid request refused: %v", ps)
	}
	if got := len(req.RecipientOrgs()); got != 2 {
		t.Errorf("recipients = %d, want 2", got)
	}
}

func TestDecodeInitializeStrict(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"unknown field", `{"correspondence":{},"recipients":[],"extra":1}`},
		{"unknown nested field", `{"correspondence":{"allowSystemDeleteAfter":"2026-01-01T00:00:00Z"}}`},
		{"trailing data", `{"recipients":[]} {}`},
		{"not JSON", `<xml/>`},
		{"unknown enum", `{"correspondence":{"notification":{"notificationChannel":"Pigeon"}}}`},
		{"enum out of range", `{"correspondence":{"notification":{"notificationChannel":9}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeInitialize(strings.NewReader(tc.body), 0)
			var p *Problem
			if !errors.As(err, &p) || p.Code != CodeMalformedRequest {
				t.Fatalf("err = %v, want problem %d", err, CodeMalformedRequest)
			}
		})
	}
	_, err := DecodeInitialize(strings.NewReader(`{"recipients":["`+strings.Repeat("x", 100)+`"]}`), 50)
	var p *Problem
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &p) || p.Status != 413 {
		t.Fatalf("oversize: err = %v, want ErrTooLarge with 413", err)
	}
}

func TestValidateCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *InitializeRequest)
		code   int
		field  string
	}{
		{"no content", func(r *InitializeRequest) { r.Correspondence.Content = nil }, CodeMissingContent, "correspondence.content"},
		{"empty title", func(r *InitializeRequest) { r.Correspondence.Content.MessageTitle = "" }, CodeTitleEmpty, "correspondence.content.messageTitle"},
		{"html title", func(r *InitializeRequest) { r.Correspondence.Content.MessageTitle = "<b>x</b>" }, CodeTitleNotPlainText, "correspondence.content.messageTitle"},
		{"long title", func(r *InitializeRequest) { r.Correspondence.Content.MessageTitle = strings.Repeat("æ", 256) }, CodeTitleTooLong, "correspondence.content.messageTitle"},
		{"html summary", func(r *InitializeRequest) { r.Correspondence.Content.MessageSummary = "<script>x</script>" }, CodeSummaryNotPlainText, "correspondence.content.messageSummary"},
		{"long summary", func(r *InitializeRequest) { r.Correspondence.Content.MessageSummary = strings.Repeat("a", 256) }, CodeSummaryWrongLength, "correspondence.content.messageSummary"},
		{"empty body", func(r *InitializeRequest) { r.Correspondence.Content.MessageBody = "  " }, CodeBodyEmpty, "correspondence.content.messageBody"},
		{"long body", func(r *InitializeRequest) { r.Correspondence.Content.MessageBody = strings.Repeat("a", 30001) }, CodeBodyTooLong, "correspondence.content.messageBody"},
		{"html body", func(r *InitializeRequest) { r.Correspondence.Content.MessageBody = "Hei <script>alert(1)</script>" }, CodeBodyNotMarkdown, "correspondence.content.messageBody"},
		{"language", func(r *InitializeRequest) { r.Correspondence.Content.Language = "sv" }, CodeInvalidLanguage, "correspondence.content.language"},
		{"duplicate recipients", func(r *InitializeRequest) {
			r.Recipients = []string{RecipientURN(orgA), "0192:" + string(orgA)}
		}, CodeDuplicateRecipients, "recipients"},
		{"person recipient", func(r *InitializeRequest) { r.Recipients = []string{"urn:altinn:person:identifier-no:01010112345"} }, CodeRecipientNotOrg, "recipients"},
		{"no recipients", func(r *InitializeRequest) { r.Recipients = nil }, 0, "recipients"},
		{"501 recipients", func(r *InitializeRequest) { r.Recipients = make([]string, 501) }, 0, "recipients"},
		{"bad orgnr", func(r *InitializeRequest) { r.Recipients = []string{OrgURNPrefix + "123456789"} }, 0, "recipients"},
		{"due before today", func(r *InitializeRequest) {
			d := now.AddDate(0, 0, -1)
			r.Correspondence.DueDateTime = &d
		}, CodeDueDatePriorToday, "correspondence.dueDateTime"},
		{"due before publish", func(r *InitializeRequest) {
			p, d := now.AddDate(0, 0, 10), now.AddDate(0, 0, 5)
			r.Correspondence.RequestedPublishTime, r.Correspondence.DueDateTime = &p, &d
		}, CodeDueDatePriorPublish, "correspondence.dueDateTime"},
		{"confirmation without due", func(r *InitializeRequest) { r.Correspondence.DueDateTime = nil }, CodeDueDateRequired, "correspondence.dueDateTime"},
		{"bad key", func(r *InitializeRequest) { k := "nope"; r.IdempotentKey = &k }, CodeInvalidIdempotentKey, "idempotentKey"},
		{"key with two recipients", func(r *InitializeRequest) {
			k := "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
			r.IdempotentKey, r.Recipients = &k, []string{RecipientURN(orgA), RecipientURN(orgB)}
		}, CodeIdempotentKeyManyRecips, "idempotentKey"},
		{"http reply option", func(r *InitializeRequest) { r.Correspondence.ReplyOptions = []ReplyOption{{LinkURL: "http://x.no"}} }, CodeInvalidReplyOptions, "correspondence.replyOptions"},
		{"101 attachments", func(r *InitializeRequest) {
			for range 100 {
				r.ExistingAttachments = append(r.ExistingAttachments, "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
			}
		}, CodeAttachmentCountExceeded, "correspondence.content.attachments"},
		{"html sender name", func(r *InitializeRequest) { r.Correspondence.MessageSender = "<img src=x>" }, CodeMessageSenderNotPlain, "correspondence.messageSender"},
		{"exe attachment", func(r *InitializeRequest) { r.Correspondence.Content.Attachments[0].FileName = "x.exe" }, CodeFiletypeNotAllowed, "correspondence.content.attachments[0].fileName"},
		{"path attachment", func(r *InitializeRequest) { r.Correspondence.Content.Attachments[0].FileName = "../x.pdf" }, CodeFilenameInvalid, "correspondence.content.attachments[0].fileName"},
		{"no filename", func(r *InitializeRequest) { r.Correspondence.Content.Attachments[0].FileName = "" }, CodeFilenameMissing, "correspondence.content.attachments[0].fileName"},
		{"short expiry", func(r *InitializeRequest) { d := 3; r.Correspondence.Content.Attachments[0].ExpirationInDays = &d }, CodeExpirationTooShort, "correspondence.content.attachments[0].expirationInDays"},
		{"email without subject", func(r *InitializeRequest) {
			r.Correspondence.Notification = &NotificationRequest{NotificationChannel: ChannelEmail, EmailBody: "b"}
		}, CodeMissingEmailContent, "correspondence.notification"},
		{"sms reminder without text", func(r *InitializeRequest) {
			r.Correspondence.Notification = &NotificationRequest{NotificationChannel: ChannelSms, SmsBody: "b", SendReminder: true}
		}, CodeMissingSmsReminderContent, "correspondence.notification"},
		{"override without custom", func(r *InitializeRequest) {
			r.Correspondence.Notification = &NotificationRequest{NotificationTemplate: TemplateGenericAltinnMessage, NotificationChannel: ChannelEmail, OverrideRegisteredContactInformation: true}
		}, CodeOverrideWithoutCustom, "correspondence.notification.overrideRegisteredContactInformation"},
		{"bad mobile", func(r *InitializeRequest) {
			r.Correspondence.Notification = &NotificationRequest{NotificationTemplate: TemplateGenericAltinnMessage, NotificationChannel: ChannelSms,
				CustomRecipients: []CustomRecipient{{MobileNumber: "91234567"}}}
		}, CodeInvalidMobileNumber, "correspondence.notification.customRecipients"},
		{"two ids", func(r *InitializeRequest) {
			r.Correspondence.Notification = &NotificationRequest{NotificationTemplate: TemplateGenericAltinnMessage, NotificationChannel: ChannelSms,
				CustomRecipients: []CustomRecipient{{MobileNumber: "+4791234567", EmailAddress: "a@b.no"}}}
		}, CodeCustomRecipientManyIDs, "correspondence.notification.customRecipients"},
		{"no resource", func(r *InitializeRequest) { r.Correspondence.ResourceID = "" }, 0, "correspondence.resourceId"},
		{"no reference", func(r *InitializeRequest) { r.Correspondence.SendersReference = "" }, 0, "correspondence.sendersReference"},
		{"eleven properties", func(r *InitializeRequest) {
			r.Correspondence.PropertyList = map[string]string{}
			for i := range 11 {
				r.Correspondence.PropertyList[strings.Repeat("k", i+1)] = "v"
			}
		}, 0, "correspondence.propertyList"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			tc.change(r)
			r.Normalize()
			ps := r.Validate(now, DefaultLimits())
			if !hasCode(ps, tc.code) {
				t.Fatalf("codes = %v, want %d (%v)", ps.Codes(), tc.code, ps)
			}
			msg, ok := ps.ByField()[tc.field]
			if !ok || msg == "" {
				t.Errorf("no Norwegian message for %q: %v", tc.field, ps.ByField())
			}
			for _, p := range ps {
				if p.Detail == "" || p.Melding == "" {
					t.Errorf("problem %d without both texts: %+v", p.Code, p)
				}
			}
		})
	}
}

func TestValidRequestPasses(t *testing.T) {
	r := validRequest()
	r.Normalize()
	if ps := r.Validate(now, DefaultLimits()); len(ps) != 0 {
		t.Fatalf("refused: %v", ps)
	}
	r.Recipients = make([]string, 500)
	for i := range r.Recipients {
		r.Recipients[i] = RecipientURN(syntheticOrg(i + 10))
	}
	if ps := r.Validate(now, DefaultLimits()); len(ps) != 0 {
		t.Fatalf("500 recipients refused: %v", ps)
	}
}

// Rule DPV-06: every custom address is notified for every recipient, so a
// request's custom addresses are capped (review finding 1), as is the
// length of an external reference's value.
func TestValidateCapsCustomRecipientsAndReferenceValue(t *testing.T) {
	lim := DefaultLimits()
	r := validRequest()
	r.Correspondence.Notification = &NotificationRequest{NotificationChannel: ChannelEmail, EmailSubject: "s", EmailBody: "b"}
	for i := range lim.MaxCustomRecipients {
		r.Correspondence.Notification.CustomRecipients = append(r.Correspondence.Notification.CustomRecipients,
			CustomRecipient{EmailAddress: "v" + strings.Repeat("x", i) + "@example.org"})
	}
	r.Normalize()
	if ps := r.Validate(now, lim); len(ps) != 0 {
		t.Fatalf("%d custom recipients refused: %v", lim.MaxCustomRecipients, ps)
	}
	r.Correspondence.Notification.CustomRecipients = append(r.Correspondence.Notification.CustomRecipients, CustomRecipient{EmailAddress: "one@example.org"})
	if ps := r.Validate(now, lim); len(ps) == 0 {
		t.Errorf("%d custom recipients accepted", lim.MaxCustomRecipients+1)
	}
	r = validRequest()
	r.Correspondence.ExternalReferences = []ExternalReference{{ReferenceValue: strings.Repeat("x", lim.MaxReferenceValue+1), ReferenceType: "Generic"}}
	r.Normalize()
	if ps := r.Validate(now, lim); len(ps) == 0 {
		t.Errorf("a %d-character referenceValue accepted", lim.MaxReferenceValue+1)
	}
}

// Review findings 6 and 16: existingAttachments is refused until deling
// supports it, not accepted and ignored; messageSender, shown in deling's
// notification e-mails, carries no web address.
func TestValidateRefusesExistingAttachmentsAndLinks(t *testing.T) {
	r := validRequest()
	r.ExistingAttachments = []string{"3f2504e0-4f89-11d3-9a0c-0305e82c3301"}
	r.Normalize()
	if ps := r.Validate(now, DefaultLimits()); len(ps) == 0 {
		t.Error("existingAttachments accepted")
	}
	for _, ms := range []string{"https://svindel.example", "Gå til www.svindel.example", "svindel.com/logg-inn", "evil。com/deling", "NAV.no"} {
		r := validRequest()
		r.Correspondence.MessageSender = ms
		r.Normalize()
		if ps := r.Validate(now, DefaultLimits()); len(ps) == 0 {
			t.Errorf("messageSender %q accepted", ms)
		}
	}
	for _, ms := range []string{"Testkommune, plan og bygg", "St. Olavs hospital", "Nordre Follo kommune v/ Plan"} {
		r := validRequest()
		r.Correspondence.MessageSender = ms
		r.Normalize()
		if ps := r.Validate(now, DefaultLimits()); len(ps) != 0 {
			t.Errorf("messageSender %q refused: %v", ms, ps)
		}
	}
}

// dueDateTime and requestedPublishTime are read with the offset the sender
// wrote (RFC 3339), not in the server's zone: a time without an offset is
// refused with a clear problem, and "today" for the due date is the
// sender's today in its own offset.
func TestTimesWithTheirOffset(t *testing.T) {
	for _, ts := range []string{"2026-06-01T10:00:00", "2026-06-01 10:00:00+02:00", "01.06.2026"} {
		_, err := DecodeInitialize(strings.NewReader(`{"correspondence":{"dueDateTime":"`+ts+`"},"recipients":[]}`), 0)
		var p *Problem
		if !errors.As(err, &p) || p.Code != CodeMalformedRequest || !strings.Contains(p.Detail, "explicit offset") {
			t.Errorf("%s: %v", ts, err)
		}
	}
	// 23:30 UTC on 1 June on the server; in New York (-05:00) it is still the afternoon of 1 June.
	server := time.Date(2026, 6, 1, 23, 30, 0, 0, time.UTC)
	r := validRequest()
	r.Normalize()
	due, err := time.Parse(time.RFC3339, "2026-05-31T23:00:00-05:00") // the sender's yesterday
	if err != nil {
		t.Fatal(err)
	}
	r.Correspondence.DueDateTime = &due
	if ps := r.Validate(server, DefaultLimits()); len(ps) == 0 || ps[0].Code != CodeDueDatePriorToday {
		t.Fatalf("a due date the day before the sender's today: %v, want %d", ps, CodeDueDatePriorToday)
	}
	due, _ = time.Parse(time.RFC3339, "2026-06-02T09:00:00+14:00") // the sender's today, after now
	if due.Before(server) {
		due = due.Add(24 * time.Hour)
	}
	r.Correspondence.DueDateTime = &due
	if ps := r.Validate(server, DefaultLimits()); len(ps) != 0 {
		t.Fatalf("a due date ahead in +14:00: %v", ps)
	}
}
