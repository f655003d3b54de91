// Package store keeps deling's data in SQL: SQLite by default (one file in the
// data directory; modernc.org/sqlite, no cgo) or PostgreSQL. All SQL lives
// here, one file per concept, written once for both engines ($N placeholders,
// portable types); the migrations are embedded and run by goose at Open.
//
// What differs between the engines is in sqlite.go and postgres.go; the
// register read from a PostgreSQL replica (serve --db-read) in replica.go; the
// sentinel errors are in errors.go. Store methods take a context first and
// return ErrNotFound, wrapped, for a missing row. They never decide access:
// that is package access (access.Decide, access.Scopes); the store loads
// what a decision rests on, and stores a change with its events and letters
// in one transaction.
//
// At about 9,500 lines of non-test code it is over the house limit of ~3,000
// lines: it is every concept's SQL, one file each (access.go, applications.go,
// extracts.go, post*.go for digital post, …), and what ties them together —
// one *DB with its pools, one transaction helper, one migration set, the
// lookup log's append queue — would have to be exported to a package per
// concept, and a change that spans concepts (an approval writes grants,
// letters and log events in one transaction) would then span packages. New
// features add files here, not packages; a file over ~800 lines is split by
// concept.
package store
