package incident

import (
	"strings"
)

// PersonNotice is the notice to one person affected by a breach (art.
// 34(2), Rule AV-06): sent by itself, not bundled with other information,
// in plain Norwegian.
type PersonNotice struct {
	Subject string
	Body    string
}

// PersonText is what the case worker writes for the persons (Rule AV-06):
// art. 34(2) in plain Norwegian, written for a person, not copied from the
// filing to Datatilsynet — what happened, what it may mean for them, what
// the register did, what they can do, and whom to contact (the data
// protection officer or another contact point).
type PersonText struct {
	Nature, Consequences, Measures, Advice, Contact string
}

// Field names of the person notice form.
const (
	FieldNoticeNature       = "varsel_hva"
	FieldNoticeConsequences = "varsel_konsekvenser"
	FieldNoticeMeasures     = "varsel_tiltak"
	FieldNoticeAdvice       = "varsel_rad"
	FieldNoticeContact      = "varsel_kontakt"
)

// NoticeFields are the person notice form's fields, in the form's order.
var NoticeFields = []string{FieldNoticeNature, FieldNoticeConsequences, FieldNoticeMeasures, FieldNoticeAdvice, FieldNoticeContact}

// maxNoticePart caps each part of a person notice: a notice is read by
// persons and must stay short (Rule AV-06).
const maxNoticePart = 2000

// Fields are the text's parts by form field.
func (t *PersonText) Fields() map[string]*string {
	return map[string]*string{FieldNoticeNature: &t.Nature, FieldNoticeConsequences: &t.Consequences,
		FieldNoticeMeasures: &t.Measures, FieldNoticeAdvice: &t.Advice, FieldNoticeContact: &t.Contact}
}

// Validate trims the text and lists, by field in Norwegian, what keeps it
// from being sent: every part of art. 34(2) is required, and none may be
// longer than 2,000 characters (Rule AV-06).
func (t *PersonText) Validate() map[string]string {
	missing := map[string]string{
		FieldNoticeNature:       "Skriv med enkle ord hva som har skjedd.",
		FieldNoticeConsequences: "Skriv hva bruddet kan bety for personen.",
		FieldNoticeMeasures:     "Skriv hva registerforvalteren har gjort.",
		FieldNoticeAdvice:       "Skriv hva personen selv kan gjøre.",
		FieldNoticeContact:      "Oppgi personvernombudet eller et annet kontaktpunkt.",
	}
	bad := map[string]string{}
	for f, p := range t.Fields() {
		*p = strings.TrimSpace(strings.ReplaceAll(*p, "\r\n", "\n")) // a form sends CRLF
		switch {
		case *p == "":
			bad[f] = missing[f]
		case tooLong(*p, maxNoticePart):
			bad[f] = tooLongMsg(maxNoticePart)
		}
	}
	return bad
}

// Letter is the notice as every person gets it and sees it on their page;
// controller is the register's name. Validate first.
func (t PersonText) Letter(controller string) PersonNotice {
	var b strings.Builder
	b.WriteString("Hei,\n\n")
	b.WriteString("Vi skriver til deg fordi det har skjedd et brudd på sikkerheten rundt personopplysninger om deg hos ")
	b.WriteString(controller)
	b.WriteString(". Vi er lovpålagt å si fra når et slikt brudd kan gi høy risiko for deg.\n\n")
	for _, part := range [][2]string{{"Hva har skjedd?", t.Nature}, {"Hva kan dette bety for deg?", t.Consequences},
		{"Hva har vi gjort?", t.Measures}, {"Hva kan du gjøre?", t.Advice}, {"Hvem kan du kontakte?", t.Contact}} {
		b.WriteString(part[0])
		b.WriteString("\n")
		b.WriteString(part[1])
		b.WriteString("\n\n")
	}
	b.WriteString("Du kan også klage til Datatilsynet.\n\nVennlig hilsen\n")
	b.WriteString(controller)
	b.WriteString("\n")
	return PersonNotice{Subject: "Brudd på sikkerheten rundt personopplysninger om deg", Body: b.String()}
}
