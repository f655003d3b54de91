// Package audit is the lookup log: one record for every lookup through every
// channel (Rule AA-16), appended before a byte of the answer leaves, and the
// governance events (grants suspended, ended, …) beside them.
//
// A record's leaf is SHA-256(0x00 ‖ salt ‖ canonical record). Since record
// version 2 the canonical record names no one in the clear: each identity it
// returns or names is a salted per-subject commitment, and the subjects'
// salts (and any kept response) lie beside the leaf, so that a person's
// receipt proves their own appearance and discloses no one else (Rule
// AA-17). Version-1 records stay verifiable as they are.
//
// The log stores each canonical record packed (PackRecord: zstd against a
// fixed, pinned dictionary); every reader unpacks it (UnpackRecord) before
// hashing or opening it, so the leaf and everything built on it are those of
// the canonical bytes. Records stored before packing stay plain and readable.
//
// This package holds the record and the Log interface; package store keeps the
// records durably.
package audit
