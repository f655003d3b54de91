package token

import "errors"

// Sentinel errors, for errors.Is. Storage implementations return the first
// three, wrapped; the bearer-token verifier returns ErrInvalidToken.
var (
	// ErrUnknownClient: no client has the asked-for client_id.
	ErrUnknownClient = errors.New("token: unknown client")
	// ErrReplay: the (client, jti) pair was used before.
	ErrReplay = errors.New("token: assertion jti used before")
	// ErrNotDelegated: the consumer has no active delegation to the asking
	// organisation (Rules AA-13, SK-04).
	ErrNotDelegated = errors.New("token: consumer has not delegated to the asking organisation")
	// ErrInvalidToken: an access token is not acceptable. The wrapping
	// message says why and is safe to show to the caller.
	ErrInvalidToken = errors.New("invalid access token")
)
