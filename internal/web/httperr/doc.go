// Package httperr is the one mapping from errors to HTTP answers, shared by
// the machine API (problem+json) and the portal (HTML pages): Status maps an
// error — the store's sentinels among them — to a status code, Write answers
// with an RFC 9457 problem, and the request's correlation id, which every
// answer names, travels in the context through CorrelationID.
//
// It is a leaf: it imports neither web nor its sub-packages, and it renders
// no HTML (the portal renders its own error page for the status Status
// gives). It is not a place for handlers or business rules.
package httperr
