package post

import (
	"fmt"
	"path"
	"strings"
	"unicode"
)

// Notification texts and channels as deling honours them (Rule DPV-06).
// deling sends e-mail only: a request that asks for SMS (the Sms,
// SmsPreferred and EmailAndSms channels, or a custom recipient's mobile
// number) is refused (9009) rather than accepted and not sent. EmailPreferred
// is e-mail, as every notification address deling keeps is an e-mail
// address. A CustomMessage's emailSubject/emailBody (and the reminder's) are
// used in the notification e-mail as plain text, within Altinn's lengths:
// one line for the subject, no HTML (emailContentType Html is refused,
// 9010), and no web address (9011) — the e-mail comes from deling, and a
// link in it would look like deling's.

// emailChannel reports whether ch travels as e-mail in deling.
func emailChannel(ch NotificationChannel) bool {
	return ch == "" || ch == ChannelEmail || ch == ChannelEmailPreferred
}

// deliverable lists what in n deling would not send as asked.
func (n *NotificationRequest) deliverable() Problems {
	var ps Problems
	const f = "correspondence.notification."
	sms := func(field string) *Problem {
		return problem(CodeSmsNotSupported, f+field, "deling sends notifications by e-mail only: use notificationChannel Email",
			"deling sender varsler bare på e-post, ikke SMS: velg e-post som varslingskanal.")
	}
	if !emailChannel(n.NotificationChannel) {
		ps = append(ps, sms("notificationChannel"))
	}
	if n.SendReminder && !emailChannel(n.ReminderNotificationChannel) {
		ps = append(ps, sms("reminderNotificationChannel"))
	}
	for _, cr := range n.CustomRecipients {
		if cr.MobileNumber != "" {
			ps = append(ps, sms("customRecipients"))
			break
		}
	}
	if n.EmailContentType == "Html" || n.ReminderEmailContentType == "Html" {
		ps = append(ps, problem(CodeHTMLEmailNotAllowed, f+"emailContentType", "deling sends notification e-mails as plain text: use emailContentType Plain",
			"Varsler sendes som ren tekst: HTML kan ikke brukes."))
	}
	for _, t := range []struct {
		field, s string
		subject  bool
	}{{"emailSubject", n.EmailSubject, true}, {"emailBody", n.EmailBody, false},
		{"reminderEmailSubject", n.ReminderEmailSubject, true}, {"reminderEmailBody", n.ReminderEmailBody, false}} {
		if p := textProblem(t.field, t.s, t.subject); p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// textProblem is what is wrong with one of a CustomMessage's e-mail texts
// (field names it), nil if nothing: a subject is one line of plain text, a
// body plain text; neither holds a web address (9011) nor names the register
// (review of post1, finding 2: the e-mail's From name is the register's).
func textProblem(field, s string, subject bool) *Problem {
	const f = "correspondence.notification."
	switch {
	case subject && !plainText(s):
		return problem(CodeHTMLEmailNotAllowed, f+field, field+" must be one line of plain text, without invisible formatting characters",
			"Emnet må være én linje ren tekst.")
	case !subject && !plainBody(s):
		return problem(CodeHTMLEmailNotAllowed, f+field, field+" must be plain text without HTML or invisible formatting characters",
			"Varselteksten må være ren tekst uten HTML.")
	case containsLink(s):
		return problem(CodeLinkInNotification, f+field, field+" must not contain a web address: the recipient reads the post in deling",
			"Varselteksten kan ikke inneholde en nettadresse: mottakeren leser posten i deling.")
	case NamesRegister(s):
		return problem(0, f+field, field+" must not name the register",
			"Varselteksten kan ikke gi inntrykk av at meldingen er fra registerforvalteren.")
	}
	return nil
}

// plainBody reports whether s is plain text of any number of lines: no HTML
// tags, no control characters but line breaks and tabs, no invisible format
// characters (Unicode Cf).
func plainBody(s string) bool {
	if htmlTagRE.MatchString(s) || hasFormatChar(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// NotificationText is the sender's own subject and body for a notification
// of kind, when it asked for a CustomMessage with texts for it; ok is false
// for deling's own texts (GenericAltinnMessage, no texts, or the
// confidential reminder, whose text is deling's). Validate has checked the
// texts when they were sent; they are checked again here, as texts stored
// under older, laxer checks would otherwise go out unchecked, and ok is
// false if they fail now (review of post1, finding 5). The body's line
// breaks are made CRLF-free.
func NotificationText(n *NotificationRequest, kind NotificationKind) (subject, body string, ok bool) {
	if n == nil || n.NotificationTemplate == TemplateGenericAltinnMessage {
		return "", "", false
	}
	switch kind {
	case NotifyMain:
		subject, body = n.EmailSubject, n.EmailBody
	case NotifyReminder:
		subject, body = n.ReminderEmailSubject, n.ReminderEmailBody
	}
	if subject == "" || body == "" || textProblem("subject", subject, true) != nil || textProblem("body", body, false) != nil {
		return "", "", false
	}
	return strings.TrimSpace(subject), strings.ReplaceAll(body, "\r\n", "\n"), true
}

// uploadTypes are the content types an upload may carry for a file type
// (AllowedFileTypes), besides application/octet-stream, which is Altinn's.
var uploadTypes = map[string][]string{
	".doc": {"application/msword"}, ".xls": {"application/vnd.ms-excel"},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	".ppt":  {"application/vnd.ms-powerpoint"}, ".pps": {"application/vnd.ms-powerpoint"},
	".zip": {"application/zip", "application/x-zip-compressed"}, ".pdf": {"application/pdf"},
	".html": {"text/html"}, ".txt": {"text/plain"}, ".xml": {"application/xml", "text/xml"},
	".jpg": {"image/jpeg"}, ".jpeg": {"image/jpeg"}, ".gif": {"image/gif"}, ".bmp": {"image/bmp"},
	".png": {"image/png"}, ".json": {"application/json"}, ".csv": {"text/csv"},
	".dcm": {"application/dicom"}, ".dicom": {"application/dicom"},
}

// CheckUploadType refuses an upload whose Content-Type is neither
// application/octet-stream nor the type of the attachment's declared file
// name (9012, 415); parameters such as charset are ignored, and an upload
// without a Content-Type is taken as application/octet-stream.
func CheckUploadType(fileName, contentType string) *Problem {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	if ct == "" || ct == "application/octet-stream" {
		return nil
	}
	for _, t := range uploadTypes[strings.ToLower(path.Ext(fileName))] {
		if ct == t {
			return nil
		}
	}
	p := problem(CodeUploadContentType, "Content-Type",
		fmt.Sprintf("Content-Type %q does not match the attachment's file %q: send application/octet-stream", ct, fileName),
		"Vedlegget må lastes opp som application/octet-stream eller med filtypens egen innholdstype.")
	p.Status = 415
	return p
}
