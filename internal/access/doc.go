// Package access decides what a consumer organisation may get from the
// register: consumers, packages (rettighetspakker: named, versioned sets of
// data elements), grants (vedtak) and why one is suspended, delegations to
// data processors, the pure decisions Decide (a request) and Scopes (a token),
// and the projection that minimises a record to the elements a decision covers.
//
// Nothing here does I/O: callers load the consumer, its grants and any
// delegation, and pass them in with the clock's reading. Deny is the default:
// a request is permitted only when an active grant covers its channel,
// environment and query kind.
package access
