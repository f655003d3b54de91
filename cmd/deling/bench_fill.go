package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"deling/internal/audit"
	"deling/internal/store"
)

// fillLog appends lookup records until the log holds target records: issue
// 15's bar is measured with 1,000,000 records already in the log, and
// making them through the API would take most of an hour. Each record is a
// copy of the newest lookup record the API wrote (the bench's preparation
// makes some), with its own id, time, correlation id, answer hash and
// person from persons: the shape, the size and the insight index the API
// would have written. Appended through the store's log, group-committed and
// integrated as the API's are.
func fillLog(ctx context.Context, db *store.DB, target int64, persons []string, progress io.Writer) error {
	size, err := db.LogSize(ctx)
	if err != nil {
		return err
	}
	if int64(size) >= target {
		return nil
	}
	tmpl, person, err := lookupTemplate(ctx, db)
	if err != nil {
		return err
	}
	todo := target - int64(size)
	fmt.Fprintf(progress, "bench: the lookup log holds %s records; appending %s copies of an API lookup record up to %s\n",
		thousands(int64(size)), thousands(todo), thousands(target))
	bar := newProgress(progress, "filling the log", todo)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range 64 { // enough concurrent appends for the log's group commit to fill its batches
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= todo || ctx.Err() != nil {
					return
				}
				r := copyLookup(tmpl, person, persons[i%int64(len(persons))])
				if err := db.Append(ctx, &r); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				if i%1000 == 999 || i == todo-1 {
					bar.Add(i%1000 + 1)
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// lookupTemplate is the newest lookup record that returned one person, and that person.
func lookupTemplate(ctx context.Context, db *store.DB) (audit.Record, string, error) {
	size, err := db.LogSize(ctx)
	if err != nil {
		return audit.Record{}, "", err
	}
	recs, err := db.StoredRecords(ctx, store.RecordQuery{All: true, Limit: 1000, AfterSet: size > 1000, After: size - min(size, 1000)})
	if err != nil {
		return audit.Record{}, "", err
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i].Record
		if r.Kind == audit.KindLookup && len(r.Returned) == 1 && strings.Contains(string(r.Request), r.Returned[0]) {
			return r, r.Returned[0], nil
		}
	}
	return audit.Record{}, "", errors.New("bench: no lookup record to copy (the preparation's lookups wrote none)")
}

// copyLookup is tmpl as a lookup of person instead of was.
func copyLookup(tmpl audit.Record, was, person string) audit.Record {
	r := tmpl
	r.ID, r.Time = "", time.Time{} // the log sets both
	r.CorrelationID = uuid.NewString()
	r.Request = []byte(strings.ReplaceAll(string(tmpl.Request), was, person))
	r.Returned = []string{person}
	r.ReturnedCommitments = nil
	var h [32]byte
	rand.Read(h[:])
	r.ResponseHash = hex.EncodeToString(h[:])
	return r
}
