package post

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// An idempotentKey makes a retried initialize safe. deling's semantics
// (research §1.7 for Altinn's): the same key with the same content gives the
// same result again (Replay: the correspondence already made, nothing new);
// the same key with different content is a conflict (409, 1034). Altinn
// answers every reuse with 409/1034 without comparing content; a client
// written for that reads the existing id with GET …?idempotentKey=, which
// works here too. Keys never expire and survive a purge. A key is scoped to
// the sender that used it, so that one sender cannot learn of another's keys.

// IdempotencyOutcome is what a request with a key is.
type IdempotencyOutcome int

// The outcomes.
const (
	IdemNew      IdempotencyOutcome = iota // the key is unused: go ahead
	IdemReplay                             // same key, same content: answer with the stored result
	IdemConflict                           // same key, different content: refuse (1034)
)

// ContentHash is the canonical SHA-256 of what a request asks for, in hex:
// the request as deling normalises it, re-encoded by encoding/json (struct
// fields in declaration order, map keys sorted, times in UTC), with the key
// itself left out. Two requests that ask for the same thing hash alike
// however their JSON was spaced, ordered or cased.
func ContentHash(req *InitializeRequest) string {
	c := *req
	c.IdempotentKey = nil
	cor := c.Correspondence
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	cor.RequestedPublishTime, cor.DueDateTime = utc(cor.RequestedPublishTime), utc(cor.DueDateTime)
	c.Correspondence = cor
	b, err := json.Marshal(c)
	if err != nil {
		// Only the enum types could fail, and they marshal as strings.
		panic(fmt.Sprintf("post: canonical encoding: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Idempotency is what was stored when a key was first used.
type Idempotency struct {
	Key              string
	Hash             string // ContentHash of the first request
	CorrespondenceID string // what it made
	FirstUsed        time.Time
}

// CheckIdempotency compares a request's content hash with what its key
// stored, prev nil when the key is unused.
func CheckIdempotency(prev *Idempotency, hash string) (IdempotencyOutcome, *Problem) {
	switch {
	case prev == nil:
		return IdemNew, nil
	case prev.Hash == hash:
		return IdemReplay, nil
	}
	p := problem(CodeDuplicateIdempotentKey, "idempotentKey", "A correspondence with the same idempotent key already exists",
		"Idempotensnøkkelen er allerede brukt til en annen forsendelse.")
	p.Status = 409
	return IdemConflict, p
}
