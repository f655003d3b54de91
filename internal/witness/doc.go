// Package witness is a transparency-log witness speaking c2sp.org/tlog-witness,
// and the client deling uses to ask witnesses for cosignatures (Rule AA-16).
//
// A witness holds its own Ed25519 key and its own state (SQLite in its state
// directory): for each log it witnesses, by origin and verifier key, the latest
// checkpoint it cosigned. It cosigns a new checkpoint only if the log signed it
// and it consistently extends that one, so a log that was truncated, rolled
// back or forked can no longer get a cosignature from it. It never sees a
// record, only checkpoints.
//
// It is not a monitor: it does not fetch the log's tiles or check records.
package witness
