package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Kinds of record.
const (
	KindLookup = "lookup"
	// KindInsight is the register's staff reading the log on a person's or consumer's behalf (Rule AA-17).
	KindInsight = "insight"
	// Governance events.
	KindGrantAdded        = "grant.added"
	KindGrantStatus       = "grant.status"
	KindDelegationAdded   = "delegation.added"
	KindDelegationEnded   = "delegation.ended"
	KindConsumerChanged   = "consumer.changed"
	KindClientAdded       = "client.added"
	KindClientChanged     = "client.changed" // a client's key rotated, or the client revoked (issue 16, item 5)
	KindSigningKeyRotated = "signingkey.rotated"
	// The portal's events (issue 5): every step of access governance is recorded.
	KindUserAdded      = "user.added"
	KindUserRole       = "user.role"
	KindContactChanged = "contact.changed"
	KindApplication    = "application.changed" // søknad: saved, submitted, signed, asked, answered, approved, refused
	KindTerms          = "terms.changed"       // a terms version published, accepted or objected to
	KindNotice         = "notice.published"
	KindConsent        = "consent.changed"
	KindConsumerEnded  = "consumer.ended" // all access ended: by the consumer, or its organisation ceased
	// KindIncident is a step on a breach case (Rule AV-07): reported, taken, a measure, the assessment, the decision, a filing, a reminder.
	KindIncident = "incident.changed"
	// KindLogErased is retention applied to the log itself: its Event is an Erasure.
	KindLogErased = "log.erased"
	// KindPost is a step of digital post (issue 14): a sender registered or leaving, correspondences initialized, a status added.
	KindPost = "post.changed"
)

// Decisions.
const (
	Permit = "permit"
	Deny   = "deny"
	// Screened is a permitted lookup whose person was withheld (Rule AA-11); the answer was the same as for an unknown person.
	Screened = "screened"
)

// GrantRef is what the log keeps of a grant used: its id and the legal basis it rests on.
type GrantRef struct {
	ID              string `json:"id"`
	LegalBasis      string `json:"hjemmel"`
	ProcessingBasis string `json:"behandlingsgrunnlag"`
	Purpose         string `json:"formaal"`
}

// Erasure is the event of a KindLogErased record: the content of the
// records older than Before was erased, Records of them (their leaf hashes
// stay).
type Erasure struct {
	Before  time.Time `json:"before"`
	Records int64     `json:"records"`
	// Unreadable are the erased records that could not be read (their
	// ids are lost with their content); audit verify reported them before.
	Unreadable int64 `json:"unreadable,omitempty"`
}

// Record is one entry of the log. Rule AA-16: who asked (consumer, data
// processor, client, or the signed-in person), on what basis, what they asked,
// whose data was returned, and what the answer was.
type Record struct {
	V             int             `json:"v"` // encoding version, RecordVersion
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Kind          string          `json:"kind"`
	Channel       string          `json:"channel,omitempty"`
	Consumer      string          `json:"consumer,omitempty"`
	Processor     string          `json:"processor,omitempty"`
	EndUser       string          `json:"endUser,omitempty"`
	ClientID      string          `json:"clientId,omitempty"`
	Grants        []GrantRef      `json:"grants,omitempty"`
	CorrelationID string          `json:"correlationId,omitempty"`
	Operation     string          `json:"operation,omitempty"` // the route, e.g. "GET /api/v2/arbeidstaker/arbeidsforhold"
	Request       json.RawMessage `json:"request,omitempty"`   // the criteria, as the caller gave them
	Decision      string          `json:"decision,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Status        int             `json:"status,omitempty"` // the HTTP status answered
	// Returned are the persons whose data was returned. In the leaf of a
	// version-1 record; a version-2 record holds ReturnedCommitments there
	// instead, and Returned is filled only when it is opened (Open).
	Returned []string `json:"returned,omitempty"`
	// ReturnedCommitments (version 2, Rule AA-17) are the returned persons'
	// commitments (Commitment), sorted.
	ReturnedCommitments []string `json:"returnedCommitments,omitempty"`
	ResultCount         int      `json:"resultCount"`
	ResponseHash        string   `json:"responseSha256,omitempty"`
	// Response is the exact answer, deflate-compressed, when the log is
	// configured to keep it. In the leaf of a version-1 record; a version-2
	// record keeps it beside the leaf, covered by ResponseHash only.
	Response []byte          `json:"responseDeflate,omitempty"`
	Event    json.RawMessage `json:"event,omitempty"` // governance: what changed
	Actor    string          `json:"actor,omitempty"` // governance: who changed it
}

// ForConsumer is the record as the consumer it names may read it (Rule
// AA-17): a lookup whose person was withheld for a protected address reads as
// the permitted lookup it was answered as. The screened marker is for the
// register; shown to the consumer, beside the identifier it asked for, it
// would tell that the person has a protected address (Rule AA-11).
func (r Record) ForConsumer() Record {
	if r.Decision == Screened {
		r.Decision = Permit
	}
	return r
}

// RecordVersion is the version of the canonical encoding new records get.
// Version 1 holds everything in the leaf, identities in the clear; version 2
// (Rules AA-16, AA-17) holds a commitment for each identity, and keeps the
// per-subject salts and the kept response beside the leaf (subjects.go).
const RecordVersion = 2

// Log appends records durably: Append returns only when the record would survive a crash.
type Log interface {
	Append(ctx context.Context, r *Record) error
}
