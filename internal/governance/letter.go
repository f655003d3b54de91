package governance

import "time"

// Letter is an e-mail from the register: a notice to a subscribed contact, a
// written notice to a consumer's contacts when its access changes, a reminder,
// an invitation's link. It is queued in an outbox in the transaction of the
// change it tells of, so that the change and the letter are stored together
// or not at all, and delivered afterwards (package mail).
type Letter struct {
	ID        string
	Consumer  string // the organisation it concerns, or "" (then it is not among the organisation's letters)
	Kind      string // one of the Letter… kinds, or another short name such as "terms.objection"
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
	SentAt    *time.Time // nil until delivered
	Attempts  int        // delivery attempts so far
	LastError string     // the last failed attempt's error
}

// Kinds of letter (Letter.Kind).
const (
	LetterNotice          = "notice"             // a notice to a subscribed contact (Rule AA-20)
	LetterRemindSubscribe = "reminder.subscribe" // a consumer without a subscription is reminded (Rule AA-20)
	LetterSuspension      = "suspension"         // the consumer's access is suspended (Rule AA-25)
	LetterResumption      = "resumption"         // the consumer's access is resumed (Rule AA-25)
	LetterTermination     = "termination"        // the consumer's access has ended (Rule AA-26)
	LetterReviewReminder  = "reminder.review"    // an organisation's review of its users is due (Rule AA-27)
	LetterActivation      = "activation"         // a link to set a password or accept a role (Rule AA-27)
	LetterServiceIncident = "service.incident"   // a status update of a service incident to the consumers it affects (Rule AA-19)
)
