package incident

import (
	"errors"
	"strings"
)

// PersonNotice is the notice to one person affected by a breach (art.
// 34(2), Rule AV-06): sent by itself, not bundled with other information,
// in plain Norwegian.
type PersonNotice struct {
	Subject string
	Body    string
}

// ErrNoNotice is PersonLetter's error when the content lacks what art. 34(2) requires.
var ErrNoNotice = errors.New("a notice to persons needs the nature, a contact point, consequences and measures")

// PersonLetter writes the notice to persons from what was told Datatilsynet
// (art. 34(2) requires at least 33(3)(b)–(d) in clear language) and advice
// on what the person can do. controller is the register's name.
func PersonLetter(controller string, c Content, advice string) (PersonNotice, error) {
	nature, cons, meas := strings.TrimSpace(c.Nature), strings.TrimSpace(c.Consequences), strings.TrimSpace(c.Measures)
	if nature == "" || cons == "" || meas == "" || strings.TrimSpace(c.Contact.Name) == "" {
		return PersonNotice{}, ErrNoNotice
	}
	var b strings.Builder
	b.WriteString("Hei,\n\n")
	b.WriteString("Vi skriver til deg fordi det har skjedd et brudd på sikkerheten rundt personopplysninger om deg hos ")
	b.WriteString(controller)
	b.WriteString(". Vi er lovpålagt å si fra når et slikt brudd kan gi høy risiko for deg.\n\n")
	b.WriteString("Hva har skjedd?\n")
	b.WriteString(nature)
	b.WriteString("\n\nHva kan dette bety for deg?\n")
	b.WriteString(cons)
	b.WriteString("\n\nHva har vi gjort?\n")
	b.WriteString(meas)
	if advice = strings.TrimSpace(advice); advice != "" {
		b.WriteString("\n\nHva kan du gjøre?\n")
		b.WriteString(advice)
	}
	b.WriteString("\n\nHvem kan du kontakte?\n")
	b.WriteString(c.Contact.Name)
	for _, s := range []string{c.Contact.Email, c.Contact.Phone} {
		if s = strings.TrimSpace(s); s != "" {
			b.WriteString(", ")
			b.WriteString(s)
		}
	}
	b.WriteString("\n\nDu kan også klage til Datatilsynet.\n\nVennlig hilsen\n")
	b.WriteString(controller)
	b.WriteString("\n")
	return PersonNotice{Subject: "Brudd på sikkerheten rundt personopplysninger om deg", Body: b.String()}, nil
}
