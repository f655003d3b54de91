package store

import "errors"

// The store's sentinel errors. Methods return them wrapped with what they
// were doing (fmt.Errorf("…: %w", ErrNotFound)); callers test with errors.Is,
// and web maps each to one status.
var (
	// ErrNotFound: a row does not exist (or a link or token is unknown, used or expired).
	ErrNotFound = errors.New("not found")

	// ErrConflict: a change is not allowed in the row's current state (an
	// ended grant resumed, the last administrative contact removed, …).
	ErrConflict = errors.New("conflict")

	// ErrExists: a row with the same key already exists, also one a
	// concurrent request inserted a moment ago (uniqueViolation).
	ErrExists = errors.New("already exists")

	// ErrLimit: an organisation has reached a limit, such as its invitations per day.
	ErrLimit = errors.New("limit reached")

	// ErrClosed: Append after Close. The lookup log takes no more records, so
	// the lookup that asked fails closed.
	ErrClosed = errors.New("store is closed")

	// ErrTooManyExtracts: CreateExtract when the organisation already has its
	// limit of queued or running jobs.
	ErrTooManyExtracts = errors.New("too many extract jobs under way")

	// ErrLostClaim: a runner's claim on an extract job is gone: another runner
	// took the job over, or it was deleted. The runner stops, and writes nothing more.
	ErrLostClaim = errors.New("extract job claim lost")
)
