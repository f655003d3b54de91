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
// and nothing that could be a person — not a fødselsnummer, D-nummer or
// H-nummer, and no run of 9 or more digits (an organisation number, or a
// person's number cut or padded). Anything else is replaced by one we make;
// what the caller sent is never logged.
func AcceptCorrelationID(id string) bool {
	if id == "" || len(id) > MaxCorrelationID {
		return false
	}
	run := 0
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			if run++; run >= 9 {
				return false
			}
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '_', c == '-':
		default:
			return false
		}
		run = 0
	}
	_, err := ident.ParsePerson(id)
	return err != nil
}
