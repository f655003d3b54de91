package dpa

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// The agreement's form: the controller's part (the parties, the main
// agreement and its date, what of the register it covers, the periods,
// annex 1 and the third-country instructions, Rules DPA-01, DPA-06) or the
// processor's (its contact, annex 2 and the proposed annex 3, Rules DPA-01,
// DPA-05). Each side's save changes only its own part (dpa.Content.WithControllerPart).

// controllerTexts are the controller's text fields by form field.
func controllerTexts(c *dpa.Content) map[string]*string {
	return map[string]*string{
		dpa.FieldControllerNavn: &c.Controller.Navn, dpa.FieldProcessorOrgnr: &c.Processor.Orgnr, dpa.FieldProcessorNavn: &c.Processor.Navn,
		dpa.FieldMainAgreement: &c.MainAgreement, dpa.FieldMainAgreementDate: &c.MainAgreementDate, dpa.FieldValidTo: &c.ValidTo,
		dpa.ContactField(dpa.Controller, "navn"): &c.ControllerContact.Navn, dpa.ContactField(dpa.Controller, "stilling"): &c.ControllerContact.Stilling,
		dpa.ContactField(dpa.Controller, "epost"): &c.ControllerContact.Epost,
		dpa.FieldPurpose: &c.Annex1.Purpose, dpa.FieldNature: &c.Annex1.Nature, dpa.FieldSubjects: &c.Annex1.SubjectCategories,
		dpa.FieldDataTypes: &c.Annex1.DataTypes, dpa.FieldSpecial: &c.Annex1.SpecialCategories, dpa.FieldDeletionRules: &c.Annex1.DeletionRules,
	}
}

// processorTexts are the processor's text fields by form field.
func processorTexts(c *dpa.Content) map[string]*string {
	return map[string]*string{
		dpa.ContactField(dpa.Processor, "navn"): &c.ProcessorContact.Navn, dpa.ContactField(dpa.Processor, "stilling"): &c.ProcessorContact.Stilling,
		dpa.ContactField(dpa.Processor, "epost"): &c.ProcessorContact.Epost,
		dpa.FieldPseudonymisation:                &c.Annex2.Pseudonymisation, dpa.FieldEncryption: &c.Annex2.Encryption, dpa.FieldConfidentiality: &c.Annex2.Confidentiality,
		dpa.FieldIntegrity: &c.Annex2.Integrity, dpa.FieldAvailability: &c.Annex2.Availability, dpa.FieldResilience: &c.Annex2.Resilience,
		dpa.FieldPhysical: &c.Annex2.Physical, dpa.FieldOther: &c.Annex2.Other,
	}
}

// transferRow is a third-country instruction's row of the form (Rule DPA-06).
type transferRow struct {
	Index                               int
	Country, Recipient, Basis, SCC      string
	CountryErr, BasisErr, SCCErr, Error string
	Countries                           []choice
}

// subRow is a sub-processor's row of annex 3 (Rule DPA-05).
type subRow struct {
	Index                               int
	Navn, ID, Country, Task             string
	NavnErr, IDErr, CountryErr, TaskErr string
	Countries                           []choice
}

type contentPage struct {
	site.Frame
	form
	Side      dpa.Side
	Action    string
	New       bool
	Org       string // the controller's organisation number
	Version   int
	Channels  []choice
	Packages  []choice
	Transfers []transferRow
	Annex3    []subRow
	Bases     []dpa.TransferBasis
	Message   string // a refused save's message
}

// contentPage is the form for side filled from c, one empty row more in the repeating parts.
func (s *Feature) contentPage(r *http.Request, v *site.Visitor, side dpa.Side, c dpa.Content, f form) contentPage {
	p := contentPage{Frame: s.Frame(r, v, "Databehandleravtale"), form: f, Side: side, Org: c.Controller.Orgnr, Bases: dpa.TransferBases()}
	if len(f.Errors) == 0 {
		for k, ptr := range controllerTexts(&c) {
			f.Values[k] = *ptr
		}
		for k, ptr := range processorTexts(&c) {
			f.Values[k] = *ptr
		}
		f.Values[dpa.FieldBreachHours] = itoaOrEmpty(c.BreachNoticeHours)
		f.Values[dpa.FieldDeletionDays] = itoaOrEmpty(c.DeletionDays)
		f.Values[dpa.FieldLocations] = strings.Join(c.Annex1.Locations, ", ")
	}
	for _, ch := range []access.Channel{access.ChannelAPI, access.ChannelWeb, access.ChannelExtract} {
		p.Channels = append(p.Channels, choice{Value: string(ch), Label: governance.ChannelLabel(ch), Checked: slices.Contains(c.Channels, ch)})
	}
	for _, pk := range s.rules.Cat.Packages() {
		p.Packages = append(p.Packages, choice{Value: pk.Ref(), Label: pk.Navn + " (" + pk.Ref() + ")", Checked: slices.Contains(c.Packages, pk.Ref())})
	}
	for i, t := range append(slices.Clone(c.Transfers), dpa.Transfer{}) {
		row := transferRow{Index: i, Country: t.Country, Recipient: t.Recipient, Basis: string(t.Basis), Countries: countryChoices(t.Country),
			CountryErr: f.Errors[dpa.TransferField(dpa.FieldTransferCountry, i)], BasisErr: f.Errors[dpa.TransferField(dpa.FieldTransferBasis, i)],
			SCCErr: f.Errors[dpa.TransferField(dpa.FieldTransferSCC, i)]}
		if t.SCCModule > 0 {
			row.SCC = strconv.Itoa(t.SCCModule)
		}
		p.Transfers = append(p.Transfers, row)
	}
	for i, e := range append(slices.Clone(c.Annex3), dpa.SubProcessorEntry{}) {
		p.Annex3 = append(p.Annex3, subRow{Index: i, Navn: e.Navn, ID: e.Orgnr + e.ForeignID, Country: e.Country, Task: e.Task,
			Countries: countryChoices(e.Country), NavnErr: f.Errors[dpa.Annex3Field(dpa.FieldSubName, i)],
			IDErr: f.Errors[dpa.Annex3Field(dpa.FieldSubOrgnr, i)], CountryErr: f.Errors[dpa.Annex3Field(dpa.FieldSubCountry, i)],
			TaskErr: f.Errors[dpa.Annex3Field(dpa.FieldSubTask, i)]})
	}
	p.form = f
	return p
}

func itoaOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// maxRows bounds the repeating rows a form may post.
const maxRows = 50

// readContent reads side's part of the form into c (the rest of c is kept);
// what cannot be read at all (a number that is not one) goes to f.Errors.
func readContent(r *http.Request, side dpa.Side, c dpa.Content, f form) dpa.Content {
	texts := controllerTexts(&c)
	if side == dpa.Processor {
		texts = processorTexts(&c)
	}
	for k, ptr := range texts {
		*ptr = r.PostFormValue(k)
		f.Values[k] = *ptr
	}
	if side == dpa.Processor {
		c.Annex3 = nil
		for i := 0; i < maxRows; i++ {
			e := dpa.SubProcessorEntry{Navn: r.PostFormValue(dpa.Annex3Field(dpa.FieldSubName, i)), Country: r.PostFormValue(dpa.Annex3Field(dpa.FieldSubCountry, i)),
				Task: r.PostFormValue(dpa.Annex3Field(dpa.FieldSubTask, i))}
			setID(&e, r.PostFormValue(dpa.Annex3Field(dpa.FieldSubOrgnr, i)))
			if strings.TrimSpace(e.Navn+e.Orgnr+e.ForeignID+e.Task) != "" {
				c.Annex3 = append(c.Annex3, e)
			}
		}
		return c
	}
	c.Channels, c.Packages = nil, nil
	for _, ch := range r.PostForm[dpa.FieldChannels] {
		c.Channels = append(c.Channels, access.Channel(ch))
	}
	c.Packages = append(c.Packages, r.PostForm[dpa.FieldPackages]...)
	for field, dst := range map[string]*int{dpa.FieldBreachHours: &c.BreachNoticeHours, dpa.FieldDeletionDays: &c.DeletionDays} {
		val := strings.TrimSpace(r.PostFormValue(field))
		f.Values[field] = val
		*dst = 0
		if val == "" {
			continue
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			f.Errors[field] = "Skriv et helt tall større enn null."
			continue
		}
		*dst = n
	}
	f.Values[dpa.FieldLocations] = r.PostFormValue(dpa.FieldLocations)
	c.Annex1.Locations = nil
	for _, l := range strings.Split(f.Values[dpa.FieldLocations], ",") {
		if l = strings.TrimSpace(l); l != "" {
			c.Annex1.Locations = append(c.Annex1.Locations, l)
		}
	}
	c.Transfers = nil
	for i := 0; i < maxRows; i++ {
		t := dpa.Transfer{Country: r.PostFormValue(dpa.TransferField(dpa.FieldTransferCountry, i)), Recipient: r.PostFormValue(dpa.TransferField(dpa.FieldTransferRecipient, i)),
			Basis: dpa.TransferBasis(r.PostFormValue(dpa.TransferField(dpa.FieldTransferBasis, i)))}
		if m := r.PostFormValue(dpa.TransferField(dpa.FieldTransferSCC, i)); m != "" {
			t.SCCModule, _ = strconv.Atoi(m) // Transfer.Validate refuses what is not 1–4
		}
		if strings.TrimSpace(t.Country) != "" || t.Basis != "" {
			c.Transfers = append(c.Transfers, t)
		}
	}
	return c
}

// mergeDraft adds what else the draft may not hold to a form that failed
// before it reached the store, so that every message shows at once.
func mergeDraft(f form, c *dpa.Content, rules store.DPARules) {
	for k, msg := range c.ValidateDraft(rules.Cat) {
		if _, ok := f.Errors[k]; !ok {
			f.Errors[k] = msg
		}
	}
}

// setID puts id into e as a Norwegian organisation number (nine digits) or else as a foreign registration number.
func setID(e *dpa.SubProcessorEntry, id string) {
	id = strings.TrimSpace(id)
	if len(id) == 9 && strings.Trim(id, "0123456789") == "" {
		e.Orgnr = id
		return
	}
	e.ForeignID = id
}

// draftForm is the controller's new agreement (Rule DPA-01): the visitor's organisation is the controller.
func (s *Feature) draftForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c := dpa.Content{Controller: dpa.Party{Orgnr: v.Org, Navn: v.OrgName}, BreachNoticeHours: 24, DeletionDays: 30, Annex1: dpa.Annex1{Locations: []string{"Norge"}}}
	p := s.contentPage(r, v, dpa.Controller, c, newForm())
	p.Action, p.New = Base+"/ny", true
	s.Render(w, r, "dpa_skjema.html", p)
	return nil
}

// create stores the draft as version 1. Bad input is shown by field and nothing is stored.
func (s *Feature) create(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	f := newForm()
	c := readContent(r, dpa.Controller, dpa.Content{Controller: dpa.Party{Orgnr: v.Org}}, f)
	c.Controller.Orgnr = v.Org
	// The processor's part starts with its contact as the controller knows it: nothing.
	var id string
	var err error
	if len(f.Errors) == 0 {
		id, err = s.DB.CreateAgreement(r.Context(), s.rules, c, actor(v))
	} else {
		mergeDraft(f, &c, s.rules)
	}
	if msg, status, handled := stepError(err, f.Errors); len(f.Errors) > 0 || handled {
		p := s.contentPage(r, v, dpa.Controller, c, f)
		p.Action, p.New, p.Message = Base+"/ny", true, msg
		if status == 0 {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		s.Render(w, r, "dpa_skjema.html", p)
		return nil
	}
	if err != nil {
		return refused(err)
	}
	s.Flash(r, "Utkastet er lagret. Send det til databehandleren når vedlegg 1 er fylt ut.")
	site.Redirect(w, r, Base+"/"+id)
	return nil
}

// editSide is the part of the newest version the visitor may change now, or "".
func editSide(rec *store.AgreementRecord, v *site.Visitor) dpa.Side {
	switch {
	case dpa.MayOn(&rec.Agreement, dpa.StepSave, v.Actor(), scoped(v)):
		return dpa.Controller
	case dpa.MayOn(&rec.Agreement, dpa.StepProcessorSave, v.Actor(), scoped(v)):
		return dpa.Processor
	}
	return ""
}

// editForm is the newest version's form for the side that may change it now.
func (s *Feature) editForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	sd := editSide(&rec, v)
	if sd == "" {
		return refused(dpa.ErrNotYourStep)
	}
	n := rec.Newest()
	p := s.contentPage(r, v, sd, n.Content, newForm())
	p.Action, p.Version = Base+"/"+rec.ID+"/rediger", n.Number
	s.Render(w, r, "dpa_skjema.html", p)
	return nil
}

// save stores the side's part of the newest version (StepSave or StepProcessorSave).
func (s *Feature) save(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	rec, err := s.load(r, v)
	if err != nil {
		return err
	}
	sd := editSide(&rec, v)
	if sd == "" {
		return refused(dpa.ErrNotYourStep)
	}
	step := dpa.StepSave
	if sd == dpa.Processor {
		step = dpa.StepProcessorSave
	}
	f := newForm()
	n := rec.Newest()
	c := readContent(r, sd, n.Content, f)
	if len(f.Errors) == 0 {
		_, err = s.DB.StepAgreement(r.Context(), s.rules, rec.ID, step, store.StepInput{Content: &c}, actor(v))
	} else {
		mergeDraft(f, &c, s.rules)
	}
	if msg, status, handled := stepError(err, f.Errors); len(f.Errors) > 0 || handled {
		if status == 0 {
			status = http.StatusBadRequest
		}
		p := s.contentPage(r, v, sd, c, f)
		p.Action, p.Version, p.Message = Base+"/"+rec.ID+"/rediger", n.Number, msg
		w.WriteHeader(status)
		s.Render(w, r, "dpa_skjema.html", p)
		return nil
	}
	if err != nil {
		return refused(err)
	}
	s.Flash(r, "Endringene er lagret.")
	site.Redirect(w, r, Base+"/"+rec.ID)
	return nil
}
