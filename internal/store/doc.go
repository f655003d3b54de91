// Package store keeps deling's data in SQL: SQLite by default (one file in the
// data directory; modernc.org/sqlite, no cgo) or PostgreSQL. All SQL lives
// here, one file per concept, written once for both engines ($N placeholders,
// portable types); the migrations are embedded and run by goose at Open.
//
// Store methods take a context first and return ErrNotFound, wrapped, for a
// missing row. They never decide access: that is package access.
package store
