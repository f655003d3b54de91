package post

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// RegisterSenderName is how the register's own letters show their sender.
const RegisterSenderName = "Registerforvalteren (deling)"

// PosesAsRegister reports whether a sender's messageSender could pass for
// the register: it names the register authority, deling, or the register
// letters' sender name, however spelt and spaced. No other sender may send
// under such a name (review finding 2; the recipient trusts the register's
// letters, Rule DPV-04: the recipient sees who actually sent).
func PosesAsRegister(messageSender string) bool {
	return namesAny(messageSender, "registerforvalter", "aaregister") || namesDeling(messageSender)
}

// namesDeling reports whether s names deling as a word of its own ("deling",
// "Deling AS", "d e l i n g", "deling-plattformen"), not inside another word:
// "Økonomiavdelingen" and "Fordelingsnemnda" are ordinary senders' names.
func namesDeling(s string) bool {
	var word, spaced strings.Builder // spaced joins a run of one-letter words
	check := func() bool {
		w := word.String()
		word.Reset()
		if len([]rune(w)) == 1 {
			spaced.WriteString(w)
			return strings.Contains(spaced.String(), "deling")
		}
		found := strings.HasPrefix(w, "deling") || strings.Contains(spaced.String(), "deling")
		if w != "" {
			spaced.Reset()
		}
		return found
	}
	for _, r := range strings.ToLower(norm.NFKC.String(s)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			word.WriteRune(r)
			continue
		}
		if unicode.Is(unicode.Cf, r) { // a hidden character splits no word
			continue
		}
		if check() {
			return true
		}
	}
	return check()
}

// NamesRegister reports whether a notification e-mail's text names the
// register authority, however spelt and spaced (review of post1, finding
// 2: the e-mail's From name is the register's). Unlike PosesAsRegister it
// lets "deling" through: a text may say where the post is read ("logg inn
// i deling"), and common words hold it ("avdeling", "fordeling"); the
// subject always begins with the sender's name (store.postLetter).
func NamesRegister(text string) bool {
	return namesAny(text, "registerforvalter", "aaregister")
}

// namesAny reports whether s's letters and digits, NFKC-normalised (full-width
// letters are letters), lower-cased and joined, contain any of words.
func namesAny(s string, words ...string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(norm.NFKC.String(s)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	joined := b.String()
	for _, w := range words {
		if strings.Contains(joined, w) {
			return true
		}
	}
	return false
}
