package post

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// InitializeRequest is the body of POST /correspondence/api/v1/correspondence
// (Altinn 3's InitializeCorrespondencesExt): one correspondence to each of
// 1–500 recipients. JSON names are Altinn's, unchanged.
type InitializeRequest struct {
	Correspondence      Correspondence `json:"correspondence"`
	Recipients          []string       `json:"recipients"`
	ExistingAttachments []string       `json:"existingAttachments,omitempty"`
	// IdempotentKey is a GUID; only with exactly one recipient (1047).
	IdempotentKey *string `json:"idempotentKey,omitempty"`
}

// Correspondence is Altinn's BaseCorrespondenceExt: what every recipient of
// one request gets.
type Correspondence struct {
	// ResourceID names the service category the message is sent in (Rule DPV-02, see Category).
	ResourceID string `json:"resourceId"`
	// Sender is deprecated in Altinn and ignored here too: the sender is the
	// caller (or the actual sender it acts for, Rule DPV-04).
	Sender           string `json:"sender,omitempty"`
	SendersReference string `json:"sendersReference"`
	// MessageSender is a display name shown instead of the sender's registered name.
	MessageSender        string              `json:"messageSender,omitempty"`
	Content              *Content            `json:"content"`
	RequestedPublishTime *time.Time          `json:"requestedPublishTime,omitempty"`
	DueDateTime          *time.Time          `json:"dueDateTime,omitempty"`
	ExternalReferences   []ExternalReference `json:"externalReferences,omitempty"`
	// PropertyList carries free key/value pairs; "senderOrgNumber" names the
	// actual sender when sending on behalf of another (Rule DPV-04, eFormidling's convention).
	PropertyList         map[string]string    `json:"propertyList,omitempty"`
	ReplyOptions         []ReplyOption        `json:"replyOptions,omitempty"`
	Notification         *NotificationRequest `json:"notification,omitempty"`
	IgnoreReservation    bool                 `json:"ignoreReservation,omitempty"`
	IsConfirmationNeeded bool                 `json:"isConfirmationNeeded,omitempty"`
	IsConfidential       bool                 `json:"isConfidential,omitempty"`
	AllowForwarding      bool                 `json:"allowForwarding,omitempty"`
}

// Content is Altinn's InitializeCorrespondenceContentExt.
type Content struct {
	Language       string       `json:"language,omitempty"` // nb (default), nn or en
	MessageTitle   string       `json:"messageTitle"`
	MessageSummary string       `json:"messageSummary,omitempty"`
	MessageBody    string       `json:"messageBody"` // CommonMark; rendered by RenderBody
	Attachments    []Attachment `json:"attachments,omitempty"`
}

// Attachment is the metadata of an attachment initialized with the
// correspondence (InitializeCorrespondenceAttachmentExt); its bytes are
// uploaded separately.
type Attachment struct {
	ID               string `json:"id,omitempty"`
	FileName         string `json:"fileName"`
	DisplayName      string `json:"displayName,omitempty"`
	IsEncrypted      bool   `json:"isEncrypted,omitempty"`
	Checksum         string `json:"checksum,omitempty"` // MD5, hex
	SendersReference string `json:"sendersReference"`
	ExpirationInDays *int   `json:"expirationInDays,omitempty"`
	DataLocationType string `json:"dataLocationType,omitempty"`
}

// ExternalReference is a reference to something outside the correspondence.
type ExternalReference struct {
	ReferenceValue string        `json:"referenceValue"`
	ReferenceType  ReferenceType `json:"referenceType"`
}

// ReplyOption is a link the recipient can answer through.
type ReplyOption struct {
	LinkURL  string `json:"linkURL"`
	LinkText string `json:"linkText,omitempty"`
}

// NotificationRequest is Altinn's InitializeCorrespondenceNotificationExt:
// how the recipient is told of the correspondence (Rule DPV-06).
type NotificationRequest struct {
	NotificationTemplate                 NotificationTemplate `json:"notificationTemplate,omitempty"`
	NotificationChannel                  NotificationChannel  `json:"notificationChannel"`
	EmailSubject                         string               `json:"emailSubject,omitempty"`
	EmailBody                            string               `json:"emailBody,omitempty"`
	EmailContentType                     EmailContentType     `json:"emailContentType,omitempty"`
	SmsBody                              string               `json:"smsBody,omitempty"`
	SendReminder                         bool                 `json:"sendReminder,omitempty"`
	ReminderEmailSubject                 string               `json:"reminderEmailSubject,omitempty"`
	ReminderEmailBody                    string               `json:"reminderEmailBody,omitempty"`
	ReminderEmailContentType             EmailContentType     `json:"reminderEmailContentType,omitempty"`
	ReminderSmsBody                      string               `json:"reminderSmsBody,omitempty"`
	ReminderNotificationChannel          NotificationChannel  `json:"reminderNotificationChannel,omitempty"`
	SendersReference                     string               `json:"sendersReference,omitempty"`
	CustomRecipients                     []CustomRecipient    `json:"customRecipients,omitempty"`
	OverrideRegisteredContactInformation bool                 `json:"overrideRegisteredContactInformation,omitempty"`
}

// CustomRecipient is an extra notification address, with exactly one identifier.
type CustomRecipient struct {
	EmailAddress           string `json:"emailAddress,omitempty"`
	MobileNumber           string `json:"mobileNumber,omitempty"`
	OrganizationNumber     string `json:"organizationNumber,omitempty"`
	NationalIdentityNumber string `json:"nationalIdentityNumber,omitempty"`
	IsReserved             bool   `json:"isReserved,omitempty"`
}

// Altinn's enums travel as names; its .NET API also accepts their numbers,
// so these types accept both and always write the name.

// ReferenceType is what an external reference points at.
type ReferenceType string

// NotificationChannel is how a notification travels.
type NotificationChannel string

// NotificationTemplate is which notification text is used.
type NotificationTemplate string

// EmailContentType is whether an e-mail body is plain text or HTML.
type EmailContentType string

var (
	referenceTypes = []string{"Generic", "AltinnAppInstance", "AltinnBrokerFileTransfer", "DialogportenDialogId",
		"DialogportenProcessId", "DialogportenTransmissionId", "DialogportenTransmissionType"}
	notificationChannels  = []string{"Email", "Sms", "EmailPreferred", "SmsPreferred", "EmailAndSms"}
	notificationTemplates = []string{"CustomMessage", "GenericAltinnMessage"}
	emailContentTypes     = []string{"Plain", "Html"}
)

// The notification channels.
const (
	ChannelEmail          NotificationChannel = "Email"
	ChannelSms            NotificationChannel = "Sms"
	ChannelEmailPreferred NotificationChannel = "EmailPreferred"
	ChannelSmsPreferred   NotificationChannel = "SmsPreferred"
	ChannelEmailAndSms    NotificationChannel = "EmailAndSms"
)

// The notification templates.
const (
	TemplateCustomMessage        NotificationTemplate = "CustomMessage"
	TemplateGenericAltinnMessage NotificationTemplate = "GenericAltinnMessage"
)

func enumName(b []byte, names []string, what string) (string, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", nil // not set
		}
		for _, n := range names {
			if n == s {
				return n, nil
			}
		}
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(names) {
			return names[i], nil
		}
		return "", fmt.Errorf("unknown %s %q", what, s)
	}
	var i int
	if err := json.Unmarshal(b, &i); err != nil {
		return "", fmt.Errorf("%s: want a name or a number", what)
	}
	if i < 0 || i >= len(names) {
		return "", fmt.Errorf("unknown %s %d", what, i)
	}
	return names[i], nil
}

// UnmarshalJSON accepts the name or the number.
func (t *ReferenceType) UnmarshalJSON(b []byte) error {
	s, err := enumName(b, referenceTypes, "referenceType")
	*t = ReferenceType(s)
	return err
}

// UnmarshalJSON accepts the name or the number.
func (c *NotificationChannel) UnmarshalJSON(b []byte) error {
	s, err := enumName(b, notificationChannels, "notificationChannel")
	*c = NotificationChannel(s)
	return err
}

// UnmarshalJSON accepts the name or the number.
func (t *NotificationTemplate) UnmarshalJSON(b []byte) error {
	s, err := enumName(b, notificationTemplates, "notificationTemplate")
	*t = NotificationTemplate(s)
	return err
}

// UnmarshalJSON accepts the name or the number.
func (t *EmailContentType) UnmarshalJSON(b []byte) error {
	s, err := enumName(b, emailContentTypes, "emailContentType")
	*t = EmailContentType(s)
	return err
}

// MaxRequestBytes is the default limit on an initialize request's body:
// 500 recipients and a 30,000-character body fit many times over.
const MaxRequestBytes = 2 << 20

// ErrTooLarge is the error of a body over the limit.
var ErrTooLarge = errors.New("post: request body too large")

// DecodeInitialize reads an initialize request from outside: at most max
// bytes (MaxRequestBytes if max ≤ 0), one JSON object, unknown fields
// refused, nothing after it. An error is a *Problem the API answers with
// 400 (or 413 for a body over the limit).
func DecodeInitialize(r io.Reader, max int64) (*InitializeRequest, error) {
	if max <= 0 {
		max = MaxRequestBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("post: read request: %w", err)
	}
	if int64(len(data)) > max {
		p := problem(CodeRequestTooLarge, "", fmt.Sprintf("Request body exceeds %d bytes", max),
			fmt.Sprintf("Forespørselen er større enn %d byte.", max))
		p.Status = 413
		return nil, errors.Join(ErrTooLarge, p)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var req InitializeRequest
	if err := dec.Decode(&req); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(errors.New("data after the JSON object"))
	}
	return &req, nil
}

func malformed(err error) *Problem {
	// requestedPublishTime and dueDateTime: RFC 3339 with their offset, never
	// read in the server's zone.
	if pe := (*time.ParseError)(nil); errors.As(err, &pe) {
		return problem(CodeMalformedRequest, "", "Times must be RFC 3339 with an explicit offset, e.g. 2026-06-01T12:00:00+02:00 or 2026-06-01T10:00:00Z: "+err.Error(),
			"Tidspunkter må skrives etter RFC 3339 med tidssone, for eksempel 2026-06-01T12:00:00+02:00.")
	}
	return problem(CodeMalformedRequest, "", "Malformed request: "+err.Error(),
		"Forespørselen er ikke gyldig JSON av riktig form: "+err.Error())
}
