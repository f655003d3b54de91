// Package token is the model of deling's access tokens: who may ask for
// them and with which keys, what a verified token says, and how it is
// signed.
//
// Consumer organisations get access tokens the way they get them from
// Maskinporten: a registered [Client] signs a JWT (RFC 7523 JWT-bearer
// grant) with a registered key ("kid", a [PublicKey]) or its enterprise
// certificate ("x5c"), and receives a short-lived RS256 access token whose
// [AccessClaims] have Maskinporten's shape ("consumer", and "supplier" when
// a data processor asks on a consumer's behalf). An API request relies on
// the token's [Claims].
//
// The register authorises organisations, not their internal systems
// (Rule SK-03): a client only proves which organisation is asking. A data
// processor gets a token for a consumer only while the consumer has
// delegated to it (Rules AA-13, SK-04).
//
// The package holds the types, key parsing and checks, our [KeySet], the
// client's [ClientFile] and the sentinel errors storage returns. It imports
// no net/http, so that storage can implement what the token endpoint needs
// without depending on HTTP. It does not serve or fetch anything: the token
// endpoint is package authserver, the check of bearer tokens on API
// requests (which fetches external issuers' JWKS) is package bearer. It
// does not store anything and does not check certificate revocation
// (OCSP/CRL).
package token
