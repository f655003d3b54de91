// Package dpa is the portal's pages for data processing agreements
// (databehandleravtaler; issue 13, Rules DPA-01, DPA-05 … DPA-11, SK-04)
// under /portal/databehandleravtaler: the list, the draft by the
// consumer's administrator (main agreement, date, annex 1), the processor's
// completion (annex 2, the proposed annex 3), signing by a role holder on
// each side over exactly the version shown, new versions, the history, the
// readable document with its SHA-256; sub-processors proposed and approved
// or refused in writing, annex 3 as of a date; the controller's third-country
// instructions; audit reports and authority requests; the stop order and its
// resumption; the end, the deletion deadline and the deletion certificate;
// the processor's breach report into the breach handling (Rule DPA-07); and
// the register's case workers' delegation form, which delegates only under a
// covering agreement, with the legacy delegations that lack one.
//
// internal/dpa decides who may do what and what a form lacks; store carries
// each step out in one transaction. Deny by default: every route has its
// guard, and an agreement the visitor's organisation is no party to (nor
// the register's case worker or data protection officer) is "not found".
//
// It is a feature of the portal (site.Feature). The package shares its name
// with internal/dpa, which it imports under that name.
package dpa
