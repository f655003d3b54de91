// Package audit is the lookup log: one record for every lookup through every
// channel (Rule AA-16), appended before a byte of the answer leaves, and the
// governance events (grants suspended, ended, …) beside them.
//
// This package holds the record and the Log interface; package store keeps the
// records durably.
package audit
