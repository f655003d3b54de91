package portal

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/lookup"
	"deling/internal/store"
	"deling/internal/web/channel"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Insight in the portal (Rule AA-17): a signed-in person sees which consumers
// have access to the register and, by the register's policy, who looked them
// up, each lookup with a receipt that checks offline against the signed log; the
// register's data protection officer and case workers give the same insight to a
// person who asks by letter; a consumer reads the log of its own lookups. Every
// such read is itself a record in the log.

type insightPage struct {
	site.Frame
	Insight channel.PersonInsight
	// Staff: the insight was given to a person who asked; Error is a form message.
	Staff bool
	Error string
	Shown bool
	// Names are the data processors' names, by orgnr (the insight gives their numbers).
	Names map[string]string
}

// processorNames fills in the names of the data processors the insight names.
func (s *Server) processorNames(r *http.Request, p *insightPage) error {
	p.Names = map[string]string{}
	for _, l := range p.Insight.Oppslag {
		if l.Databehandler == "" {
			continue
		}
		if _, ok := p.Names[l.Databehandler]; ok {
			continue
		}
		name, err := s.OrgName(r.Context(), l.Databehandler)
		if err != nil {
			return err
		}
		p.Names[l.Databehandler] = name
	}
	return nil
}

// myInsight shows the signed-in person their insight.
func (s *Server) myInsight(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	in, err := s.PersonInsightFor(r, v.User.PID)
	if err != nil {
		return err
	}
	if err := s.InsightRecordBy(r, "portal", v.Actor(), "", v.User.PID, map[string]string{"innsyn": "person"}); err != nil {
		return err // fail closed: no insight that is not logged
	}
	p := insightPage{Frame: s.Frame(r, v, "Innsyn: hvem har sett opplysningene dine"), Insight: in, Shown: true}
	if err := s.processorNames(r, &p); err != nil {
		return err
	}
	s.Render(w, r, "innsyn.html", p)
	return nil
}

// myReceipt downloads the receipt of one lookup on the signed-in person; any
// other record answers as if it did not exist. The receipt discloses the
// person's own subject salt and no one else's (Rule AA-17), and the download
// is itself a record in the log, appended before the receipt leaves.
func (s *Server) myReceipt(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		return httperr.ErrNotFound
	}
	recs, err := s.DB.StoredRecords(r.Context(), store.RecordQuery{Subject: v.User.PID, After: index - 1, AfterSet: index > 0, Limit: 1})
	if err != nil {
		return err
	}
	if len(recs) == 0 || recs[0].Seq != index || recs[0].Record.Kind != audit.KindLookup {
		return httperr.ErrNotFound
	}
	receipt, err := s.Receipt(r, recs[0], v.User.PID)
	if err != nil {
		return httperr.ErrNotFound // no signed checkpoint covers it yet, or it would show others
	}
	if err := s.InsightRecordBy(r, "portal", v.Actor(), "", v.User.PID, map[string]any{"innsyn": "kvittering", "index": index}); err != nil {
		return err // fail closed: no receipt that is not logged
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="kvittering-`+strconv.FormatUint(index, 10)+`.json"`)
	json.NewEncoder(w).Encode(receipt)
	return nil
}

func (s *Server) staffInsightForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	s.Render(w, r, "innsyn.html", insightPage{Frame: s.Frame(r, v, "Innsyn for en person"), Staff: true})
	return nil
}

// staffInsight gives a person's insight to the register's staff, who pass it
// on; the fødselsnummer comes in the form body, never in the URL.
func (s *Server) staffInsight(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p := insightPage{Frame: s.Frame(r, v, "Innsyn for en person"), Staff: true}
	ident, why, ok := s.ParsePerson(r.PostFormValue("fodselsnummer"))
	if !ok {
		p.Error = "Fødselsnummeret er ikke gyldig: " + why + "."
		w.WriteHeader(http.StatusBadRequest)
		s.Render(w, r, "innsyn.html", p)
		return nil
	}
	in, err := s.PersonInsightFor(r, ident)
	if err != nil {
		return err
	}
	if err := s.InsightRecordBy(r, "portal", v.Actor(), "", ident, map[string]string{"innsyn": "person"}); err != nil {
		return err
	}
	p.Insight, p.Shown = in, true
	if err := s.processorNames(r, &p); err != nil {
		return err
	}
	s.Render(w, r, "innsyn.html", p)
	return nil
}

// ownLogPage is a consumer's own lookups, a page at a time.
type ownLogPage struct {
	site.Frame
	Records []logRow
	Next    string
}

// logRow is a lookup of the log as the consumer's people read it: in
// Norwegian, the log's codes (permit, deny, invalid-request) in words.
type logRow struct {
	Time               string
	Channel, Operation string
	Decision, Reason   string
	Persons            int
	CorrelationID      string
}

// logReasons are the log's reasons for a refusal that the access decision
// did not make (lookup.DenyText has those), in words.
var logReasons = map[string]string{
	"invalid-request":        "ugyldig forespørsel",
	"terms-not-confirmed":    "bruksvilkårene var ikke bekreftet",
	lookup.ReasonNoConsent:   "personen har ikke gitt samtykke",
	lookup.ReasonError:       "feil i registeret",
	lookup.ReasonUnavailable: "registeret var midlertidig utilgjengelig",
	"missing-scope":          "tokenet mangler tilgangen (scope) som trengs",
	"not-found":              "fant ikke det som ble bedt om",
	"expired":                "uttrekket er utløpt",
	"not-ready":              "uttrekket er ikke klart ennå",
	"failed":                 "uttrekket feilet",
	"extracts-off":           "uttrekk er slått av",
	"too-many-extracts":      "for mange uttrekk samtidig",
}

// operationLabels name the log's operations (the API's and portal's routes,
// the extract runner's steps) in words for the consumer's people (issue 16,
// item 8: no codes in user-facing text); the download keeps the routes.
var operationLabels = map[string]string{
	"GET /api/v2/arbeidstaker/arbeidsforhold":   "Arbeidsforholdene til en arbeidstaker",
	"POST /api/v2/arbeidsforhold/sok":           "Søk i arbeidsforhold",
	"GET /api/v2/arbeidsforhold/{uuid}":         "Ett arbeidsforhold",
	"POST /api/v2/arbeidssted/antall":           "Antall arbeidsforhold på et arbeidssted",
	"POST /api/v2/uttrekk":                      "Bestilling av uttrekk",
	"GET /api/v2/uttrekk/{jobbid}":              "Status for uttrekk",
	"GET /api/v2/uttrekk/{jobbid}/batch/{n}":    "Henting av en del av et uttrekk",
	"DELETE /api/v2/uttrekk/{jobbid}":           "Sletting av uttrekk",
	"extract start":                             "Uttrekket startet",
	"extract resume":                            "Uttrekket fortsatte",
	"POST /portal/oppslag":                      "Oppslag i portalen",
	"POST /portal/uttrekk":                      "Bestilling av uttrekk i portalen",
	"POST /portal/uttrekk/{jobbid}/slett":       "Sletting av uttrekk i portalen",
	"GET /portal/uttrekk/{jobbid}/batch/{n}":    "Nedlasting av en del av et uttrekk i portalen",
	"GET /portal/oppslagslogg":                  "Visning av oppslagsloggen",
	"GET /portal/oppslagslogg/last-ned":         "Nedlasting av oppslagsloggen",
	"GET /api/innsyn/konsument/{orgnr}/oppslag": "Uthenting av oppslagsloggen",
}

// operationLabel is an operation in words; one without a label is "Annet".
func operationLabel(op string) string {
	if l, ok := operationLabels[op]; ok {
		return l
	}
	return "Annet"
}

// logRowOf is one record of the consumer's log in words.
func (s *Server) logRowOf(rec audit.Record) logRow {
	row := logRow{Time: s.OsloSeconds(rec.Time), Channel: governance.ChannelLabel(access.Channel(rec.Channel)), Operation: operationLabel(rec.Operation),
		Persons: len(rec.Returned), CorrelationID: rec.CorrelationID, Decision: "Avvist"}
	if rec.Decision == audit.Permit {
		row.Decision = "Tillatt"
	}
	if rec.Reason != "" {
		if t, ok := lookup.DenyText(access.Reason(rec.Reason)); ok {
			row.Reason = strings.TrimSuffix(t, ".")
		} else if t, ok := logReasons[rec.Reason]; ok {
			row.Reason = t
		} else {
			row.Reason = "annen grunn"
		}
	}
	return row
}

// ownLog shows the organisation's newest lookups, oldest first within the page; ?side= pages on.
func (s *Server) ownLog(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	q := store.RecordQuery{Consumer: v.Org, Limit: 50}
	if side := r.URL.Query().Get("side"); side != "" {
		n, err := strconv.ParseUint(side, 10, 63) // beyond int64 the store's comparison would wrap to the first page
		if err != nil {
			return httperr.ErrNotFound
		}
		q.After, q.AfterSet = n, true
	}
	recs, err := s.DB.StoredRecords(r.Context(), q)
	if err != nil {
		return err
	}
	if err := s.InsightRecordBy(r, "portal", v.Actor(), v.Org, "", map[string]string{"consumer": v.Org}); err != nil {
		return err
	}
	p := ownLogPage{Frame: s.Frame(r, v, "Oppslagslogg")}
	for _, sr := range recs {
		if sr.Record.Kind == audit.KindLookup {
			p.Records = append(p.Records, s.logRowOf(sr.Record.ForConsumer()))
		}
	}
	if len(recs) == q.Limit {
		p.Next = strconv.FormatUint(recs[len(recs)-1].Seq, 10)
	}
	s.Render(w, r, "oppslagslogg.html", p)
	return nil
}

// ownLogDownload streams every lookup of the organisation as JSON lines.
func (s *Server) ownLogDownload(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if err := s.InsightRecordBy(r, "portal", v.Actor(), v.Org, "", map[string]string{"consumer": v.Org, "format": "jsonl"}); err != nil {
		return err
	}
	s.ExportLookups(w, r, store.RecordQuery{Consumer: v.Org})
	return nil
}
