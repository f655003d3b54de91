package dpa

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// ---- The list ----

type listRow struct {
	store.AgreementRecord
	Side    dpa.Side
	Newest  dpa.VersionStatus
	Overdue bool // Rule DPA-10: the deletion certificate is late
}

type listPage struct {
	site.Frame
	dates
	Rows       []listRow
	CanDraft   bool
	CaseWorker bool
	Gaps       int // delegations without a covering agreement (Rule SK-04)
}

// list shows the agreements the visitor's organisation is a party to, on
// either side; the register's case workers and DPO see all.
func (s *Feature) list(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	ctx := r.Context()
	org := v.Org
	if overseer(v) {
		org = ""
	}
	recs, err := s.DB.Agreements(ctx, org)
	if err != nil {
		return err
	}
	now := s.Now()
	p := listPage{Frame: s.Frame(r, v, "Databehandleravtaler"), dates: dates{s.Site}, CanDraft: drafter(v), CaseWorker: caseWorker(v)}
	for _, rec := range recs {
		if !dpa.CanSee(&rec.Agreement, scoped(v)) {
			continue
		}
		row := listRow{AgreementRecord: rec, Side: side(v, &rec.Agreement), Overdue: rec.Overdue(now)}
		if n := rec.Newest(); n != nil {
			row.Newest = n.Status
		}
		p.Rows = append(p.Rows, row)
	}
	if p.CaseWorker {
		gaps, err := s.DB.UncoveredDelegations(ctx, now)
		if err != nil {
			return err
		}
		p.Gaps = len(gaps)
	}
	s.Render(w, r, "dpa_liste.html", p)
	return nil
}

// ---- One agreement ----

type agreementPage struct {
	site.Frame
	dates
	form
	A          store.AgreementRecord
	Side       dpa.Side
	Newest     *dpa.Version
	Current    *dpa.Version // the version in force, if any
	Document   string       // the newest version's readable text
	DocSHA256  string
	Hash       string        // the newest version's content hash: what a signature covers
	Versions   []dpa.Version // newest first
	Steps      map[dpa.Step]bool
	Message    string // a refused step's message
	Overdue    bool
	Annex3     []dpa.Annex3Item
	Annex3Date string
	Proposals  []dpa.SubProcessor
	Requests   []dpa.AuthorityRequest
	Reports    []dpa.AuditReport
	History    []store.AgreementEntry
	Choices    []dpa.EndChoice
	Bases      []dpa.TransferBasis
	Countries  []choice
	MaxFileMiB int
	// What the visitor may do beside the steps.
	CanPropose, CanDecideSub, CanRequest, CanUpload, CanBreach bool
}

// names is the content the agreement's names are read from: the version in
// force, else the newest (a pending agreement's draft).
func names(a *dpa.Agreement) dpa.Content {
	if v := a.Current(); v != nil {
		return v.Content
	}
	if v := a.Newest(); v != nil {
		return v.Content
	}
	return dpa.Content{}
}

// Names is the content the page names the parties and main agreement from (names).
func (p agreementPage) Names() dpa.Content { return names(&p.A.Agreement) }

// Names is the content the row names the parties and main agreement from (names).
func (r listRow) Names() dpa.Content { return names(&r.Agreement) }

// stepButton is a step's one-button form (the "dpa-steg" partial).
type stepButton struct{ ID, Step, Label string }

// Button is the one-button form of step.
func (p agreementPage) Button(step, label string) stepButton { return stepButton{p.A.ID, step, label} }

// StepLabel is a history entry's step as the page shows it.
func (p agreementPage) StepLabel(step string) string {
	switch step {
	case store.StepDPASubProcessor:
		return "Underdatabehandler"
	case store.StepDPARequest:
		return "Forespørsel fra myndighet registrert"
	case store.StepDPARequestWithheld:
		return "Forespørsel fra myndighet registrert, varsling utsatt etter loven"
	case store.StepDPARequestNotified:
		return "Behandlingsansvarlig varslet om forespørsel fra myndighet"
	case store.StepDPAAuditReport:
		return "Revisjonsrapport arkivert"
	case store.StepDPAReminder:
		return "Påminnelse om sletting sendt"
	case store.StepDPABreach:
		return "Brudd meldt til behandlingsansvarlig"
	}
	return dpa.Step(step).Label()
}

// RowValue is field name's value for proposal id's form: what was posted
// when that form failed, else "" (Rule DPA-05).
func (p agreementPage) RowValue(id, name string) string {
	if p.Values[fieldSub] != id {
		return ""
	}
	return p.Values[name]
}

// RowError is field name's message for proposal id's form; its field's id is f-<name>-<id>, as the summary links.
func (p agreementPage) RowError(id, name string) string { return p.Errors[name+"-"+id] }

// May reports whether the visitor may take step now: its form is shown.
func (p agreementPage) May(step string) bool { return p.Steps[dpa.Step(step)] }

// page is an agreement: where it stands, its newest version as a document,
// what the visitor may do, the sub-processors, records and history.
func (s *Feature) page(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	p, err := s.pageData(r, v, rec, newForm())
	if err != nil {
		return err
	}
	s.Render(w, r, "dpa_avtale.html", p)
	return nil
}

// rerender shows the agreement's page again with a form's messages (or a
// step's message) and status, after a refused post; nothing was stored.
func (s *Feature) rerender(w http.ResponseWriter, r *http.Request, v *site.Visitor, rec store.AgreementRecord, f form, msg string, status int) error {
	p, err := s.pageData(r, v, rec, f)
	if err != nil {
		return err
	}
	p.Message = msg
	w.WriteHeader(status)
	s.Render(w, r, "dpa_avtale.html", p)
	return nil
}

func (s *Feature) pageData(r *http.Request, v *site.Visitor, rec store.AgreementRecord, f form) (agreementPage, error) {
	ctx := r.Context()
	now := s.Now()
	a := &rec.Agreement
	p := agreementPage{Frame: s.Frame(r, v, "Databehandleravtale"), dates: dates{s.Site}, form: f, A: rec, Side: side(v, a),
		Newest: a.Newest(), Current: a.Current(), Steps: map[dpa.Step]bool{}, Overdue: a.Overdue(now), Choices: []dpa.EndChoice{dpa.ChoiceDelete, dpa.ChoiceReturn},
		Bases: dpa.TransferBases(), Countries: countryChoices(""), MaxFileMiB: dpa.MaxAuditFileSize >> 20}
	if p.Newest != nil {
		p.Document, p.DocSHA256, p.Hash = dpa.Document(p.Newest), dpa.DocumentDigest(p.Newest), p.Newest.Hash()
	}
	for i := len(a.Versions) - 1; i >= 0; i-- {
		p.Versions = append(p.Versions, a.Versions[i])
	}
	for _, st := range dpa.StepsOn(a, v.Actor(), scoped(v)) {
		p.Steps[st] = true
	}
	// Rule DPA-05: annex 3 as of a date (today unless asked), and the proposals not approved.
	subs, err := s.DB.SubProcessors(ctx, a.ID)
	if err != nil {
		return p, err
	}
	at := now
	if d := r.URL.Query().Get("dato"); d != "" {
		if t, err := time.ParseInLocation("2006-01-02", d, s.Oslo); err == nil {
			at, p.Annex3Date = t.AddDate(0, 0, 1).Add(-time.Nanosecond), d
		}
	}
	p.Annex3, p.Proposals = dpa.Annex3At(a, subs, at), dpa.Proposals(a, subs)
	if p.Requests, err = s.DB.AuthorityRequests(ctx, a.ID); err != nil {
		return p, err
	}
	if p.Reports, err = s.DB.AuditReports(ctx, a.ID); err != nil {
		return p, err
	}
	if p.History, err = s.DB.AgreementHistory(ctx, a.ID); err != nil {
		return p, err
	}
	if p.Side != dpa.Processor && p.Side != dpa.Register {
		// Rule DPA-09: a request the law forbids telling the controller, and
		// its history entry, are shown to the processor and the register only
		// (deny by default) until the processor notifies the controller.
		p.Requests = slices.DeleteFunc(p.Requests, func(q dpa.AuthorityRequest) bool { return q.Withheld() })
		p.History = slices.DeleteFunc(p.History, func(e store.AgreementEntry) bool { return e.Step == store.StepDPARequestWithheld })
	}
	live := a.Status == dpa.StatusActive || a.Status == dpa.StatusStopped
	proc, ctrl := p.Side == dpa.Processor, p.Side == dpa.Controller
	p.CanPropose = live && proc
	p.CanDecideSub = live && ctrl && v.For(governance.Administrator, governance.Rolleinnehaver)
	inForceOnce := recordsOpen(a)
	p.CanRequest = proc && inForceOnce
	p.CanUpload = (proc || ctrl) && inForceOnce
	p.CanBreach = proc && inForceOnce
	return p, nil
}

// countryChoices are the register's countries (Rule AA-09), selected one first.
func countryChoices(selected string) []choice {
	var out []choice
	for _, g := range governance.Countries() {
		for _, c := range g.Countries {
			out = append(out, choice{Value: c.Navn, Label: c.Navn, Checked: c.Navn == selected})
		}
	}
	return out
}

// ---- The document (Rule DPA-01) ----

type documentPage struct {
	site.Frame
	dates
	A        store.AgreementRecord
	V        *dpa.Version
	Text     string
	SHA256   string
	Hash     string
	Download string
}

// version is the version the path names, of an agreement the visitor may see.
func (s *Feature) version(r *http.Request, v *site.Visitor) (store.AgreementRecord, *dpa.Version, error) {
	rec, err := s.load(r, v)
	if err != nil {
		return rec, nil, err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return rec, nil, httperr.ErrNotFound
	}
	i := slices.IndexFunc(rec.Versions, func(x dpa.Version) bool { return x.Number == n })
	if i < 0 {
		return rec, nil, httperr.ErrNotFound
	}
	return rec, &rec.Versions[i], nil
}

// document shows a version as the readable document, annexes in the template's order, with its SHA-256.
func (s *Feature) document(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, ver, err := s.version(r, v)
	if err != nil {
		return err
	}
	s.Render(w, r, "dpa_dokument.html", documentPage{Frame: s.Frame(r, v, "Databehandleravtale, versjon "+strconv.Itoa(ver.Number)), dates: dates{s.Site},
		A: rec, V: ver, Text: dpa.Document(ver), SHA256: dpa.DocumentDigest(ver), Hash: ver.Hash(),
		Download: fmt.Sprintf("%s/%s/versjoner/%d/last-ned", Base, rec.ID, ver.Number)})
	return nil
}

// download sends the version's document as a Markdown file; its SHA-256 in a header, as on the page.
func (s *Feature) download(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, ver, err := s.version(r, v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": dpa.Filename(rec.ID, ver)}))
	w.Header().Set("X-Content-SHA256", dpa.DocumentDigest(ver))
	_, err = w.Write([]byte(dpa.Document(ver)))
	return err
}
