package dpa

import (
	"net/http"
	"strings"

	"deling/internal/dpa"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// stepDone is what the visitor is told after each step.
var stepDone = map[dpa.Step]string{
	dpa.StepSend:            "Avtalen er sendt til databehandleren, som fyller ut vedlegg 2 og 3.",
	dpa.StepReturn:          "Avtalen er returnert til behandlingsansvarlig.",
	dpa.StepComplete:        "Avtalen er klar til signering av rolleinnehaver hos begge parter.",
	dpa.StepReopen:          "Versjonen er åpnet igjen. Signaturer på den er bortfalt.",
	dpa.StepRevise:          "Versjonen er åpnet igjen for databehandleren. Signaturer på den er bortfalt.",
	dpa.StepSignController:  "Du har signert versjonen for behandlingsansvarlig.",
	dpa.StepSignProcessor:   "Du har signert versjonen for databehandleren.",
	dpa.StepAmend:           "En ny versjon er påbegynt. Den gjeldende versjonen gjelder til den nye er signert av begge.",
	dpa.StepDiscard:         "Versjonen er forkastet.",
	dpa.StepStop:            "Behandlingen er stanset. Databehandlerens tilgang er stengt, og databehandleren er varslet.",
	dpa.StepResume:          "Behandlingen er gjenopptatt, og databehandleren er varslet.",
	dpa.StepEnd:             "Avtalen er avsluttet, og delegeringene som hviler på den er avsluttet.",
	dpa.StepConfirmDeletion: "Slettebekreftelsen er arkivert med avtalen.",
}

// step takes the step the form names (the button pressed) on the
// agreement, with what the step carries: the hash of the version shown for
// a signature (Rule DPA-01), a note, the reason of a stop order or a
// resumption (Rule DPA-11), the end and the certificate (Rule DPA-10).
// Bad input is shown by field and changes nothing.
func (s *Feature) step(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	st := dpa.Step(r.PostFormValue("steg"))
	msg, ok := stepDone[st]
	if !ok {
		return refused(dpa.ErrNotYourStep)
	}
	f := newForm()
	in := store.StepInput{Seen: r.PostFormValue("sett"), Note: r.PostFormValue("merknad")}
	f.Values["merknad"] = in.Note
	switch st {
	case dpa.StepStop:
		in.Reason = r.PostFormValue(dpa.FieldStopReason)
		f.Values[dpa.FieldStopReason] = in.Reason
	case dpa.StepResume:
		in.Reason = r.PostFormValue(dpa.FieldResumeReason)
		f.Values[dpa.FieldResumeReason] = in.Reason
	case dpa.StepEnd:
		in.Ending = &dpa.Ending{Reason: r.PostFormValue(dpa.FieldEndReason), Choice: dpa.EndChoice(r.PostFormValue(dpa.FieldEndChoice))}
		f.Values[dpa.FieldEndReason], f.Values[dpa.FieldEndChoice] = in.Ending.Reason, string(in.Ending.Choice)
	case dpa.StepConfirmDeletion:
		c := &dpa.DeletionCertificate{What: r.PostFormValue(dpa.FieldCertWhat), How: r.PostFormValue(dpa.FieldCertHow),
			DoneBy: r.PostFormValue(dpa.FieldCertBy), BackupsIncluded: r.PostFormValue(dpa.FieldCertBackups) == "ja"}
		for _, k := range []string{dpa.FieldCertWhat, dpa.FieldCertHow, dpa.FieldCertBy, dpa.FieldCertBackups, dpa.FieldCertWhen} {
			f.Values[k] = r.PostFormValue(k)
		}
		if t := s.ParseFormTime(strings.TrimSpace(f.Values[dpa.FieldCertWhen]), dpa.FieldCertWhen, "når slettingen ble fullført", f.Errors); t != nil {
			c.DoneAt = *t
		}
		in.Certificate = c
	}
	if len(f.Errors) == 0 {
		_, err = s.DB.StepAgreement(r.Context(), s.rules, rec.ID, st, in, actor(v))
	}
	if text, status, handled := stepError(err, f.Errors); len(f.Errors) > 0 || handled {
		if status == 0 {
			status = http.StatusBadRequest
		}
		return s.rerender(w, r, v, rec, f, text, status)
	}
	if err != nil {
		return refused(err)
	}
	s.Log.Info("agreement step", "agreement", rec.ID, "step", string(st), "user", v.User.ID)
	s.Flash(r, msg)
	site.Redirect(w, r, Base+"/"+rec.ID)
	return nil
}
