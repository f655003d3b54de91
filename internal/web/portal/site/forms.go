package site

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Field is the data of the layout's "field" partial.
type Field struct{ Name, Label, Value, Error, Type, Help string }

// FieldError is one line of a form's error summary (the "vilkar-feiloppsummering" partial), linking to its field.
type FieldError struct{ Field, Message string }

// ErrorList orders a form's messages by its fields.
func ErrorList(bad map[string]string, fields ...string) []FieldError {
	var out []FieldError
	for _, f := range fields {
		if msg, ok := bad[f]; ok {
			out = append(out, FieldError{f, msg})
		}
	}
	return out
}

// ParseFormTime reads an <input type="datetime-local"> value as Norwegian time; a message goes to bad.
func (s *Site) ParseFormTime(value, field, what string, bad map[string]string) *time.Time {
	if value == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "02.01.2006 15:04"} {
		if t, err := time.ParseInLocation(layout, value, s.Oslo); err == nil {
			return &t
		}
	}
	bad[field] = "Skriv " + what + " som dato og klokkeslett, for eksempel 2027-03-24T18:00."
	return nil
}

// AbsoluteBase is where people reach deling: the configured base URL, or else the request's own host.
func (s *Site) AbsoluteBase(r *http.Request) string {
	if s.BaseURL != "" {
		return s.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// SafeNext keeps a local portal path to return to after sign-in, nothing else:
// no scheme, no host, no control characters (browsers drop tabs and newlines,
// so "/\t/evil.example" would become "//evil.example").
func SafeNext(next string) string {
	if len(next) > 200 || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "/portal" && !strings.HasPrefix(u.Path, "/portal/")) || strings.HasPrefix(next, "//") {
		return ""
	}
	return next
}
