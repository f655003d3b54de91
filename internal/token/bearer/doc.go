// Package bearer checks the access tokens that API requests carry (RFC 6750
// bearer tokens): ours, signed by the [token.KeySet] of the authorisation
// server, and those of configured external issuers such as the real
// Maskinporten, whose JWKS it fetches and refreshes over HTTP.
//
// A [Verifier] answers with the token's [token.Claims] or an error wrapping
// [token.ErrInvalidToken]. It does not read the Authorization header or
// decide what the claims allow: the API does both. It does not issue
// tokens (package authserver does).
package bearer
