package httperr

import "context"

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
