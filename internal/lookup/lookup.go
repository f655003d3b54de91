package lookup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/register"
)

// Store is what the pipeline reads; *store.DB implements it.
type Store interface {
	// AccessInputs loads what a decision rests on, fresh for every request.
	AccessInputs(ctx context.Context, consumer, processor string) (access.Inputs, error)
	// FindDocs finds stored arbeidsforhold; with q.Screened, persons with a protected address are left out.
	FindDocs(ctx context.Context, q register.Query) (register.DocPage, error)
	// HasValidConsent reports a person's valid consent for a consumer and one of purposes.
	HasValidConsent(ctx context.Context, person, consumer string, purposes []string, now time.Time) (bool, error)
	// Protected reports whether a person has a protected address (Rule AA-11).
	Protected(ctx context.Context, person string) (bool, error)
}

// Pipeline runs lookups. Its fields are set once, at start-up.
type Pipeline struct {
	Store     Store
	Log       audit.Log
	Catalogue *access.Catalogue
	Env       register.Env
	Now       func() time.Time
	// KeepResponses keeps each answer's exact bytes, compressed, in its record; otherwise only their SHA-256.
	KeepResponses bool
	// AppendTimeout bounds one append, which the caller's leaving does not cancel (default 10 s).
	AppendTimeout time.Duration
}

// The statuses the log records for the pipeline's own answers (HTTP's, which
// every channel answers in; an extract's records use them too).
const (
	statusOK            = 200
	statusForbidden     = 403
	statusInternalError = 500
	statusUnavailable   = 503
)

// ErrNotLogged is returned (wrapped) when a record could not be appended: the
// caller gets no data (fail closed), answered as unavailable.
var ErrNotLogged = errors.New("lookup could not be logged")

// Reasons the log gives for answers that are not plain permits or denials.
const (
	// ReasonNoConsent: a person-keyed lookup answered as for an unknown
	// person because the consent the grants need is missing (Rule SK-08).
	ReasonNoConsent = "no-consent"
	// ReasonError: the lookup failed inside deling.
	ReasonError = "error"
	// ReasonUnavailable: the register could not be read (a read replica
	// down or too far behind); the caller got 503 and no data.
	ReasonUnavailable = "register-unavailable"
)

// Caller is who asks, as the log records them (Rule AA-16).
type Caller struct {
	Channel       access.Channel
	Consumer      string // the consumer the data is for
	Processor     string // a data processor acting for the consumer, or ""
	ClientID      string // the API client, or ""
	EndUser       string // the signed-in person (web lookup), or ""
	CorrelationID string
	Operation     string // the route or step, e.g. "GET /api/v2/arbeidstaker/arbeidsforhold"
}

// Record is the start of the log record of one request by c with criteria
// (what was asked, as the caller gave it; nil for none).
func (c Caller) Record(criteria any) audit.Record {
	rec := audit.Record{Kind: audit.KindLookup, Channel: string(c.Channel), Consumer: c.Consumer, Processor: c.Processor,
		ClientID: c.ClientID, EndUser: c.EndUser, CorrelationID: c.CorrelationID, Operation: c.Operation}
	if criteria != nil {
		if b, err := json.Marshal(criteria); err == nil {
			rec.Request = b
		}
	}
	return rec
}

// Request is the access request of rec's caller for a query kind.
func (p *Pipeline) Request(rec *audit.Record, kind access.QueryKind, history bool) access.Request {
	return access.Request{Consumer: rec.Consumer, Processor: rec.Processor, Channel: access.Channel(rec.Channel),
		Env: p.Env, Kind: kind, History: history}
}

func (p *Pipeline) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// Inputs loads the consumer's access inputs with the pipeline's catalogue.
func (p *Pipeline) Inputs(ctx context.Context, consumer, processor string) (access.Inputs, error) {
	in, err := p.Store.AccessInputs(ctx, consumer, processor)
	in.Catalogue = p.Catalogue
	return in, err
}

// Append writes rec durably before its answer leaves (Rule AA-16). A caller
// that goes away does not cancel it; it has a bounded time of its own. The
// error wraps ErrNotLogged.
func (p *Pipeline) Append(ctx context.Context, rec *audit.Record) error {
	timeout := p.AppendTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := p.Log.Append(ctx, rec); err != nil {
		return fmt.Errorf("%w: %w", ErrNotLogged, err)
	}
	return nil
}

// Refuse logs a request answered without data: status is what the caller
// answers, reason why (a deny reason, "invalid-request", …).
func (p *Pipeline) Refuse(ctx context.Context, rec audit.Record, status int, reason string) error {
	rec.Decision, rec.Reason, rec.Status = audit.Deny, reason, status
	return p.Append(ctx, &rec)
}

// RefuseFailed logs a request that failed with err inside deling: 503 when
// the register was unavailable (register.ErrUnavailable), else 500.
func (p *Pipeline) RefuseFailed(ctx context.Context, rec audit.Record, err error) error {
	if errors.Is(err, register.ErrUnavailable) {
		return p.Refuse(ctx, rec, statusUnavailable, ReasonUnavailable)
	}
	return p.Refuse(ctx, rec, statusInternalError, ReasonError)
}

// Decide makes the access decision for rec's caller and plans consent for a
// request keyed on person ("" when it is not keyed on one). A denial is
// logged (403) and returned as *Denied.
func (p *Pipeline) Decide(ctx context.Context, in access.Inputs, rec audit.Record, kind access.QueryKind, history bool, person string) (*Plan, error) {
	plan, err := NewPlan(p.Request(&rec, kind, history), in, p.Catalogue, p.now(), p.consented(rec.Consumer))
	if err == nil {
		err = plan.KeyedOn(person)
	}
	var denied *Denied
	if errors.As(err, &denied) {
		if lerr := p.Refuse(ctx, rec, statusForbidden, string(denied.Reason)); lerr != nil {
			return nil, lerr
		}
	}
	return plan, err
}

// consented looks up consents of the consumer's data subjects.
func (p *Pipeline) consented(consumer string) func(ctx context.Context, person string, purposes []string) (bool, error) {
	return func(ctx context.Context, person string, purposes []string) (bool, error) {
		return p.Store.HasValidConsent(ctx, person, consumer, purposes, p.now())
	}
}

// Query is one lookup's criteria.
type Query struct {
	Kind     access.QueryKind
	History  bool // historikk asked for
	Register register.Query
}

// Item is one arbeidsforhold delivered: the stored row and its minimised JSON.
type Item struct {
	Doc  register.Doc
	JSON []byte
}

// Answer is a lookup's result, not yet logged: the channel renders it and
// calls Deliver with the exact bytes it will send.
type Answer struct {
	Items []Item
	Next  string // keyset cursor of the next page, "" on the last
	// Withheld: the person's data needs their consent, which is missing; the
	// answer is the one for an unknown person (Rule SK-08).
	Withheld bool
	// Screened: the person asked for has a protected address and was withheld; the answer is the one for an unknown person (Rule AA-11).
	Screened bool

	p        *Pipeline
	rec      audit.Record
	decision access.Decision // the decision the items were delivered under
	subjects []string
}

// Lookup runs decide → consent → find → screen → project → subjects for rec's
// caller. A denial is logged and returned as *Denied; a failure is logged
// (500) and returned. Otherwise the channel renders the Answer and calls its
// Deliver, which digests and appends.
func (p *Pipeline) Lookup(ctx context.Context, in access.Inputs, rec audit.Record, q Query) (*Answer, error) {
	plan, err := p.Decide(ctx, in, rec, q.Kind, q.History, q.Register.Arbeidstaker)
	if err != nil {
		return nil, err
	}
	a, err := p.find(ctx, plan, q)
	if err != nil {
		return nil, errors.Join(err, p.RefuseFailed(ctx, rec, err))
	}
	a.p, a.rec = p, rec
	return a, nil
}

// find is the lookup's data steps under a plan.
func (p *Pipeline) find(ctx context.Context, plan *Plan, q Query) (*Answer, error) {
	a := &Answer{decision: plan.Decision()}
	// A lookup keyed on one person is answered as for an unknown person when
	// nothing of theirs may be delivered: the register is not even asked.
	if person := q.Register.Arbeidstaker; person != "" {
		if _, ok, err := plan.View(ctx, person); err != nil || !ok {
			a.Withheld = err == nil
			return a, err
		}
	}
	page, err := p.Store.FindDocs(ctx, q.Register)
	if err != nil {
		return nil, err
	}
	a.Next = page.Next
	usedFull := false
	for i := range page.Docs {
		doc := &page.Docs[i]
		v, ok, err := plan.View(ctx, doc.Arbeidstaker)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		b, err := v.Projection.Append(nil, doc.Doc, v.Options())
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", doc.UUID, err)
		}
		if v.Projection == plan.full.Projection {
			usedFull = true
		} else {
			a.decision = v.Decision
		}
		a.Items = append(a.Items, Item{Doc: *doc, JSON: b})
		a.subjects = AppendSubjects(a.subjects, doc)
	}
	if usedFull {
		a.decision = plan.Decision()
	}
	if len(page.Docs) == 0 {
		if a.Screened, err = Screened(ctx, p.Store, q.Register.Arbeidstaker); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Protector reports whether a person has a protected address (Rule AA-11).
type Protector interface {
	Protected(ctx context.Context, person string) (bool, error)
}

// Screened reports whether a lookup keyed on person that found nothing was
// withheld because the person has a protected address (Rule AA-11): the
// answer is the same as for an unknown person, and only the log says
// screened. Every channel asks this, and only then, so the hot path pays
// nothing. An empty person (a lookup not keyed on one) is never screened.
func Screened(ctx context.Context, s Protector, person string) (bool, error) {
	if person == "" {
		return false, nil
	}
	return s.Protected(ctx, person)
}

// Decision is the decision the answer's data was delivered under.
func (a *Answer) Decision() access.Decision { return a.decision }

// Deliver appends the answer's record with the exact body the channel is
// about to send: its digest, the persons it names, and the grants it rests
// on. Only when it returns nil may the body leave (fail closed).
func (a *Answer) Deliver(ctx context.Context, body []byte) error {
	rec := a.rec
	switch {
	case a.Withheld:
		rec.Decision, rec.Reason = audit.Deny, ReasonNoConsent
	case a.Screened:
		rec.Decision = audit.Screened
	}
	return a.p.Deliver(ctx, rec, a.decision, body, a.subjects, len(a.Items))
}

// Deliver appends the record of an answer with data: body is what is sent,
// subjects the identities it names, count the number of items.
func (p *Pipeline) Deliver(ctx context.Context, rec audit.Record, d access.Decision, body []byte, subjects []string, count int) error {
	if rec.Decision == "" {
		rec.Decision = audit.Permit
	}
	rec.Status = statusOK
	rec.Returned, rec.ResultCount, rec.ResponseHash = Unique(subjects), count, Digest(body)
	if p.KeepResponses {
		rec.Response = audit.Compress(body)
	}
	if rec.Decision != audit.Deny {
		rec.Grants = d.GrantRefs()
	}
	return p.Append(ctx, &rec)
}

// AppendSubjects adds the identities doc is about to dst: the employee, and
// the employer when that is a person (Rule AA-16: whose data was returned).
func AppendSubjects(dst []string, doc *register.Doc) []string {
	dst = append(dst, doc.Arbeidstaker)
	if doc.PersonEmployer {
		dst = append(dst, doc.Arbeidssted, doc.Opplysningspliktig)
	}
	return dst
}

// Unique sorts identities and drops repeats: a record names each once.
func Unique(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Digest is the hex SHA-256 of an answer's exact bytes, as the log keeps it.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
