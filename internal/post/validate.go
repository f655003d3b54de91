package post

import (
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"deling/internal/ident"
)

// Limits are the numbers an initialize request is checked against; the
// defaults are Altinn 3's (research §1.3, §5.1). Rules' numbers are
// configuration with these as defaults.
type Limits struct {
	MaxRecipients      int // 500
	MaxAttachments     int // 100, existing and new together (1038)
	MaxTitle           int // 255
	MaxSummary         int // 255
	MaxBody            int // 30,000
	MaxSendersRef      int // 4,096
	MaxMessageSender   int // 255
	MaxProperties      int // 10 (key 50, value 300)
	MaxExternalRefs    int // 10
	MinExpirationDays  int // 14 in production, 1 in test (2017)
	MaxEmailSubject    int // 512
	MaxEmailBody       int // 10,000
	MaxSmsBody         int // 2,144
	MaxFileName        int // 255
	MaxReplyOptionLink int // 255
	// Not Altinn's: deling's caps on what one request can make it do.
	MaxCustomRecipients int // 50 notification addresses per request, sent to for every recipient
	MaxReferenceValue   int // 1,000 characters in an external reference's value
}

// DefaultLimits are Altinn 3's production limits.
func DefaultLimits() Limits {
	return Limits{MaxRecipients: 500, MaxAttachments: 100, MaxTitle: 255, MaxSummary: 255, MaxBody: 30000,
		MaxSendersRef: 4096, MaxMessageSender: 255, MaxProperties: 10, MaxExternalRefs: 10, MinExpirationDays: 14,
		MaxEmailSubject: 512, MaxEmailBody: 10000, MaxSmsBody: 2144, MaxFileName: 255, MaxReplyOptionLink: 255,
		MaxCustomRecipients: 50, MaxReferenceValue: 1000}
}

// AllowedFileTypes are the attachment file extensions Altinn accepts.
var allowedFileTypes = []string{".doc", ".xls", ".docx", ".xlsx", ".ppt", ".pps", ".zip", ".pdf", ".html", ".txt",
	".xml", ".jpg", ".jpeg", ".gif", ".bmp", ".png", ".json", ".csv", ".dcm", ".dicom"}

// AllowedFileTypes lists the attachment file extensions accepted (research §5.1).
func AllowedFileTypes() []string { return slices.Clone(allowedFileTypes) }

// Languages are the content languages accepted (1023).
func Languages() []string { return []string{"nb", "nn", "en"} }

var (
	guidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	md5RE     = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	htmlTagRE = regexp.MustCompile(`<[a-zA-Z!/?][^>]*>`)
	e164RE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form and not all zeros.
func IsGUID(s string) bool {
	return guidRE.MatchString(s) && s != "00000000-0000-0000-0000-000000000000"
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// plainText reports whether s is one line of text without HTML tags or
// control characters, which is what Altinn means by plain text for a title,
// a summary and a sender's name; nor invisible format characters (Unicode
// Cf), which can hide an address or reverse what is shown (review of post1,
// finding 4).
func plainText(s string) bool {
	if htmlTagRE.MatchString(s) || hasFormatChar(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// RecipientOrgs is the request's recipients as organisation numbers, in order;
// only meaningful on a request Validate accepted.
func (r *InitializeRequest) RecipientOrgs() []ident.Orgnr {
	out := make([]ident.Orgnr, 0, len(r.Recipients))
	for _, s := range r.Recipients {
		if org, p := ParseRecipient(s); p == nil {
			out = append(out, org)
		}
	}
	return out
}

// Normalize trims what a sender may pad and sets the defaults: language nb.
func (r *InitializeRequest) Normalize() {
	c := &r.Correspondence
	c.ResourceID = strings.TrimSpace(c.ResourceID)
	c.SendersReference = strings.TrimSpace(c.SendersReference)
	c.MessageSender = strings.TrimSpace(c.MessageSender)
	for i, s := range r.Recipients {
		r.Recipients[i] = strings.TrimSpace(s)
	}
	if c.Content != nil {
		c.Content.MessageTitle = strings.TrimSpace(c.Content.MessageTitle)
		c.Content.MessageSummary = strings.TrimSpace(c.Content.MessageSummary)
		if c.Content.Language == "" {
			c.Content.Language = "nb"
		}
	}
	if n := c.Notification; n != nil && n.NotificationTemplate == "" {
		n.NotificationTemplate = TemplateCustomMessage
	}
}

// Validate lists everything wrong with the request as sent at now, with
// Altinn's codes where it has them. It does not look anything up: whether
// the resource, the sender, the recipients and the existing attachments
// exist is the caller's to check.
func (r *InitializeRequest) Validate(now time.Time, lim Limits) Problems {
	var ps Problems
	add := func(p *Problem) { ps = append(ps, p) }
	c := &r.Correspondence

	// Recipients: 1–500, unique, organisations.
	switch {
	case len(r.Recipients) == 0:
		add(problem(0, "recipients", "At least one recipient is required", "Velg minst én mottaker."))
	case len(r.Recipients) > lim.MaxRecipients:
		add(problem(0, "recipients", fmt.Sprintf("At most %d recipients per request", lim.MaxRecipients),
			fmt.Sprintf("Høyst %d mottakere per forsendelse.", lim.MaxRecipients)))
	default:
		seen := make(map[ident.Orgnr]bool, len(r.Recipients))
		dup := false
		for _, s := range r.Recipients {
			org, p := ParseRecipient(s)
			if p != nil {
				add(p)
				continue
			}
			if seen[org] {
				dup = true
			}
			seen[org] = true
		}
		if dup {
			add(problem(CodeDuplicateRecipients, "recipients", "Recipients must be unique", "Hver mottaker kan bare stå én gang."))
		}
	}
	if r.IdempotentKey != nil {
		if !IsGUID(*r.IdempotentKey) {
			add(problem(CodeInvalidIdempotentKey, "idempotentKey", "The idempotency key must be a valid non-empty GUID",
				"Idempotensnøkkelen må være en gyldig GUID."))
		}
		if len(r.Recipients) > 1 {
			add(problem(CodeIdempotentKeyManyRecips, "idempotentKey", "IdempotentKey is only allowed with exactly one recipient",
				"Idempotensnøkkel kan bare brukes med én mottaker."))
		}
	}
	// Not supported yet: refused, rather than accepted and left out (review finding 6).
	if len(r.ExistingAttachments) > 0 {
		add(problem(0, "existingAttachments", "existingAttachments is not supported by deling: upload the attachment with the correspondence",
			"Vedlegg som alt er lastet opp, kan ikke gjenbrukes ennå. Last opp vedlegget med meldingen."))
	}

	// The correspondence.
	switch n := runes(c.ResourceID); {
	case n == 0:
		add(problem(0, "correspondence.resourceId", "resourceId is required", "Velg tjenesten (meldingskategorien) meldingen sendes i."))
	case n > 255:
		add(problem(0, "correspondence.resourceId", "resourceId is at most 255 characters", "Tjenestens id er for lang."))
	}
	switch n := runes(c.SendersReference); {
	case n == 0:
		add(problem(0, "correspondence.sendersReference", "sendersReference is required", "Skriv avsenderens referanse."))
	case n > lim.MaxSendersRef:
		add(problem(0, "correspondence.sendersReference", fmt.Sprintf("sendersReference is at most %d characters", lim.MaxSendersRef),
			fmt.Sprintf("Avsenderens referanse kan ha høyst %d tegn.", lim.MaxSendersRef)))
	}
	if c.MessageSender != "" {
		if !plainText(c.MessageSender) {
			add(problem(CodeMessageSenderNotPlain, "correspondence.messageSender", "Message sender must be plain text",
				"Avsendernavnet må være ren tekst."))
		} else if containsLink(c.MessageSender) {
			// It is shown in deling's notification e-mails: no links in them (review finding 16).
			add(problem(0, "correspondence.messageSender", "messageSender must not contain a web address",
				"Avsendernavnet kan ikke inneholde en nettadresse."))
		} else if runes(c.MessageSender) > lim.MaxMessageSender {
			add(problem(0, "correspondence.messageSender", fmt.Sprintf("messageSender is at most %d characters", lim.MaxMessageSender),
				fmt.Sprintf("Avsendernavnet kan ha høyst %d tegn.", lim.MaxMessageSender)))
		} else if PosesAsRegister(c.MessageSender) {
			// Review finding 2: no sender sends under the register's name.
			add(problem(0, "correspondence.messageSender", "messageSender must not name the register",
				"Avsendernavnet kan ikke gi inntrykk av at meldingen er fra registerforvalteren."))
		}
	}
	attachments := len(r.ExistingAttachments)
	if c.Content == nil {
		add(problem(CodeMissingContent, "correspondence.content", "The Content field must be provided for the correspondence",
			"Meldingen mangler innhold."))
	} else {
		ps = append(ps, c.Content.validate(lim)...)
		attachments += len(c.Content.Attachments)
	}
	if attachments > lim.MaxAttachments {
		add(problem(CodeAttachmentCountExceeded, "correspondence.content.attachments",
			fmt.Sprintf("A correspondence cannot contain more than %d attachments in total", lim.MaxAttachments),
			fmt.Sprintf("En melding kan ha høyst %d vedlegg.", lim.MaxAttachments)))
	}

	// Times: the due date not before today nor before publication; required for confirmation.
	publish := now
	if c.RequestedPublishTime != nil && c.RequestedPublishTime.After(now) {
		publish = *c.RequestedPublishTime
	}
	if c.DueDateTime != nil {
		// "Today" in the offset the sender wrote, not in the server's zone.
		loc := c.DueDateTime.Location()
		y, m, d := now.In(loc).Date()
		today := time.Date(y, m, d, 0, 0, 0, 0, loc)
		if c.DueDateTime.Before(today) {
			add(problem(CodeDueDatePriorToday, "correspondence.dueDateTime", "DueDateTime cannot be prior to today",
				"Svarfristen kan ikke være før i dag."))
		} else if c.DueDateTime.Before(publish) {
			add(problem(CodeDueDatePriorPublish, "correspondence.dueDateTime", "DueDateTime cannot be prior to RequestedPublishTime",
				"Svarfristen kan ikke være før meldingen publiseres."))
		}
	} else if c.IsConfirmationNeeded {
		add(problem(CodeDueDateRequired, "correspondence.dueDateTime", "DueDateTime is required when confirmation is needed",
			"Sett en frist når mottakeren skal bekrefte meldingen."))
	}

	if len(c.ExternalReferences) > lim.MaxExternalRefs {
		add(problem(0, "correspondence.externalReferences", fmt.Sprintf("At most %d external references", lim.MaxExternalRefs),
			fmt.Sprintf("Høyst %d eksterne referanser.", lim.MaxExternalRefs)))
	}
	for _, e := range c.ExternalReferences {
		if e.ReferenceValue == "" || e.ReferenceType == "" {
			add(problem(0, "correspondence.externalReferences", "An external reference needs referenceValue and referenceType",
				"En ekstern referanse må ha både verdi og type."))
			break
		}
		// Bounded, so that one request cannot store without limit (no rule: review finding 1).
		if runes(e.ReferenceValue) > lim.MaxReferenceValue {
			add(problem(0, "correspondence.externalReferences", fmt.Sprintf("referenceValue is at most %d characters", lim.MaxReferenceValue),
				fmt.Sprintf("En ekstern referanse har høyst %d tegn.", lim.MaxReferenceValue)))
			break
		}
	}
	if len(c.PropertyList) > lim.MaxProperties {
		add(problem(0, "correspondence.propertyList", fmt.Sprintf("At most %d properties", lim.MaxProperties),
			fmt.Sprintf("Høyst %d egenskaper.", lim.MaxProperties)))
	}
	for k, v := range c.PropertyList {
		if k == "" || runes(k) > 50 || runes(v) > 300 {
			add(problem(0, "correspondence.propertyList", "Property keys are 1–50 characters, values at most 300",
				"Egenskaper har nøkler på 1–50 tegn og verdier på høyst 300 tegn."))
			break
		}
	}
	for _, o := range c.ReplyOptions {
		u, err := url.Parse(o.LinkURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || runes(o.LinkURL) > lim.MaxReplyOptionLink || runes(o.LinkText) > lim.MaxReplyOptionLink {
			add(problem(CodeInvalidReplyOptions, "correspondence.replyOptions",
				"Reply options must be well-formed URIs and HTTPS with a max length of 255 characters",
				"Svarlenker må være gyldige https-adresser på høyst 255 tegn."))
			break
		}
	}
	if n := c.Notification; n != nil {
		ps = append(ps, n.validate(lim, len(r.Recipients))...)
	}
	return ps
}

func (ct *Content) validate(lim Limits) Problems {
	var ps Problems
	add := func(p *Problem) { ps = append(ps, p) }
	const f = "correspondence.content."
	if !slices.Contains(Languages(), ct.Language) {
		add(problem(CodeInvalidLanguage, f+"language",
			"Invalid language chosen. Supported languages is Norsk bokmål (nb), Nynorsk (nn) and English (en)",
			"Språket må være nb (bokmål), nn (nynorsk) eller en (engelsk)."))
	}
	switch {
	case ct.MessageTitle == "":
		add(problem(CodeTitleEmpty, f+"messageTitle", "Message title cannot be empty", "Skriv en tittel."))
	case !plainText(ct.MessageTitle):
		add(problem(CodeTitleNotPlainText, f+"messageTitle", "Message title must be plain text", "Tittelen må være ren tekst, uten HTML."))
	case runes(ct.MessageTitle) > lim.MaxTitle:
		add(problem(CodeTitleTooLong, f+"messageTitle", fmt.Sprintf("Message title cannot exceed %d characters", lim.MaxTitle),
			fmt.Sprintf("Tittelen kan ha høyst %d tegn.", lim.MaxTitle)))
	}
	if ct.MessageSummary != "" {
		if !plainText(ct.MessageSummary) {
			add(problem(CodeSummaryNotPlainText, f+"messageSummary", "Message summary must be plain text",
				"Sammendraget må være ren tekst, uten HTML."))
		} else if runes(ct.MessageSummary) > lim.MaxSummary {
			add(problem(CodeSummaryWrongLength, f+"messageSummary",
				fmt.Sprintf("Message summary, if not null, must be between 0 and %d characters long", lim.MaxSummary),
				fmt.Sprintf("Sammendraget kan ha høyst %d tegn.", lim.MaxSummary)))
		}
	}
	switch {
	case strings.TrimSpace(ct.MessageBody) == "":
		add(problem(CodeBodyEmpty, f+"messageBody", "Message body cannot be empty", "Skriv meldingsteksten."))
	case runes(ct.MessageBody) > lim.MaxBody:
		add(problem(CodeBodyTooLong, f+"messageBody", fmt.Sprintf("Message body cannot exceed %d characters", lim.MaxBody),
			fmt.Sprintf("Meldingsteksten kan ha høyst %d tegn.", lim.MaxBody)))
	case !utf8.ValidString(ct.MessageBody) || HasRawHTML(ct.MessageBody):
		add(problem(CodeBodyNotMarkdown, f+"messageBody", "Message body must be markdown",
			"Meldingsteksten må være Markdown, uten HTML."))
	}
	for i, a := range ct.Attachments {
		ps = append(ps, a.validate(lim, fmt.Sprintf("%sattachments[%d].", f, i))...)
	}
	return ps
}

func (a *Attachment) validate(lim Limits, f string) Problems {
	var ps Problems
	add := func(p *Problem) { ps = append(ps, p) }
	switch {
	case a.FileName == "":
		add(problem(CodeFilenameMissing, f+"fileName", "Filename is missing", "Vedlegget mangler filnavn."))
	case runes(a.FileName) > lim.MaxFileName:
		add(problem(CodeFilenameTooLong, f+"fileName", "Filename is too long", fmt.Sprintf("Filnavnet kan ha høyst %d tegn.", lim.MaxFileName)))
	case strings.ContainsAny(a.FileName, `/\:*?"<>|`) || strings.ContainsFunc(a.FileName, unicode.IsControl) || strings.Trim(a.FileName, ".") == "":
		add(problem(CodeFilenameInvalid, f+"fileName", "Filename contains invalid characters", "Filnavnet har ugyldige tegn."))
	case !slices.Contains(allowedFileTypes, strings.ToLower(path.Ext(a.FileName))):
		add(problem(CodeFiletypeNotAllowed, f+"fileName", "Filetype not allowed",
			"Filtypen er ikke tillatt. Tillatt: "+strings.Join(allowedFileTypes, " ")+"."))
	}
	if runes(a.DisplayName) > 255 {
		add(problem(0, f+"displayName", "displayName is at most 255 characters", "Visningsnavnet kan ha høyst 255 tegn."))
	}
	if a.Checksum != "" && !md5RE.MatchString(a.Checksum) {
		add(problem(0, f+"checksum", "checksum must be an MD5 hash in hex", "Sjekksummen må være en MD5-sum (heksadesimal)."))
	}
	if n := runes(a.SendersReference); n == 0 || n > lim.MaxSendersRef {
		add(problem(0, f+"sendersReference", fmt.Sprintf("sendersReference is required, 1–%d characters", lim.MaxSendersRef),
			"Vedlegget må ha avsenderens referanse."))
	}
	if a.ExpirationInDays != nil && *a.ExpirationInDays < lim.MinExpirationDays {
		add(problem(CodeExpirationTooShort, f+"expirationInDays",
			fmt.Sprintf("Attachment expiration must be at least %d days", lim.MinExpirationDays),
			fmt.Sprintf("Vedlegget må være tilgjengelig i minst %d dager.", lim.MinExpirationDays)))
	}
	if a.ID != "" && !IsGUID(a.ID) {
		add(problem(0, f+"id", "id must be a GUID", "Vedleggets id må være en GUID."))
	}
	return ps
}

func (n *NotificationRequest) validate(lim Limits, recipients int) Problems {
	var ps Problems
	add := func(p *Problem) { ps = append(ps, p) }
	const f = "correspondence.notification."
	tmpl := n.NotificationTemplate
	if tmpl == "" {
		tmpl = TemplateCustomMessage // the default; Normalize sets it
	}
	if !slices.Contains(notificationTemplates, string(tmpl)) {
		add(problem(0, f+"notificationTemplate", "Unknown notificationTemplate", "Ukjent varselmal."))
	}
	if n.NotificationChannel == "" {
		add(problem(0, f+"notificationChannel", "notificationChannel is required", "Velg varslingskanal."))
	}
	if tmpl == TemplateCustomMessage {
		if p := channelContent(n.NotificationChannel, n.EmailSubject, n.EmailBody, n.SmsBody, false); p != nil {
			add(p)
		}
		if n.SendReminder {
			ch := n.ReminderNotificationChannel
			if ch == "" {
				ch = n.NotificationChannel
			}
			if p := channelContent(ch, n.ReminderEmailSubject, n.ReminderEmailBody, n.ReminderSmsBody, true); p != nil {
				add(p)
			}
		}
	}
	if runes(n.EmailSubject) > lim.MaxEmailSubject || runes(n.ReminderEmailSubject) > lim.MaxEmailSubject ||
		runes(n.EmailBody) > lim.MaxEmailBody || runes(n.ReminderEmailBody) > lim.MaxEmailBody ||
		runes(n.SmsBody) > lim.MaxSmsBody || runes(n.ReminderSmsBody) > lim.MaxSmsBody {
		add(problem(0, f[:len(f)-1], fmt.Sprintf("Notification texts are limited: e-mail subject %d, e-mail body %d, SMS %d characters",
			lim.MaxEmailSubject, lim.MaxEmailBody, lim.MaxSmsBody),
			fmt.Sprintf("Varselteksten er for lang (emne %d, e-post %d, SMS %d tegn).", lim.MaxEmailSubject, lim.MaxEmailBody, lim.MaxSmsBody)))
	}
	// Rule DPV-06: what deling does not send is refused, not accepted and dropped.
	ps = append(ps, n.deliverable()...)
	if n.OverrideRegisteredContactInformation && len(n.CustomRecipients) == 0 {
		add(problem(CodeOverrideWithoutCustom, f+"overrideRegisteredContactInformation",
			"OverrideRegisteredContactInformation flag can only be used when CustomRecipients is provided",
			"Egne varslingsadresser må oppgis når registrerte adresser skal overstyres."))
	}
	// Rule DPV-06: each custom address is notified for every recipient, so a
	// request's addresses are capped: otherwise one request to 500
	// recipients queues e-mail by the hundred thousand.
	if len(n.CustomRecipients) > lim.MaxCustomRecipients {
		add(problem(0, f+"customRecipients", fmt.Sprintf("At most %d custom recipients", lim.MaxCustomRecipients),
			fmt.Sprintf("Høyst %d ekstra varslingsmottakere.", lim.MaxCustomRecipients)))
		return ps
	}
	for _, cr := range n.CustomRecipients {
		ids := 0
		for _, s := range []string{cr.EmailAddress, cr.MobileNumber, cr.OrganizationNumber, cr.NationalIdentityNumber} {
			if s != "" {
				ids++
			}
		}
		switch {
		case ids == 0:
			add(problem(CodeCustomRecipientNoID, f+"customRecipients", "Custom recipient without identifier is not allowed",
				"En ekstra varslingsmottaker må ha en adresse."))
		case ids > 1:
			add(problem(CodeCustomRecipientManyIDs, f+"customRecipients", "Custom recipient with multiple identifiers is not allowed",
				"En ekstra varslingsmottaker kan bare ha én adresse."))
		case cr.EmailAddress != "" && !validEmail(cr.EmailAddress):
			add(problem(CodeInvalidEmail, f+"customRecipients", "Invalid email provided for custom recipient.",
				"E-postadressen er ikke gyldig."))
		case cr.MobileNumber != "" && !e164RE.MatchString(cr.MobileNumber):
			add(problem(CodeInvalidMobileNumber, f+"customRecipients",
				"Invalid mobile number provided. Mobile number can contain only '+' and numeric characters, and it must adhere to the E.164 standard.",
				"Mobilnummeret må skrives med landkode, for eksempel +4791234567."))
		}
	}
	return ps
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// channelContent checks that a custom notification has the texts its channel needs.
func channelContent(ch NotificationChannel, subject, body, sms string, reminder bool) *Problem {
	const f = "correspondence.notification"
	email := subject != "" && body != ""
	pick := func(code, rcode int, detail, melding string) *Problem {
		if reminder {
			return problem(rcode, f, "Reminder "+detail, "Revarsel: "+melding)
		}
		return problem(code, f, detail, melding)
	}
	switch ch {
	case ChannelEmail:
		if !email {
			return pick(CodeMissingEmailContent, CodeMissingEmailReminderContent,
				"email body and subject must be provided when sending email notifications", "skriv emne og tekst til e-posten.")
		}
	case ChannelSms:
		if sms == "" {
			return pick(CodeMissingSmsContent, CodeMissingSmsReminderContent,
				"SMS body must be provided when sending SMS notifications", "skriv SMS-teksten.")
		}
	case ChannelEmailPreferred, ChannelSmsPreferred, ChannelEmailAndSms:
		if !email || sms == "" {
			return pick(CodeMissingPreferredChannel, CodeMissingPreferredReminder,
				"email body, subject and SMS body must be provided when sending preferred notifications",
				"skriv både e-post (emne og tekst) og SMS-tekst.")
		}
	}
	return nil
}
