// Package machineapi is everything a program calls: with a bearer token, the
// register API (/api/v2/…), extracts (/api/v2/uttrekk…) and a consumer's own
// lookup log; with the register's admin token, a person's insight
// (/api/innsyn/…); without a token, the lookup log's checkpoints and proofs
// (/audit/…) and the OpenAPI document (/api/openapi.json), which a test
// checks against the route table (routes.go, one table). Every error is
// application/problem+json (httperr); every answer after authentication and
// the rate limit is logged (Rule AA-16); each consumer's rate limit applies (Rule AA-15).
//
// It is not the portal: no sessions, no cookies, no cross-origin check (a
// program's Origin header means nothing here), no HTML. It does not import
// package web or package portal.
package machineapi
