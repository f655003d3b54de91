package main

import (
	"deling/internal/audit"
	"deling/internal/store"
)

// lookupLog is the log the API appends its lookup records to: the store's,
// always, in every binary but one built with `-tags benchdiscard`
// (discardlog_bench.go), which only `deling bench` may run.
var lookupLog = func(db *store.DB) audit.Log { return db }

// discardLog is true in a binary built with `-tags benchdiscard`.
var discardLog = false
