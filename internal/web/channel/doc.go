// Package channel holds what the machine API and the portal do alike on a
// lookup channel: checking identifiers for the environment (Rule AA-14), the
// consent rule on a permitted decision (Rule SK-08), extract jobs from order
// to batch to deletion, and insight into the lookup log (Rule AA-17) with its
// receipts. Both sides hold one Shared, built by package web.
//
// It is not an HTTP side of its own: it has no routes, no authentication and
// no error pages; handlers in machineapi and portal call it and answer in
// their own form. The lookup pipeline itself (decide → consent → find →
// screen → project → log) is moving to internal/lookup; ApplyConsent stays
// here until then.
package channel
