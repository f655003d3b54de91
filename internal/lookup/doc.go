// Package lookup is the one lookup pipeline behind every channel: the API,
// web lookup and extracts. A lookup goes
//
//	decide → consent → find → screen → project → subjects → digest → append
//
// and each step is decided here once: the access decision (package access),
// consent as legal basis (Rule SK-08, access.PlanConsent), persons with a
// protected address withheld and the log's screened marker (Rule AA-11),
// minimisation to the grant's elements (Rules AA-02, AA-07), the identities
// a record names, and the record appended before a byte of the answer leaves
// (Rule AA-16, fail closed).
//
// The channels keep what is theirs: parsing a request, rendering the answer
// (JSON, an HTML page, batch files), and their own refusals. The pipeline
// reads the register through the small Store interface it declares;
// package store implements it.
package lookup
