package httperr

import (
	"context"

	"deling/internal/ident"
)

// CorrelationHeader is echoed when the caller sends it, and made up when not,
// on every response (as Aa-registeret does).
const CorrelationHeader = "correlation-id"

type ctxKey struct{}

// WithCorrelationID returns ctx carrying the request's correlation id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// CorrelationID is the request's correlation id.
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// MaxCorrelationID is the longest correlation id taken from a caller.
const MaxCorrelationID = 64

// AcceptCorrelationID reports whether a correlation id a caller sent may be
// echoed and logged: 1 to 64 characters of A–Z, a–z, 0–9, '.', '_' and '-',
// and nothing that could be a person or an organisation: no run of 9 or more
// digits, and — read with the separators taken out, as in 010101-12345 or
// 0101.0112345 — no fødselsnummer, D-nummer or H-nummer and no organisation
// number with valid check digits. Anything else is replaced by one we make;
// what the caller sent is never logged.
func AcceptCorrelationID(id string) bool {
	if id == "" || len(id) > MaxCorrelationID {
		return false
	}
	run := 0
	joined := make([]byte, 0, len(id)) // the id without separators
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			if run++; run >= 9 {
				return false
			}
			joined = append(joined, c)
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			joined = append(joined, c)
		case c == '.', c == '_', c == '-':
		default:
			return false
		}
		run = 0
	}
	return !holdsIdentity(joined)
}

// holdsIdentity reports whether some run of digits in b holds a person
// identity (11 digits) or an organisation number (9 digits) whose check
// digits are valid.
func holdsIdentity(b []byte) bool {
	for start := 0; start < len(b); {
		end := start
		for end < len(b) && b[end] >= '0' && b[end] <= '9' {
			end++
		}
		for i := start; i+9 <= end; i++ {
			if i+11 <= end {
				if _, err := ident.ParsePerson(string(b[i : i+11])); err == nil {
					return true
				}
			}
			if _, err := ident.ParseOrgnr(string(b[i : i+9])); err == nil {
				return true
			}
		}
		start = end + 1
	}
	return false
}
