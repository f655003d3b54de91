package post

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a request or a step: what the API answers
// in its problem details and the portal shows beside a field.
type Problem struct {
	// Code is Altinn Correspondence's numeric errorCode (1xxx correspondence,
	// 2xxx attachment, 3xxx notification, 4xxx authorisation) where Altinn
	// has one, deling's own (9xxx, outside Altinn's ranges) for DPV rules
	// Altinn 3 does not carry, and 0 for model validation, which Altinn
	// answers as a validation problem with an errors map and no errorCode.
	Code int
	// Status is the HTTP status Altinn answers with (400 unless said).
	Status int
	// Field is the JSON path the problem is about, e.g.
	// "correspondence.content.messageTitle"; "" for the request as a whole.
	Field string
	// Detail is the English text, Altinn's where it has one.
	Detail string
	// Melding is the Norwegian (Bokmål) text for the portal.
	Melding string
}

func (p *Problem) Error() string {
	if p.Code != 0 {
		return fmt.Sprintf("post: %d %s", p.Code, p.Detail)
	}
	return "post: " + p.Field + ": " + p.Detail
}

// Problems are all that is wrong with a request, in the order found.
type Problems []*Problem

func (ps Problems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Err is nil when there are no problems, else ps itself.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// ByField is the first Norwegian message per field, as the portal's forms show them.
func (ps Problems) ByField() map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		if _, ok := m[p.Field]; !ok {
			m[p.Field] = p.Melding
		}
	}
	return m
}

// First is the first problem with an Altinn error code, else the first one;
// the API answers one problem with its code and lists the others.
func (ps Problems) First() *Problem {
	for _, p := range ps {
		if p.Code != 0 {
			return p
		}
	}
	if len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// Codes lists the problems' codes, for tests and logs.
func (ps Problems) Codes() []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.Code
	}
	return out
}

func problem(code int, field, detail, melding string) *Problem {
	return &Problem{Code: code, Status: 400, Field: field, Detail: detail, Melding: melding}
}

// Altinn Correspondence's error codes used here
// (Altinn/altinn-correspondence src/Altinn.Correspondence.Application/Errors.cs).
const (
	CodeNotFound                = 1001
	CodeTitleNotPlainText       = 1002
	CodeBodyNotMarkdown         = 1003
	CodeSummaryNotPlainText     = 1004
	CodeDuplicateRecipients     = 1006
	CodeDueDatePriorToday       = 1008
	CodeDueDatePriorPublish     = 1009
	CodeCantPurgePublished      = 1013
	CodeAlreadyPurged           = 1014
	CodeDueDateRequired         = 1016
	CodeMissingContent          = 1019
	CodeTitleEmpty              = 1020
	CodeBodyEmpty               = 1021
	CodeBodyTooLong             = 1022
	CodeInvalidLanguage         = 1023
	CodeReadBeforeFetched       = 1024
	CodeConfirmBeforeFetched    = 1025
	CodePurgeBeforeConfirmed    = 1026
	CodeInvalidDateRange        = 1027
	CodeInvalidIdempotentKey    = 1033
	CodeDuplicateIdempotentKey  = 1034
	CodeInvalidReplyOptions     = 1035
	CodeTitleTooLong            = 1037
	CodeAttachmentCountExceeded = 1038
	CodeMessageSenderNotPlain   = 1039
	CodeAlreadyRead             = 1040
	CodeAlreadyConfirmed        = 1041
	CodeSummaryWrongLength      = 1042
	CodeConfidentialNoKeyRole   = 1044
	CodeIdempotentKeyManyRecips = 1047

	CodeFilenameMissing    = 2010
	CodeFilenameTooLong    = 2011
	CodeFilenameInvalid    = 2012
	CodeFiletypeNotAllowed = 2013
	CodeExpirationTooShort = 2017

	CodeMissingEmailContent         = 3002
	CodeMissingEmailReminderContent = 3003
	CodeMissingSmsContent           = 3004
	CodeMissingSmsReminderContent   = 3005
	CodeMissingPreferredChannel     = 3006
	CodeMissingPreferredReminder    = 3007
	CodeInvalidEmail                = 3011
	CodeInvalidMobileNumber         = 3012
	CodeCustomRecipientManyIDs      = 3018
	CodeCustomRecipientNoID         = 3019
	CodeOverrideWithoutCustom       = 3022

	CodeNoAccessToResource = 4001
)

// deling's own codes for DPV rules that Altinn 3 does not carry.
const (
	CodeSenderNotEligible = 9001 // Rule DPV-01
	CodeQuotaExceeded     = 9002 // Rule DPV-10
	CodeNotDelegated      = 9003 // Rule DPV-04
	CodeCategoryNotOpen   = 9004 // Rule DPV-02
	CodeRecipientNotOrg   = 9005 // post to businesses goes to organisations
	CodeTooManyReferences = 9006 // Rule DPV-05
	CodeRequestTooLarge   = 9007
	CodeMalformedRequest  = 9008
	// What deling does not send as asked, refused rather than dropped (Rule DPV-06; notifytext.go).
	CodeSmsNotSupported     = 9009
	CodeHTMLEmailNotAllowed = 9010
	CodeLinkInNotification  = 9011
	CodeUploadContentType   = 9012 // an upload's Content-Type is not its attachment's file type's
)
