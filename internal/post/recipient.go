package post

import (
	"strings"

	"deling/internal/ident"
)

// Recipient identifier forms Altinn accepts for an organisation.
const (
	OrgURNPrefix  = "urn:altinn:organization:identifier-no:"
	OrgISO6523ICD = "0192:"
)

// ParseRecipient reads a recipient as Altinn writes it, either
// "urn:altinn:organization:identifier-no:<orgnr>" or "0192:<orgnr>", and
// gives the organisation number. Digital post to businesses goes to
// organisations only: Altinn's person forms are refused with their own message.
func ParseRecipient(s string) (ident.Orgnr, *Problem) {
	var num string
	switch {
	case strings.HasPrefix(s, OrgURNPrefix):
		num = s[len(OrgURNPrefix):]
	case strings.HasPrefix(s, OrgISO6523ICD):
		num = s[len(OrgISO6523ICD):]
	case strings.HasPrefix(s, "urn:altinn:person:") || isDigits(s, 11):
		return "", problem(CodeRecipientNotOrg, "recipients",
			"Digital post to businesses is sent to organisations only",
			"Digital post til virksomheter sendes bare til virksomheter, ikke til personer.")
	default:
		return "", problem(0, "recipients", "Recipient must be urn:altinn:organization:identifier-no:<orgnr> or 0192:<orgnr>",
			"Mottakeren må skrives som urn:altinn:organization:identifier-no:<organisasjonsnummer>.")
	}
	org, err := ident.ParseOrgnr(num)
	if err != nil {
		return "", problem(0, "recipients", "Recipient is not a valid organisation number",
			"Mottakeren har ikke et gyldig organisasjonsnummer.")
	}
	return org, nil
}

// RecipientURN is the organisation as Altinn names a recipient in answers.
func RecipientURN(org ident.Orgnr) string { return OrgURNPrefix + string(org) }

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
