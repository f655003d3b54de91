package ident

import (
	"strings"
	"unicode/utf8"
)

// Orgnr is a checked organisation number from Enhetsregisteret: 9 digits, the
// last a mod-11 check digit. Obtain one from [ParseOrgnr] or [SyntheticOrgnr].
// Organisation numbers are public, unlike person identities.
type Orgnr string

var wOrg = [8]int{3, 2, 7, 6, 5, 4, 3, 2}

// ParseOrgnr checks s as an organisation number: exactly 9 ASCII digits, the
// first 2, 3, 8 or 9 (as NAV's Aa-register validator demands: real numbers
// start with 8 or 9, synthetic ones with 2 or 3), and a matching check digit.
func ParseOrgnr(s string) (Orgnr, error) {
	if err := checkDigits(s, 9); err != nil {
		return "", err
	}
	switch s[0] {
	case '2', '3', '8', '9':
	default:
		return "", errorf(ErrFormat, "et organisasjonsnummer begynner med 2, 3, 8 eller 9, ikke %c", "organisation number starts with %c, want 2, 3, 8 or 9", s[0])
	}
	if c, ok := orgCheckDigit(s[:8]); !ok || int(s[8]-'0') != c {
		return "", errorf(ErrCheckDigit, "kontrollsifferet stemmer ikke", "check digit does not match")
	}
	return Orgnr(s), nil
}

// orgCheckDigit computes the check digit for 8 ASCII digits. ok is false when
// the remainder is 1: the check digit would be 10, and no number has that base.
func orgCheckDigit(base string) (int, bool) {
	sum := 0
	for i, w := range wOrg {
		sum += w * int(base[i]-'0')
	}
	switch r := sum % 11; r {
	case 0:
		return 0, true
	case 1:
		return 0, false
	default:
		return 11 - r, true
	}
}

// IsSynthetic reports whether the number is from the synthetic range used in
// Tenor and Altinn's TT02 (first digit 2 or 3); real numbers start with 8 or 9.
func (o Orgnr) IsSynthetic() bool {
	return strings.HasPrefix(string(o), "2") || strings.HasPrefix(string(o), "3")
}

// ParseLegacyEmployer checks s as an employer number from before a-ordningen
// (2015), which Aa-registeret still holds on old arbeidsforhold: 9 digits
// starting 300, 301 or 302, or 11 digits. These numbers have no check digit,
// so only the form is checked, as NAV does. It returns s unchanged.
func ParseLegacyEmployer(s string) (string, error) {
	switch n := utf8.RuneCountInString(s); n {
	case 9:
		if err := checkDigits(s, 9); err != nil {
			return "", err
		}
		if p := s[:3]; p != "300" && p != "301" && p != "302" {
			return "", errorf(ErrFormat, "et gammelt arbeidsgivernummer med 9 sifre begynner med 300, 301 eller 302", "9-digit legacy employer number must start with 300, 301 or 302")
		}
	case 11:
		if err := checkDigits(s, 11); err != nil {
			return "", err
		}
	case 0:
		return "", errorf(ErrLength, "nummeret mangler, det skal ha 9 eller 11 sifre", "empty, want 9 or 11 digits")
	default:
		return "", errorf(ErrLength, "nummeret har %d tegn, det skal ha 9 eller 11 sifre", "%d characters, want 9 or 11 digits", n)
	}
	return s, nil
}
