package incident

import "time"

// AffectedCount is one computation, kept on the case, of who was affected
// by the breach according to the lookup log (issue 12 item 6; Rules AV-05,
// AA-16, AA-22): the scope it was computed for, the checkpoint it was
// computed at, and the counts for the filing — never the identities, which
// are computed again from the log at the same checkpoint when the list is
// downloaded.
type AffectedCount struct {
	ID       string
	Consumer string    // the consumer (orgnr), "" for any
	ClientID string    // the API client, "" for any
	EndUser  string    // the web user, "" for any
	From, To time.Time // the window [From, To); zero is open
	// The checkpoint: only records it covers count, so the same checkpoint
	// gives the same list however many lookups follow.
	CheckpointSize uint64
	CheckpointRoot string // base64, as the checkpoint note writes it
	Persons        int    // distinct persons whose data was returned
	Records        int    // lookups (log records) that returned someone's data
	Items          int    // personal data records (arbeidsforhold) returned
	ByChannel      []ChannelCount
	Consumers      []string // the consumers whose lookups count (Rule AA-22)
	Erased         int      // records in the window whose content retention erased
	By             Actor
	At             time.Time
}

// ChannelCount is one channel's persons and records in a computation.
type ChannelCount struct {
	Channel          string
	Persons, Records int
}

// SubjectsApprox is the computation's number of persons for the filing (art. 33(3)(a)).
func (a AffectedCount) SubjectsApprox() Approx { return Exact(a.Persons) }

// RecordsApprox is the computation's number of records for the filing (art. 33(3)(a)).
func (a AffectedCount) RecordsApprox() Approx { return Exact(a.Records) }

// LatestAffected is the case's newest computation of who was affected, nil when none.
func (b *Breach) LatestAffected() *AffectedCount {
	if len(b.Affected) == 0 {
		return nil
	}
	return &b.Affected[len(b.Affected)-1]
}
