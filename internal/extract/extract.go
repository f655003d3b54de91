// Package extract runs extract (uttrekk) jobs: a consumer asks for the
// arbeidsforhold of many persons or employers, and a runner streams them from
// the register to batch files, minimised to the consumer's grant, which the
// consumer then fetches batch by batch (Folkeregisteret's pattern: job id,
// batch n, 404 until it is ready, an end marker after the last).
//
// What a job holds is here (job.go); how it is stored and claimed is SQL in
// package store, which implements this package's Store; the HTTP side is in
// packages web/machineapi and web/portal (order, status, batches) with what
// they share in web/channel. Access and consent are decided by the lookup
// pipeline's plan (package lookup), as for every channel. This package writes the files: each batch is written under a
// temporary name and renamed into place when whole, and is served only once
// the database has recorded it together with its log record, so a batch is
// either whole or absent. A job whose runner died is taken over and resumes
// from its last whole batch.
package extract

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Defaults of the rules' numbers; each is configuration.
const (
	// DefaultBatchSize is arbeidsforhold per batch file.
	DefaultBatchSize = 10_000
	// DefaultMaxUnits is how many persons or employers one extract may name.
	DefaultMaxUnits = 100_000
	// MaxUnitsLimit bounds both numbers above: the order's record names
	// each of its units, a batch's record each person in it, and 100,000
	// commitments (about 5.5 MB) keep a record well within
	// audit.MaxRecordSize.
	MaxUnitsLimit = 100_000
	// MaxActive is how many jobs an organisation may have queued or running at once
	// (as Folkeregisteret's extracts: the next one gets 429).
	MaxActive = 10
	// DefaultTTL is how long a finished result is kept before it is deleted.
	DefaultTTL = 7 * 24 * time.Hour
	// DefaultStaleAfter is how long a running job's runner may be silent before another runner takes the job over.
	DefaultStaleAfter = 2 * time.Minute
)

// Formats of a result.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// ValidFormat reports whether f is a format a job can be written in.
func ValidFormat(f string) bool { return f == FormatJSONL || f == FormatCSV }

// ContentType is the media type of a batch in format f.
func ContentType(f string) string {
	if f == FormatCSV {
		return "text/csv; charset=utf-8; header=present"
	}
	return "application/jsonl"
}

// JobDir is the directory of a job's batch files. id must be a job id from
// the database (a UUID), never a caller's string.
func JobDir(dir, id string) string { return filepath.Join(dir, id) }

// BatchFile is the path of batch n of a job as it was named before batch
// files carried their runner's claim; a batch whose row names no file has it.
func BatchFile(dir, id string, n int, format string) string {
	return filepath.Join(JobDir(dir, id), strconv.Itoa(n)+"."+format)
}

// BatchName is the name of batch n written by the runner holding claim:
// <n>.<claim>.<format>. Each runner writes under names of its own, so a runner
// that lost its claim never overwrites a batch another runner committed; the
// batch's row names the one file that is served.
func BatchName(n int, claim, format string) string {
	return strconv.Itoa(n) + "." + claim + "." + format
}

// CommittedFile is the path of a committed batch: the file its row names, or
// the old name when the row names none. ok is false if the row's name is not
// a plain file name in the job's directory.
func CommittedFile(dir, id string, n int, format, file string) (string, bool) {
	if file == "" {
		return BatchFile(dir, id, n, format), true
	}
	if file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
		return "", false
	}
	return filepath.Join(JobDir(dir, id), file), true
}

// RemoveJob deletes a job's files.
func RemoveJob(dir, id string) error {
	if _, err := uuid.Parse(id); err != nil || dir == "" {
		return fmt.Errorf("extract: not a job id: %q", id)
	}
	if err := os.RemoveAll(JobDir(dir, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
