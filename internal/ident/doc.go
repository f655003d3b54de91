// Package ident parses and checks Norwegian identifiers: person identities
// (fødselsnummer, D-nummer, H-nummer, and the synthetic test variants of
// Skatteetaten's Tenor and NAV), organisation numbers, and the legacy employer
// numbers that Aa-registeret still holds from before a-ordningen. It also
// generates valid synthetic numbers for test data.
//
// It checks form only: length, digits, check digits and the date part. It
// cannot tell whether a number has been assigned, to whom, or whether it is
// still in use; that is Folkeregisteret's and Enhetsregisteret's business.
// It does not derive gender, and the birth date it decodes is a hint: from
// 2032 new numbers no longer encode century or gender, so the register's own
// fields are authoritative.
//
// Person identities are personal data. Errors from this package therefore
// give a reason and a position, never the value, so that they may be shown to
// a user and logged; [Person] also redacts itself in log/slog.
package ident
