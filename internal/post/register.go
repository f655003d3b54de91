package post

import (
	"strings"
	"unicode"
)

// RegisterSenderName is how the register's own letters show their sender.
const RegisterSenderName = "Registerforvalteren (deling)"

// PosesAsRegister reports whether a sender's messageSender could pass for
// the register: it names the register authority, deling, or the register
// letters' sender name, however spelt and spaced. No other sender may send
// under such a name (review finding 2; the recipient trusts the register's
// letters, Rule DPV-04: the recipient sees who actually sent).
func PosesAsRegister(messageSender string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(messageSender) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	for _, w := range []string{"registerforvalter", "aaregister", "deling"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
