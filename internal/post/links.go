package post

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Web addresses in what deling sends in its own name — the notification
// e-mails' texts and the sender's name shown in them — are refused (9011):
// a link in an e-mail from deling would look like deling's (review finding
// 16; review of post1, findings 3 and 4).
//
// containsLink is a heuristic, not a parser of addresses. It must catch what
// a mail client would make a link of or a reader would type, and must not
// refuse ordinary Norwegian text with dots in it ("f.eks.", "vedtak.pdf",
// "Ref.nr"). So a dotted name counts as an address only when its last label
// is a top-level domain of the small list below (the common ones; a name
// under a rarer one is let through), or is not in the Latin script or is
// punycode (an IDN: "пример.рф", "evil.соm" with a Cyrillic о). A scheme
// ("https://", "ftp://"), "www." and an IPv4 literal always count. The text
// is first NFKC-normalised ("ｗｗｗ．evil．com" is "www.evil.com"), the other
// full stops (U+3002, U+FF0E, U+FF61, U+2024) read as ".", and invisible
// format characters (Unicode Cf, e.g. U+200B) dropped; plainText and
// plainBody refuse those characters anyway.
func containsLink(s string) bool {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u3002' || r == '\uff0e' || r == '\uff61' || r == '\u2024':
			return '.'
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, norm.NFKC.String(s))
	if schemeRE.MatchString(s) || wwwRE.MatchString(s) || ipv4RE.MatchString(s) {
		return true
	}
	for _, name := range dottedRE.FindAllString(s, -1) {
		tld := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
		if commonTLDs[tld] || strings.HasPrefix(tld, "xn--") {
			return true
		}
		for _, r := range tld {
			if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
				return true
			}
		}
	}
	return false
}

var (
	schemeRE = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://`)
	wwwRE    = regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}])www\.`)
	ipv4RE   = regexp.MustCompile(`(^|[^\p{N}.])\d{1,3}(\.\d{1,3}){3}($|[^\p{N}])`)
	dottedRE = regexp.MustCompile(`[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+`)
)

// commonTLDs are the top-level domains containsLink knows: Norway's and its
// neighbours', the generic ones and those most used in phishing. A heuristic
// list, kept short on purpose (see containsLink); top-level domains that are
// also common file extensions (zip, mov, ai, sh) are left out, so that
// "vedlegg.zip" is not an address.
var commonTLDs = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`no com net org io eu se dk fi is de uk fr nl be ch at es it pl ee lv lt
		us ca au ru cn jp in br gov edu int mil info biz name pro mobi app dev xyz me co tv cc ly gl to
		online site top shop store cloud tech live page link click ws nu tk ml ga cf gq icu vip club
		email`) {
		m[t] = true
	}
	return m
}()

// hasFormatChar reports whether s holds an invisible format character
// (Unicode Cf: zero-width spaces and joiners, bidirectional overrides such
// as U+202E, the soft hyphen), which can hide or reorder what a reader sees.
func hasFormatChar(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0
}
