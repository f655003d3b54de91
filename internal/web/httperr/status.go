package httperr

import (
	"errors"
	"net/http"
	"strings"

	"deling/internal/extract"
	"deling/internal/store"
)

// Status is the HTTP status an error answers with: the store's sentinels
// (not found, conflict, exists, limit, too many extracts) by what they mean,
// an error carrying its own status (WithStatus) by that, anything else 500.
// A nil error is 200.
func Status(err error) int {
	var se *statusError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &se):
		return se.status
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrExists):
		return http.StatusConflict
	case errors.Is(err, store.ErrLimit), errors.Is(err, extract.ErrTooMany):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// statusError is an error that says which status it answers with.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// WithStatus marks err to answer with status.
func WithStatus(status int, err error) error { return &statusError{status, err} }

// Sentinels a handler returns for the answers that are not failures.
var (
	// ErrNotFound answers 404: the thing does not exist, or the caller may not
	// see it — the same answer for both.
	ErrNotFound = WithStatus(http.StatusNotFound, errors.New("not found"))
	// ErrForbidden answers 403: the caller is known and may not do this.
	ErrForbidden = WithStatus(http.StatusForbidden, errors.New("forbidden"))
)

// WantsJSON reports whether a request is from a program rather than a browser
// page: under /api/ or /audit/, or asking for JSON and not for HTML.
func WantsJSON(r *http.Request) bool {
	if p := r.URL.Path; strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/audit/") || strings.HasPrefix(p, "/correspondence/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return !strings.Contains(accept, "text/html") && (strings.Contains(accept, "json") || accept == "")
}
