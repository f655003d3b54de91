package breach

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Who was affected, from the log (issue 12 item 6; Rules AV-05, AA-16,
// AA-22). For a breach that involves a consumer, a client key, a web user or
// a time window, the register's case workers and data protection officer
// compute from the lookup log which persons were looked up, through which
// channel and in which records, as of a signed checkpoint (audit.Affected,
// store.Affected). Each computation is a step on the case — its counts and
// checkpoint kept, its event in the log without identities — and shown on a
// page of its own; the list of identities is only ever a download, computed
// again at the same checkpoint, and the download is itself a record in the
// log (a reading of the log). Identities never stand in a URL: a computation
// is named by its id.

// Fields of the form on the case page.
const (
	fieldAffConsumer   = "berort_konsument"
	fieldAffClient     = "berort_klient"
	fieldAffEndUser    = "berort_sluttbruker"
	fieldAffFrom       = "berort_fra"
	fieldAffTo         = "berort_til"
	fieldAffCheckpoint = "berort_kontrollpunkt"
)

var affectedFields = []string{fieldAffConsumer, fieldAffClient, fieldAffEndUser, fieldAffFrom, fieldAffTo, fieldAffCheckpoint}

// channelLabels name the log's channels in Norwegian.
var channelLabels = map[string]string{"api": "API", "web": "Nettoppslag i portalen", "extract": "Uttrekk"}

func channelLabel(c string) string {
	if l, ok := channelLabels[c]; ok {
		return l
	}
	return c
}

// loadStaffIncident is the case for the register's staff only; anyone else gets 404 (loadIncident).
func (s *Feature) loadStaffIncident(r *http.Request, v *site.Visitor) (store.IncidentCase, error) {
	c, err := s.loadIncident(r, v)
	if err != nil {
		return c, err
	}
	if !incidentActor(v).Staff() {
		return store.IncidentCase{}, httperr.ErrNotFound
	}
	return c, nil
}

// incidentAffected computes who was affected for the scope the form gives,
// at the newest signed checkpoint (or the one the form names, to reproduce
// an earlier list), keeps the counts on the case as a step, and shows the
// result.
func (s *Feature) incidentAffected(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	ctx := r.Context()
	values := map[string]string{}
	for _, f := range affectedFields {
		values[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	bad := map[string]string{}
	scope := audit.Scope{Consumer: values[fieldAffConsumer], ClientID: values[fieldAffClient], EndUser: values[fieldAffEndUser]}
	if t := s.ParseFormTime(values[fieldAffFrom], fieldAffFrom, "fra-tidspunktet", bad); t != nil {
		scope.From = *t
	}
	if t := s.ParseFormTime(values[fieldAffTo], fieldAffTo, "til-tidspunktet", bad); t != nil {
		scope.To = *t
	}
	switch {
	case len(bad) > 0:
	case scope.Empty():
		bad[fieldAffConsumer] = "Oppgi konsumenten, klienten, brukeren eller tidsrommet avviket gjelder."
	case !scope.From.IsZero() && !scope.To.IsZero() && !scope.From.Before(scope.To):
		bad[fieldAffTo] = "Til-tidspunktet må være etter fra-tidspunktet."
	}
	// A web user is named in the log as "user:" and their id; the form takes their e-mail address too.
	if strings.Contains(scope.EndUser, "@") {
		u, _, err := s.DB.UserByEmail(ctx, scope.EndUser)
		switch {
		case errors.Is(err, store.ErrNotFound):
			bad[fieldAffEndUser] = "Fant ingen bruker med denne e-postadressen."
		case err != nil:
			return err
		default:
			scope.EndUser = "user:" + u.ID
		}
	}
	if scope.Consumer != "" {
		if _, err := s.DB.Consumer(ctx, scope.Consumer); errors.Is(err, store.ErrNotFound) {
			bad[fieldAffConsumer] = "Fant ingen konsument med dette organisasjonsnummeret."
		} else if err != nil {
			return err
		}
	}
	var root []byte
	if cp := values[fieldAffCheckpoint]; cp != "" {
		size, perr := strconv.ParseUint(cp, 10, 63)
		if perr == nil {
			root, err = s.DB.CheckpointRoot(ctx, size)
		}
		switch {
		case perr != nil || errors.Is(err, store.ErrNotFound):
			bad[fieldAffCheckpoint] = "Fant ikke et signert kontrollpunkt med denne størrelsen."
		case err != nil:
			return err
		}
		scope.Size = size
	} else {
		scope.Size, root, err = s.DB.LatestCheckpointRoot(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			bad[fieldAffCheckpoint] = "Oppslagsloggen har ikke et signert kontrollpunkt ennå. Prøv igjen om litt."
		case err != nil:
			return err
		}
	}
	if len(bad) > 0 {
		return s.incidentFail(w, r, v, c, "berorte", values, bad, affectedFields)
	}
	l, err := s.DB.Affected(ctx, scope)
	if err != nil {
		return err
	}
	ac := incident.AffectedCount{ID: newAffectedID(), Consumer: scope.Consumer, ClientID: scope.ClientID, EndUser: scope.EndUser,
		From: scope.From, To: scope.To, CheckpointSize: scope.Size, CheckpointRoot: base64.StdEncoding.EncodeToString(root),
		Persons: len(l.Persons), Records: l.Records, Items: l.Items, Consumers: l.Consumers, Erased: l.Erased,
		By: incidentActor(v), At: s.Now()}
	for _, ch := range l.ByChannel {
		ac.ByChannel = append(ac.ByChannel, incident.ChannelCount{Channel: ch.Channel, Persons: ch.Persons, Records: ch.Records})
	}
	ch := store.IncidentChange{Step: store.StepAffected, Affected: &ac,
		Note: fmt.Sprintf("%d personer i %d oppslag, kontrollpunkt %d", ac.Persons, ac.Records, ac.CheckpointSize)}
	ch.By, ch.Status, ch.Owner, ch.AwareAt, ch.Risk, ch.Decision = v.User.Navn, c.Status, c.Owner, c.AwareAt, c.Risk, c.Decision
	if _, err := s.DB.ChangeIncident(ctx, c.ID, c.Version, ch, v.Actor()); errors.Is(err, store.ErrConflict) {
		s.Flash(r, "Saken ble endret av noen andre mens du arbeidet. Se over og prøv igjen.")
		site.Redirect(w, r, "/portal/avvik/"+c.ID)
		return nil
	} else if err != nil {
		return err
	}
	s.Log.Info("breach case: affected computed", "incident", c.ID, "checkpoint", ac.CheckpointSize, "user", v.User.ID)
	s.Flash(r, "Berørte personer er beregnet fra oppslagsloggen.")
	site.Redirect(w, r, "/portal/avvik/"+c.ID+"/berorte/"+ac.ID)
	return nil
}

// newAffectedID names a computation in URLs; it says nothing about whom it found.
func newAffectedID() string { return newIncidentReference()[len("AVVIK-"):] }

// affectedOf is the computation the URL names on case c; 404 when there is none.
func affectedOf(r *http.Request, c store.IncidentCase) (incident.AffectedCount, error) {
	for _, a := range c.Affected {
		if a.ID == r.PathValue("beregning") {
			return a, nil
		}
	}
	return incident.AffectedCount{}, httperr.ErrNotFound
}

type channelRow struct {
	Label            string
	Persons, Records int
}

// consumerContacts is an affected consumer and whom to contact there (Rule AA-22).
type consumerContacts struct {
	Orgnr, Navn string
	Contacts    []governance.Contact
}

type affectedPage struct {
	site.Frame
	C                       store.IncidentCase
	A                       incident.AffectedCount
	ConsumerName            string
	From, To, At            string
	Channels                []channelRow
	Consumers               []consumerContacts
	DownloadURL, CaseURL    string
	SubjectsText, RecordsTx string
}

// incidentAffectedPage shows a computation: the scope, the checkpoint, the
// counts by channel, and the affected consumers' contact persons (Rule AA-22).
func (s *Feature) incidentAffectedPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	a, err := affectedOf(r, c)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := affectedPage{Frame: s.Frame(r, v, "Berørte personer"), C: c, A: a, From: s.OsloTime(a.From), To: s.OsloTime(a.To), At: s.OsloTime(a.At),
		CaseURL: "/portal/avvik/" + c.ID, DownloadURL: "/portal/avvik/" + c.ID + "/berorte/" + a.ID + "/last-ned"}
	for _, ch := range a.ByChannel {
		p.Channels = append(p.Channels, channelRow{Label: channelLabel(ch.Channel), Persons: ch.Persons, Records: ch.Records})
	}
	for _, orgnr := range a.Consumers {
		cc := consumerContacts{Orgnr: orgnr, Navn: orgnr}
		if cons, err := s.DB.Consumer(ctx, orgnr); err == nil {
			cc.Navn = cons.Navn
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cc.Contacts, err = s.DB.Contacts(ctx, orgnr); err != nil {
			return err
		}
		p.Consumers = append(p.Consumers, cc)
	}
	if a.Consumer != "" {
		p.ConsumerName = a.Consumer
		if cons, err := s.DB.Consumer(ctx, a.Consumer); err == nil {
			p.ConsumerName = cons.Navn + " (" + a.Consumer + ")"
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, "avvik_berorte.html", p)
	return nil
}

// incidentAffectedDownload is the list of identities of a computation, as
// CSV: computed again from the log at the computation's checkpoint, so it is
// the list the counts were made from, or an error if the log no longer gives
// it (retention erased records since). The download is a reading of the log,
// and is itself a record in it (without the identities).
func (s *Feature) incidentAffectedDownload(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.loadStaffIncident(r, v)
	if err != nil {
		return err
	}
	a, err := affectedOf(r, c)
	if err != nil {
		return err
	}
	ctx := r.Context()
	l, err := s.affectedPersons(r, a)
	if err != nil {
		return err
	}
	root, err := s.DB.CheckpointRoot(ctx, a.CheckpointSize)
	if err != nil {
		return err
	}
	if err := s.InsightRecordBy(r, "portal", v.Actor(), "", "", map[string]any{"innsyn": "berorte", "avvik": c.ID, "beregning": a.ID,
		"kontrollpunkt": a.CheckpointSize, "personer": len(l.Persons)}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="berorte-`+a.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.Write([]string{"fodselsnummer", "kanaler", "oppslag_i_loggen", "kontrollpunkt_storrelse", "kontrollpunkt_rothash"})
	for _, p := range l.Persons {
		seqs := make([]string, len(p.Records))
		for i, q := range p.Records {
			seqs[i] = strconv.FormatUint(q, 10)
		}
		// The root in hex: a base64 root may start with '+', which a spreadsheet takes for a formula.
		cw.Write([]string{p.Ident, strings.Join(p.Channels, " "), strings.Join(seqs, " "), strconv.FormatUint(a.CheckpointSize, 10), hex.EncodeToString(root)})
	}
	cw.Flush()
	return cw.Error()
}

// affectedPersons is the list of identities of computation a, computed
// again from the log at its checkpoint: the list the counts were made from,
// or an error if the log no longer gives it (retention erased records since).
// Reading it is a reading of the log: the caller records it (the download
// as an insight record; the notices to persons as a step on the case).
func (s *Feature) affectedPersons(r *http.Request, a incident.AffectedCount) (audit.AffectedList, error) {
	return s.DB.AffectedPersons(r.Context(), a)
}

// affectedView is a computation in the case page's list.
type affectedView struct {
	ID, At, By, Scope string
	Checkpoint        uint64
	Persons, Records  int
}

// affectedViews lists the case's computations, newest first.
func (s *Feature) affectedViews(c *incident.Breach) []affectedView {
	var out []affectedView
	for i := len(c.Affected) - 1; i >= 0; i-- {
		a := c.Affected[i]
		var parts []string
		if a.Consumer != "" {
			parts = append(parts, "konsument "+a.Consumer)
		}
		if a.ClientID != "" {
			parts = append(parts, "klient "+a.ClientID)
		}
		if a.EndUser != "" {
			parts = append(parts, "bruker "+a.EndUser)
		}
		if !a.From.IsZero() || !a.To.IsZero() {
			parts = append(parts, "fra "+orDash(s.OsloTime(a.From))+" til "+orDash(s.OsloTime(a.To)))
		}
		out = append(out, affectedView{ID: a.ID, At: s.OsloTime(a.At), By: a.By.Name, Scope: strings.Join(parts, ", "),
			Checkpoint: a.CheckpointSize, Persons: a.Persons, Records: a.Records})
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
