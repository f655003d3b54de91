// Package channel holds what the machine API and the portal do alike on a
// lookup channel: the lookup pipeline they both answer through (package
// lookup, held in Shared), checking identifiers for the environment (Rule
// AA-14), extract jobs from order to batch to deletion, and insight into the
// lookup log (Rule AA-17) with its receipts. Both sides hold one Shared,
// built by package web.
//
// It is not an HTTP side of its own: it has no routes, no authentication and
// no error pages; handlers in machineapi and portal call it and answer in
// their own form.
package channel
