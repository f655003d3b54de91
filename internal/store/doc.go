// Package store keeps deling's data in SQL: SQLite by default (one file in the
// data directory; modernc.org/sqlite, no cgo) or PostgreSQL. All SQL lives
// here, one file per concept, written once for both engines ($N placeholders,
// portable types); the migrations are embedded and run by goose at Open.
//
// What differs between the engines is in sqlite.go and postgres.go; the
// sentinel errors are in errors.go. Store methods take a context first and
// return ErrNotFound, wrapped, for a missing row. They never decide access:
// that is package access (access.Decide, access.Scopes); the store loads
// what a decision rests on, and stores a change with its events and letters
// in one transaction.
package store
