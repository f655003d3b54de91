// Package web is deling's HTTP face, one listener: the middleware every
// request passes through (correlation id, metrics, access log, panic
// recovery, API deprecation headers), health and readiness, the token
// server's routes (/token, /jwks, the metadata), and the mounting of the two
// sides, split by how their callers authenticate:
//
//   - machineapi: programs with a bearer token (the register API, extracts,
//     insight) and verifiers of the lookup log; problem+json only.
//   - portal: people in a browser, with a session; cross-origin protection
//     and the session wrap the portal's routes only.
//
// Both share channel (rules every lookup channel applies alike) and httperr
// (the one error → status mapping, problem+json, the correlation id). A
// request no route matches is answered by unmatched: problem+json for
// programs, the portal's HTML page for browsers.
//
// It holds no handlers of the API or the portal itself; integration tests of
// the whole HTTP surface live here (harness_test.go) because they need New.
package web
