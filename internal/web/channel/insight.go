package channel

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/store"
	"deling/internal/web/httperr"
)

// InsightRecordBy logs a read of the log by someone on a channel ("admin", "portal"), for a consumer or none.
func (s *Shared) InsightRecordBy(r *http.Request, channel, endUser, consumer, subject string, request any) error {
	b, _ := json.Marshal(request)
	rec := &audit.Record{Kind: audit.KindInsight, Channel: channel, EndUser: endUser, Consumer: consumer, CorrelationID: httperr.CorrelationID(r.Context()),
		Operation: r.Pattern, Request: b, Decision: audit.Permit}
	if subject != "" {
		rec.Returned = []string{subject}
	}
	return s.audit.Append(r.Context(), rec)
}

// ConsumerAccess is one consumer with access, as a person sees it.
type ConsumerAccess struct {
	Orgnr               string   `json:"organisasjonsnummer"`
	Navn                string   `json:"navn"`
	Formaal             string   `json:"formaal"`
	Hjemmel             string   `json:"hjemmel"`
	Behandlingsgrunnlag string   `json:"behandlingsgrunnlag"`
	Kanaler             []string `json:"kanaler"`
}

// LookupSeen is one lookup on a person, with its receipt.
type LookupSeen struct {
	Tidspunkt     time.Time        `json:"tidspunkt"`
	Konsument     string           `json:"konsument"`
	KonsumentNavn string           `json:"konsumentNavn,omitempty"`
	Databehandler string           `json:"databehandler,omitempty"`
	Kanal         string           `json:"kanal"`
	Grunnlag      []audit.GrantRef `json:"grunnlag,omitempty"`
	Kvittering    *audit.Receipt   `json:"kvittering,omitempty"`
	// KvitteringKommer is set when no signed checkpoint covers the record yet.
	KvitteringKommer bool `json:"kvitteringKommer,omitempty"`
	// KvitteringHoldesTilbake is set for an old (version-1) record that names
	// other persons in the clear: its receipt would disclose them (Rule AA-17).
	KvitteringHoldesTilbake bool `json:"kvitteringHoldesTilbake,omitempty"`
	seq                     uint64
}

// PersonInsight is what a person is shown (Rule AA-17).
type PersonInsight struct {
	Konsumenter []ConsumerAccess `json:"konsumenter"`
	Oppslag     []LookupSeen     `json:"oppslag"`
	// OppslagVises says which consumer categories' lookups are shown, by the register's policy.
	OppslagVises []string `json:"oppslagVisesForKategorier"`
}

// PersonInsightFor gathers the consumers with access to the register, and the
// lookups on the person by consumers of the categories the policy names, each
// with its receipt (or a note that it comes with the next checkpoint).
func (s *Shared) PersonInsightFor(r *http.Request, ident string) (PersonInsight, error) {
	ctx := r.Context()
	out := PersonInsight{Konsumenter: []ConsumerAccess{}, Oppslag: []LookupSeen{}, OppslagVises: s.insightCategories}
	consumers, err := s.db.Consumers(ctx)
	if err != nil {
		return out, err
	}
	grants, err := s.db.Grants(ctx, "")
	if err != nil {
		return out, err
	}
	byOrg := map[string]access.Consumer{}
	for _, c := range consumers {
		byOrg[c.Orgnr] = c
	}
	now := s.now()
	seen := map[string]int{}
	for _, g := range grants {
		c, ok := byOrg[g.Consumer]
		if !ok || c.Status != access.Active || !g.ActiveAt(now) || g.Env != s.env {
			continue
		}
		key := g.Consumer + "\x00" + g.Purpose + "\x00" + g.LegalBasis
		if i, ok := seen[key]; ok {
			if !slices.Contains(out.Konsumenter[i].Kanaler, string(g.Channel)) {
				out.Konsumenter[i].Kanaler = append(out.Konsumenter[i].Kanaler, string(g.Channel))
			}
			continue
		}
		seen[key] = len(out.Konsumenter)
		out.Konsumenter = append(out.Konsumenter, ConsumerAccess{Orgnr: c.Orgnr, Navn: c.Navn, Formaal: g.Purpose,
			Hjemmel: g.LegalBasis, Behandlingsgrunnlag: g.ProcessingBasis, Kanaler: []string{string(g.Channel)}})
	}
	if len(s.insightCategories) == 0 {
		return out, nil
	}
	recs, err := s.db.StoredRecords(ctx, store.RecordQuery{Subject: ident, Limit: 1000})
	if err != nil {
		return out, err
	}
	for _, sr := range recs {
		rec := sr.Record
		c := byOrg[rec.Consumer]
		if rec.Kind != audit.KindLookup || rec.Decision != audit.Permit || !slices.Contains(s.insightCategories, c.Category) {
			continue
		}
		l := LookupSeen{Tidspunkt: rec.Time, Konsument: rec.Consumer, KonsumentNavn: c.Navn, Databehandler: rec.Processor, Kanal: rec.Channel, Grunnlag: rec.Grants, seq: sr.Seq}
		switch receipt, err := s.Receipt(r, sr, ident); {
		case err == nil:
			l.Kvittering = receipt
		case errors.Is(err, ErrReceiptWithheld):
			l.KvitteringHoldesTilbake = true
		case errors.Is(err, store.ErrNotFound):
			l.KvitteringKommer = true
		default:
			return out, err
		}
		out.Oppslag = append(out.Oppslag, l)
	}
	return out, nil
}

// ExportLookups streams every lookup record q selects as JSON lines, page by
// page from the store, as the consumer may read them (audit.Record.ForConsumer).
func (s *Shared) ExportLookups(w http.ResponseWriter, r *http.Request, q store.RecordQuery) {
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="oppslag-`+q.Consumer+`.jsonl"`)
	enc := json.NewEncoder(w)
	q.Limit = 1000
	for {
		recs, err := s.db.StoredRecords(r.Context(), q)
		if err != nil {
			s.log.Error("export failed midway", "err", err, "correlation_id", httperr.CorrelationID(r.Context()))
			return
		}
		for _, sr := range recs {
			if sr.Record.Kind == audit.KindLookup {
				enc.Encode(sr.Record.ForConsumer())
			}
		}
		if len(recs) < q.Limit {
			return
		}
		q.After, q.AfterSet = recs[len(recs)-1].Seq, true
	}
}

// ErrReceiptWithheld is the answer for a receipt that would show other
// persons: a version-1 record that names anyone but the person in the clear.
var ErrReceiptWithheld = errors.New("receipt withheld: the record names others in the clear")

// Receipt is the person ident's receipt for a record: it proves the record's
// inclusion under the first signed checkpoint that covers it and, with their
// own subject salt, their appearance in it, and discloses no one else (Rule
// AA-17): a version-2 record holds only commitments; a version-1 record that
// names others gets no receipt (ErrReceiptWithheld). store.ErrNotFound when no
// checkpoint covers the record yet or it does not name ident.
func (s *Shared) Receipt(r *http.Request, sr store.StoredRecord, ident string) (*audit.Receipt, error) {
	opening := sr.SubjectOpening(ident)
	if opening == nil || sr.Canonical == nil {
		return nil, store.ErrNotFound
	}
	if audit.NamesOthers(sr.Canonical, ident) {
		return nil, ErrReceiptWithheld
	}
	size, signed, err := s.db.CheckpointAtLeast(r.Context(), sr.Seq)
	if err != nil {
		return nil, err
	}
	hashes, err := s.db.InclusionProof(r.Context(), sr.Seq, size)
	if err != nil {
		return nil, err
	}
	return &audit.Receipt{Record: sr.Canonical, Salt: sr.Salt, Index: sr.Seq, Proof: audit.TLogProof(sr.Seq, hashes, signed), Subject: opening}, nil
}
