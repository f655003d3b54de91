// Package token is deling's authorisation server and access-token check.
//
// Consumer organisations get access tokens the way they get them from
// Maskinporten: a registered client signs a JWT (RFC 7523 JWT-bearer grant)
// with a registered key ("kid") or its enterprise certificate ("x5c"), posts it
// to the token endpoint, and receives a short-lived RS256 access token whose
// claims have Maskinporten's shape ("consumer", and "supplier" when a data
// processor asks on a consumer's behalf). An existing Maskinporten client
// therefore works by changing its URLs. [Verifier] checks these tokens, and
// those of configured external issuers such as the real Maskinporten, on every
// API request.
//
// The register authorises organisations, not their internal systems
// (Rule SK-03): a client only proves which organisation is asking. A data
// processor gets a token for a consumer only while the consumer has delegated
// to it (Rules AA-13, SK-04); the [Authorizer] decides that and which scopes
// the consumer's grants allow.
//
// The package holds the protocol, the checks and the HTTP handlers of the
// token endpoints. It does not store anything: clients, used assertion IDs,
// grants and signing keys arrive through [ClientSource], [JTIStore],
// [Authorizer] and [KeySet]. It does not decide what a scope lets a consumer
// see, does not route requests, and does not check certificate revocation
// (OCSP/CRL).
package token
