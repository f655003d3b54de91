// Package authserver is deling's Maskinporten-style authorisation server:
// the token endpoint (an RFC 7523 JWT-bearer grant), our JWKS and the
// RFC 8414 metadata, and [RequestToken], the client's side of the token
// endpoint.
//
// A registered client signs an assertion with a registered key ("kid") or
// its enterprise certificate ("x5c"); [Server.Token] checks it — structure,
// client and key, signature, claims, replay, delegation, scopes — and
// issues an access token signed by the [token.KeySet]. An existing
// Maskinporten client therefore works by changing its URLs.
//
// It does not store anything: clients, used assertion IDs and grants arrive
// through [ClientSource], [JTIStore] and [Authorizer], which storage
// implements. It does not decide what a scope lets a consumer see, does not
// route requests (the web server mounts its handlers), does not verify
// access tokens on API requests (package bearer does) and does not check
// certificate revocation (OCSP/CRL).
package authserver
