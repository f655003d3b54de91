package ident

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sentinel errors, for errors.Is. The errors returned carry a more precise
// message (which check digit, which position) but never the identifier.
var (
	// ErrLength: the input has the wrong number of characters.
	ErrLength = errors.New("ident: wrong length")
	// ErrFormat: a character is not an ASCII digit, or a digit is not allowed where it stands.
	ErrFormat = errors.New("ident: wrong format")
	// ErrCheckDigit: a check digit does not match the other digits.
	ErrCheckDigit = errors.New("ident: check digit does not match")
	// ErrDate: the date part of a person identity is not a date.
	ErrDate = errors.New("ident: invalid date")
	// ErrRange: a generator was asked for a number it cannot produce.
	ErrRange = errors.New("ident: out of range")
)

// identError is a precise, user-safe message wrapping one of the sentinels,
// with the same message in Norwegian for the people who typed the number.
type identError struct {
	msg, norsk string
	err        error
}

func (e *identError) Error() string { return "ident: " + e.msg }
func (e *identError) Unwrap() error { return e.err }

// errorf makes an error from one of the sentinels; format and norsk (the
// Norwegian Bokmål message, "" for errors only programs see) take the same args.
func errorf(sentinel error, norsk, format string, args ...any) error {
	e := &identError{msg: fmt.Sprintf(format, args...), err: sentinel}
	if norsk != "" {
		e.norsk = fmt.Sprintf(norsk, args...)
	}
	return e
}

// Norwegian is err's message in Norwegian Bokmål, for people: which digit or
// position is wrong, never the identifier. An error from elsewhere gets a
// general "ugyldig nummer".
func Norwegian(err error) string {
	var e *identError
	if errors.As(err, &e) && e.norsk != "" {
		return e.norsk
	}
	return "ugyldig nummer"
}

// checkDigits reports whether s is exactly want ASCII digits. Lengths are
// counted in characters (runes), and positions are 1-based, because that is
// what a user sees.
func checkDigits(s string, want int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return errorf(ErrLength, "nummeret mangler, det skal ha %d sifre", "empty, want %d digits", want)
	case n != want:
		return errorf(ErrLength, "nummeret har %d tegn, det skal ha %d sifre", "%d characters, want %d digits", n, want)
	}
	pos := 0
	for _, r := range s {
		pos++
		if r < '0' || r > '9' {
			return errorf(ErrFormat, "tegn nummer %d er ikke et siffer", "non-digit at position %d", pos)
		}
	}
	return nil
}
