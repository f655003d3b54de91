package dpa

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// The records kept with an agreement: sub-processors (Rules DPA-05,
// DPA-06), authority requests and audit reports (Rule DPA-09), and the
// processor's breach report (Rule DPA-07). Each form's bad input is shown by
// field on the agreement's page, and nothing is stored.

// letterSubProcessor is the letter of a proposal and of the controller's decision on it (Rule DPA-05).
const letterSubProcessor = "dpa.subprocessor"

// done answers a post that failed or succeeded: a refused one renders the
// agreement's page again with its messages; err that stepError does not
// handle is returned; otherwise flash and back to the agreement.
func (s *Feature) done(w http.ResponseWriter, r *http.Request, v *site.Visitor, rec store.AgreementRecord, f form, err error, flash string) error {
	if text, status, handled := stepError(err, f.Errors); len(f.Errors) > 0 || handled {
		if status == 0 {
			status = http.StatusBadRequest
		}
		return s.rerender(w, r, v, rec, f, text, status)
	}
	if err != nil {
		return refused(err)
	}
	s.Flash(r, flash)
	site.Redirect(w, r, Base+"/"+rec.ID)
	return nil
}

// proposeSub records the processor's proposal of a sub-processor (Rule
// DPA-05): it has no effect until the controller approves it; the
// controller is told.
func (s *Feature) proposeSub(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	f := newForm()
	e := dpa.SubProcessorEntry{Navn: r.PostFormValue(dpa.FieldSubName), Country: r.PostFormValue(dpa.FieldSubCountry), Task: r.PostFormValue(dpa.FieldSubTask)}
	for _, k := range []string{dpa.FieldSubName, dpa.FieldSubOrgnr, dpa.FieldSubCountry, dpa.FieldSubTask} {
		f.Values[k] = r.PostFormValue(k)
	}
	setID(&e, f.Values[dpa.FieldSubOrgnr])
	letter := governance.Letter{Consumer: rec.Controller, Kind: letterSubProcessor,
		Subject: "Databehandleren foreslår en ny underdatabehandler",
		Body: fmt.Sprintf("Databehandleren (org.nr. %s) foreslår %s (%s) som underdatabehandler etter databehandleravtalen %s.\n\n"+
			"Underdatabehandleren kan ikke tas i bruk før dere har godkjent den skriftlig i portalen: %s/%s\n",
			rec.Processor, strings.TrimSpace(e.Navn), strings.TrimSpace(e.Country), rec.ID, s.AbsoluteBase(r)+Base, rec.ID)}
	_, err = s.DB.ProposeSubProcessor(r.Context(), s.rules, rec.ID, e, []governance.Letter{letter}, actor(v))
	return s.done(w, r, v, rec, f, err, "Underdatabehandleren er foreslått. Den kan ikke brukes før behandlingsansvarlig har godkjent den.")
}

// decideSub is the controller's written approval or refusal of a proposal
// (Rule DPA-05), or either side's removal; outside the EU/EEA the approval
// carries the controller's transfer instruction (Rule DPA-06).
func (s *Feature) decideSub(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	subs, err := s.DB.SubProcessors(r.Context(), rec.ID)
	if err != nil {
		return err
	}
	sid := r.PathValue("sid")
	i := slices.IndexFunc(subs, func(x dpa.SubProcessor) bool { return x.ID == sid })
	if i < 0 {
		return httperr.ErrNotFound
	}
	f := newForm()
	f.Values[fieldSub] = sid // the row whose form is shown again (Rule DPA-05)
	step := dpa.SubStep(r.PostFormValue("steg"))
	reason := r.PostFormValue(dpa.FieldSubReason)
	f.Values[dpa.FieldSubReason] = reason
	var transfer *dpa.Transfer
	if b := r.PostFormValue(dpa.FieldTransferBasis); b != "" {
		transfer = &dpa.Transfer{Country: r.PostFormValue(dpa.FieldTransferCountry), Recipient: r.PostFormValue(dpa.FieldTransferRecipient), Basis: dpa.TransferBasis(b)}
		transfer.SCCModule, _ = strconv.Atoi(r.PostFormValue(dpa.FieldTransferSCC)) // Validate refuses what is not 1–4
		f.Values[dpa.FieldTransferBasis] = b
	}
	f.Values[dpa.FieldTransferSCC] = r.PostFormValue(dpa.FieldTransferSCC)
	var flash string
	switch step {
	case dpa.SubStepApprove:
		flash = "Underdatabehandleren er godkjent og står nå i vedlegg 3."
	case dpa.SubStepRefuse:
		flash = "Underdatabehandleren er avslått. Databehandleren er varslet."
	case dpa.SubStepRemove:
		flash = "Underdatabehandleren er fjernet."
	default:
		return refused(dpa.ErrNotYourStep)
	}
	letter := subDecisionLetter(rec, subs[i].Entry, step, reason, side(v, &rec.Agreement))
	_, err = s.DB.DecideSubProcessor(r.Context(), s.rules, sid, step, transfer, reason, []governance.Letter{letter}, actor(v))
	if inv := (*store.InvalidError)(nil); errors.As(err, &inv) {
		// Rule DPA-05: the messages belong to the row's form; the summary links to its fields.
		for k, msg := range inv.Fields {
			f.Errors[k+"-"+sid] = msg
		}
		return s.rerender(w, r, v, rec, f, "", http.StatusBadRequest)
	}
	return s.done(w, r, v, rec, f, err, flash)
}

// fieldSub names, in a re-rendered page's values, the proposal whose form failed.
const fieldSub = "underdatabehandler_id"

// subDecisionLetter tells the other side of the agreement what the side
// that acted (by) did with sub-processor e (Rule DPA-05): the controller's
// approval or refusal (with its reason) goes to the processor; a removal
// goes to the side that did not remove it.
func subDecisionLetter(rec store.AgreementRecord, e dpa.SubProcessorEntry, step dpa.SubStep, reason string, by dpa.Side) governance.Letter {
	who, to := "Behandlingsansvarlig (org.nr. "+rec.Controller+")", rec.Processor
	if by == dpa.Processor {
		who, to = "Databehandleren (org.nr. "+rec.Processor+")", rec.Controller
	}
	did := map[dpa.SubStep]string{dpa.SubStepApprove: "godkjent skriftlig", dpa.SubStepRefuse: "avslått", dpa.SubStepRemove: "fjernet"}[step]
	body := fmt.Sprintf("%s har %s underdatabehandleren %s (%s, %s) etter databehandleravtalen %s.\n",
		who, did, strings.TrimSpace(e.Navn), strings.TrimSpace(e.Country), strings.TrimSpace(e.Task), rec.ID)
	if step == dpa.SubStepRefuse {
		body += "\nBegrunnelse: " + strings.TrimSpace(reason) + "\n"
	}
	return governance.Letter{Consumer: to, Kind: letterSubProcessor, Subject: "Underdatabehandler " + did + ": " + strings.TrimSpace(e.Navn), Body: body}
}

// recordRequest records an authority's request for data (Rule DPA-09); the controller is told at once.
func (s *Feature) recordRequest(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{dpa.FieldReqAuthority, dpa.FieldReqReceivedAt, dpa.FieldReqWhat, dpa.FieldReqBasis} {
		f.Values[k] = r.PostFormValue(k)
	}
	f.Values[fieldLawForbids] = r.PostFormValue(fieldLawForbids) // kept on a refused post
	req := dpa.AuthorityRequest{Authority: f.Values[dpa.FieldReqAuthority], What: f.Values[dpa.FieldReqWhat], LegalBasis: f.Values[dpa.FieldReqBasis],
		LawForbidsNotice: f.Values[fieldLawForbids] == "ja"}
	if t := s.ParseFormTime(strings.TrimSpace(f.Values[dpa.FieldReqReceivedAt]), dpa.FieldReqReceivedAt, "når forespørselen kom", f.Errors); t != nil {
		req.ReceivedAt = *t
	}
	if len(f.Errors) == 0 {
		_, err = s.DB.RecordAuthorityRequest(r.Context(), rec.ID, req, actor(v))
	}
	flash := "Forespørselen er registrert, og behandlingsansvarlig er varslet."
	if req.LawForbidsNotice {
		flash = "Forespørselen er registrert. Varsle behandlingsansvarlig her så snart loven tillater det."
	}
	return s.done(w, r, v, rec, f, err, flash)
}

// fieldLawForbids is the request form's box: the law forbids telling the controller now.
const fieldLawForbids = "lovforbud"

// notifyRequest is the processor's "varsle nå" on a request withheld
// because the law forbade the notice (Rule DPA-09): the controller is sent
// the letter and sees the request from now on.
func (s *Feature) notifyRequest(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	_, err = s.DB.NotifyAuthorityRequest(r.Context(), rec.ID, r.PathValue("qid"), actor(v))
	if errors.Is(err, store.ErrNotFound) {
		return httperr.ErrNotFound
	}
	return s.done(w, r, v, rec, newForm(), err, "Behandlingsansvarlig er varslet om forespørselen.")
}

// uploadReport files an audit report (Rule DPA-09): who uploads (either
// party's people) and where the agreement stands are checked before the
// body is touched (403, 409); the body is limited before anything is read
// (http.MaxBytesReader); the store checks the file by name, size and content.
func (s *Feature) uploadReport(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	if sd := side(v, &rec.Agreement); sd != dpa.Controller && sd != dpa.Processor {
		return refused(dpa.ErrNotYourStep)
	}
	f := newForm()
	if !recordsOpen(&rec.Agreement) {
		return s.done(w, r, v, rec, f, store.ErrConflict, "")
	}
	r.Body = http.MaxBytesReader(w, r.Body, dpa.MaxAuditFileSize+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f.Errors[dpa.FieldFile] = fmt.Sprintf("Filen er for stor (høyst %d MiB).", dpa.MaxAuditFileSize>>20)
		} else {
			f.Errors[dpa.FieldFile] = "Velg en fil å laste opp."
		}
		return s.done(w, r, v, rec, f, nil, "")
	}
	defer r.MultipartForm.RemoveAll()
	title := r.FormValue(dpa.FieldFileTitle)
	f.Values[dpa.FieldFileTitle] = title
	file, hdr, err := r.FormFile(dpa.FieldFile)
	if err != nil {
		f.Errors[dpa.FieldFile] = "Velg en fil å laste opp."
		return s.done(w, r, v, rec, f, nil, "")
	}
	defer file.Close()
	_, err = s.DB.AddAuditReport(r.Context(), rec.ID, title, hdr.Filename, file, actor(v))
	return s.done(w, r, v, rec, f, err, "Revisjonsrapporten er arkivert med avtalen.")
}

// downloadReport sends an audit report of the agreement.
func (s *Feature) downloadReport(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	reps, err := s.DB.AuditReports(r.Context(), rec.ID)
	if err != nil {
		return err
	}
	rid := r.PathValue("rid")
	var rep *dpa.AuditReport
	for i := range reps {
		if reps[i].ID == rid {
			rep = &reps[i]
		}
	}
	if rep == nil {
		return httperr.ErrNotFound
	}
	w.Header().Set("Content-Type", string(rep.Type))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = s.DB.AuditReportFile(r.Context(), rep.ID, w)
	return err
}

// breachFields are the breach report's fields (Rule DPA-07, a–f).
var breachFields = []string{dpa.FieldBreachNature, dpa.FieldBreachSubjectCats, dpa.FieldBreachSubjects, dpa.FieldBreachRecordCats,
	dpa.FieldBreachRecords, dpa.FieldBreachIdentities, dpa.FieldBreachContact, dpa.FieldBreachConsequences, dpa.FieldBreachMeasures,
	dpa.FieldBreachOther, dpa.FieldBreachAwareAt}

// reportBreach files the processor's breach report to the controller
// (Rule DPA-07): a case in the breach handling whose clock starts at the
// processor's awareness (Rules AV-03, AV-05); the controller is told.
func (s *Feature) reportBreach(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range breachFields {
		f.Values[k] = r.PostFormValue(k)
	}
	rep := dpa.BreachReport{Nature: f.Values[dpa.FieldBreachNature], SubjectCategories: f.Values[dpa.FieldBreachSubjectCats],
		Subjects: approx(f, dpa.FieldBreachSubjects), RecordCategories: f.Values[dpa.FieldBreachRecordCats],
		Records: approx(f, dpa.FieldBreachRecords), Identities: f.Values[dpa.FieldBreachIdentities],
		Contact: f.Values[dpa.FieldBreachContact], Consequences: f.Values[dpa.FieldBreachConsequences], Measures: f.Values[dpa.FieldBreachMeasures],
		Other: f.Values[dpa.FieldBreachOther]}
	if t := s.ParseFormTime(strings.TrimSpace(f.Values[dpa.FieldBreachAwareAt]), dpa.FieldBreachAwareAt, "når dere ble kjent med bruddet", f.Errors); t != nil {
		rep.AwareAt = *t
	}
	var caseID string
	if len(f.Errors) == 0 {
		caseID, err = s.DB.ReportProcessorBreach(r.Context(), rec.ID, rep, actor(v))
	}
	if len(f.Errors) > 0 || err != nil {
		return s.done(w, r, v, rec, f, err, "")
	}
	s.Flash(r, "Bruddet er meldt til behandlingsansvarlig og registrert som avvikssak.")
	site.Redirect(w, r, "/portal/avvik/"+caseID)
	return nil
}

// approx reads a number of the breach report, "ukjent" when left empty; a message goes to f.
func approx(f form, field string) incident.Approx {
	val := strings.TrimSpace(f.Values[field])
	if val == "" {
		return incident.Approx{Unknown: true}
	}
	n, err := incident.ParseApprox(val)
	if err != nil {
		f.Errors[field] = "Oppgi et antall, et intervall som «100–500», eller «ukjent»."
	}
	return n
}
