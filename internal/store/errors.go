package store

import (
	"errors"
	"fmt"
)

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

	// ErrNoActiveGrant: a suspension found no active grant to suspend. It is
	// an ErrConflict, so callers that only ask for that keep working.
	ErrNoActiveGrant = fmt.Errorf("no active grant: %w", ErrConflict)

	// ErrMailClaimLost: MarkMail found the letter claimed by another node
	// (this node's lease ran out and the other claimed it), or no such
	// letter; nothing was recorded, so that the other's claim stands.
	ErrMailClaimLost = errors.New("the letter's claim is another node's")

	// The extract sentinels (too many jobs under way, a lost claim) are
	// package extract's: extract.ErrTooMany and extract.ErrLostClaim, which
	// store returns.
)
