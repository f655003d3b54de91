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

// identError is a precise, user-safe message wrapping one of the sentinels.
type identError struct {
	msg string
	err error
}

func (e *identError) Error() string { return "ident: " + e.msg }
func (e *identError) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &identError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// checkDigits reports whether s is exactly want ASCII digits. Lengths are
// counted in characters (runes), and positions are 1-based, because that is
// what a user sees.
func checkDigits(s string, want int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return errorf(ErrLength, "empty, want %d digits", want)
	case n != want:
		return errorf(ErrLength, "%d characters, want %d digits", n, want)
	}
	pos := 0
	for _, r := range s {
		pos++
		if r < '0' || r > '9' {
			return errorf(ErrFormat, "non-digit at position %d", pos)
		}
	}
	return nil
}
