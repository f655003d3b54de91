package incident

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func fullContent() Content {
	return Content{Nature: "Lønnsopplysninger sendt til feil konsument", SubjectCategories: []string{"arbeidstakere"},
		Subjects: Approx{Min: 100, Max: 500}, RecordCategories: []string{"arbeidsforhold"}, Records: Exact(740),
		Contact: Contact{Name: "Personvernombudet", Email: "pvo@example.no"}, Consequences: "Risiko for svindel",
		Measures: "Klienten er suspendert"}
}

func TestFilingValidate_AV05(t *testing.T) {
	aware := maundy2027(t)
	hour70 := at(t, 2027, 3, 28, 15, 50)
	late := at(t, 2027, 3, 29, 9, 0)
	initial := Filing{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Nature: "n", Contact: Contact{Name: "PVO"}}, At: hour70}
	for _, tc := range []struct {
		name  string
		f     Filing
		prior []Filing
		field string
		want  string
	}{
		{"initial at hour 70 with more to follow is enough", initial, nil, "", ""},
		{"complete initial", Filing{Phase: PhaseInitial, Content: fullContent(), At: hour70}, nil, "", ""},
		{"art. 33(3)(a): nature", Filing{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Contact: Contact{Name: "PVO"}}, At: hour70}, nil,
			FieldNature, "Beskriv avviket."},
		{"art. 33(3)(b): contact point", Filing{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Nature: "n"}, At: hour70}, nil,
			FieldContactName, "Oppgi personvernombudet eller et annet kontaktpunkt."},
		{"art. 33(3)(c): without 'more to follow' consequences are required", Filing{Phase: PhaseInitial, Content: Content{Nature: "n", Contact: Contact{Name: "PVO"}}, At: hour70}, nil,
			FieldConsequences, "Beskriv de sannsynlige konsekvensene."},
		{"Rule AV-05: late initial needs the reasons", Filing{Phase: PhaseInitial, Content: fullContent(), At: late}, nil,
			FieldLateReason, "Meldingen sendes etter fristen på 72 timer: oppgi årsaken til forsinkelsen."},
		{"a late supplement needs no late reason", Filing{Phase: PhaseSupplement, Content: Content{Measures: "nye tiltak"}, At: late}, []Filing{initial}, "", ""},
		{"art. 33(4): supplement only after the initial", Filing{Phase: PhaseSupplement, Content: Content{Measures: "m"}, At: hour70}, nil,
			FieldPhase, "Send første melding før en tilleggsmelding."},
		{"one initial only", initial, []Filing{initial}, FieldPhase, "Første melding er allerede sendt; send en tilleggsmelding."},
		{"an empty supplement", Filing{Phase: PhaseSupplement, At: late}, []Filing{initial}, FieldNature, "En tilleggsmelding må inneholde ny informasjon."},
		{"bad e-mail", Filing{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Nature: "n", Contact: Contact{Name: "PVO", Email: "pvo@"}}, At: hour70}, nil,
			FieldContactEmail, "Skriv en gyldig e-postadresse."},
		{"bad range", Filing{Phase: PhaseSupplement, Content: Content{Subjects: Approx{Min: 9, Max: 1}}, At: late}, []Filing{initial},
			FieldSubjects, "Oppgi et tall, et intervall (100–500) eller «ukjent»."},
	} {
		f := tc.f
		bad := f.Validate(tc.prior, aware)
		if tc.field == "" {
			if len(bad) != 0 {
				t.Errorf("%s: got %v, want none", tc.name, bad)
			}
			continue
		}
		if got := bad[tc.field]; got != tc.want {
			t.Errorf("%s: got %q, want %q (all: %v)", tc.name, got, tc.want, bad)
		}
	}
}

func TestPhases_AV05(t *testing.T) {
	initial := Filing{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Nature: "Første beskrivelse", Contact: Contact{Name: "PVO"}, Subjects: Approx{Unknown: true}}}
	if Complete([]Filing{initial}) {
		t.Error("an initial notice with more to follow: Complete = true")
	}
	sup := Filing{Phase: PhaseSupplement, Content: Content{SubjectCategories: []string{"arbeidstakere"}, Subjects: Exact(312),
		RecordCategories: []string{"arbeidsforhold"}, Consequences: "c", Measures: "m"}}
	all := []Filing{initial, sup}
	if !Complete(all) {
		t.Error("initial plus a supplement with the rest: Complete = false")
	}
	m := Merged(all)
	if m.Nature != "Første beskrivelse" || m.Subjects != Exact(312) || m.Contact.Name != "PVO" {
		t.Errorf("Merged: got %+v", m)
	}
}

func TestMayFile_DPA08(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Actor
		err  error
	}{
		{"the register's case worker", caseWorker, nil},
		{"the register's DPO", dpo, nil},
		{"a processor's staff", processor, ErrNotController},
		{"a consumer's user calling itself saksbehandler", fakeWorker, ErrNotController},
		{"a register user without a handling role", Actor{Org: ControllerOrg, Role: Reporter}, ErrNotController},
	} {
		if err := MayFile(tc.a); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
}

// Rule AV-06: the notice to persons is written for them (art. 34(2)): every
// part required, each capped with a Norwegian message, CRLF from a form made
// LF; the letter has the parts under plain headings.
func TestPersonText_AV06(t *testing.T) {
	pt := PersonText{Nature: " Lønnsopplysninger ble sendt til feil virksomhet.\r\nDet er rettet. ", Consequences: "Risiko for svindel",
		Measures: "Klienten er stanset", Advice: "Vær oppmerksom på e-post som ber om BankID.", Contact: "Personvernombudet, pvo@example.no"}
	if bad := pt.Validate(); len(bad) != 0 {
		t.Fatalf("a full text refused: %v", bad)
	}
	n := pt.Letter("Registeret")
	for _, want := range []string{"Hva har skjedd?\nLønnsopplysninger ble sendt til feil virksomhet.\nDet er rettet.\n", "Hva kan dette bety for deg?\nRisiko for svindel",
		"Hva har vi gjort?\nKlienten er stanset", "Hva kan du gjøre?\nVær oppmerksom", "Hvem kan du kontakte?\nPersonvernombudet, pvo@example.no", "Vennlig hilsen\nRegisteret"} {
		if !strings.Contains(n.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, n.Body)
		}
	}
	if n.Subject == "" || strings.Contains(n.Body, "\r") {
		t.Errorf("subject %q, body %q", n.Subject, n.Body)
	}
	empty := PersonText{Consequences: " ", Measures: strings.Repeat("x", maxNoticePart+1)}
	bad := empty.Validate()
	if len(bad) != 5 || bad[FieldNoticeMeasures] != "Teksten er for lang (høyst 2000 tegn)." || bad[FieldNoticeContact] == "" {
		t.Errorf("an empty and a too long text: %v", bad)
	}
	for _, e := range Exemptions() {
		if !strings.HasPrefix(e.Label(), "Art. 34 nr. 3") {
			t.Errorf("exemption %s: label %q", e, e.Label())
		}
	}
}

func TestFollowUp_AV08(t *testing.T) {
	now := at(t, 2027, 6, 1, 12, 0)
	items := []FollowUpItem{
		{Area: LessonTraining, Action: "Kurs", Owner: "HR", Due: at(t, 2027, 5, 20, 16, 0)},
		{Area: LessonSystems, Action: "Tilgangsstyring", Owner: "IT", Due: at(t, 2027, 5, 10, 16, 0)},
		{Area: LessonSuppliers, Action: "Bytte", Owner: "Innkjøp", Due: at(t, 2027, 5, 1, 16, 0), DoneAt: at(t, 2027, 4, 30, 9, 0)},
		{Area: LessonControls, Action: "Kontroll", Owner: "IK", Due: at(t, 2027, 6, 30, 16, 0)},
	}
	got := Overdue(items, now)
	if len(got) != 2 || got[0].Action != "Tilgangsstyring" || got[1].Action != "Kurs" {
		t.Errorf("Overdue: got %+v, want Tilgangsstyring then Kurs", got)
	}
	if AllDone(items) {
		t.Error("AllDone = true with open items")
	}
	it := FollowUpItem{Area: "x", Due: at(t, 2027, 5, 1, 0, 0)}
	bad := it.Validate(now)
	for f, want := range map[string]string{FieldArea: "Velg område fra listen.", FieldFinding: "Skriv hva vurderingen viste.",
		FieldAction: "Skriv hvilket tiltak som skal gjennomføres.", FieldOwner: "Oppgi hvem som er ansvarlig.", FieldDue: "Fristen kan ikke ha passert."} {
		if bad[f] != want {
			t.Errorf("field %s: got %q, want %q", f, bad[f], want)
		}
	}
}

func TestSortDue_AV05_AA19_AV08(t *testing.T) {
	c := norway(t)
	b := Breach{ID: "avvik-1", Status: StatusAssessing, Report: Report{ByProcessor: true, ProcessorAwareAt: maundy2027(t)},
		FollowUp: []FollowUpItem{{Action: "Kurs", Due: at(t, 2027, 4, 30, 16, 0)}, {Action: "ferdig", Due: at(t, 2027, 3, 1, 0, 0), DoneAt: at(t, 2027, 3, 1, 0, 0)}}}
	s := ServiceIncident{ID: "drift-7", Priority: PriorityB, ReportedAt: maundy2027(t)}
	ds := append(b.Due(), s.Due(c)...)
	SortDue(ds)
	want := []struct {
		id   string
		what DueKind
		at   time.Time
	}{
		{"drift-7", DueFirstNotice, at(t, 2027, 3, 25, 17, 50)},
		{"avvik-1", DueNotifyDT, at(t, 2027, 3, 28, 17, 50)},
		{"drift-7", DueReaction, at(t, 2027, 3, 30, 16, 0)},
		{"avvik-1", DueFollowUp, at(t, 2027, 4, 30, 16, 0)},
	}
	if len(ds) != len(want) {
		t.Fatalf("got %+v", ds)
	}
	for i, w := range want {
		if ds[i].CaseID != w.id || ds[i].What != w.what || !ds[i].At.Equal(w.at) {
			t.Errorf("%d: got %s %s %v, want %s %s %v", i, ds[i].CaseID, ds[i].What, ds[i].At, w.id, w.what, w.at)
		}
	}
	if !ds[0].Overdue(at(t, 2027, 3, 25, 17, 51)) || ds[0].Overdue(at(t, 2027, 3, 25, 17, 50)) {
		t.Error("Overdue: due at 17:50 is overdue from 17:50:00+")
	}
	b.Status = StatusNotified
	if got := b.Due(); len(got) != 1 || got[0].What != DueFollowUp {
		t.Errorf("notified: got %+v, want only the follow-up", got)
	}
}

func TestApprox(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Approx
		ok   bool
	}{
		{"120", Exact(120), true},
		{"1 200", Exact(1200), true},
		{"1.200", Exact(1200), true},
		{"100-500", Approx{Min: 100, Max: 500}, true},
		{"100–500", Approx{Min: 100, Max: 500}, true},
		{" Ukjent ", Approx{Unknown: true}, true},
		{"500-100", Approx{}, false},
		{"-5", Approx{}, false},
		{"+5", Approx{}, false},
		{"mange", Approx{}, false},
		{"", Approx{}, false},
		{"1000000000", Approx{}, false},
	} {
		got, err := ParseApprox(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseApprox(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseApprox: whatever a person types, an accepted number is valid and reads back the same.
func FuzzParseApprox(f *testing.F) {
	for _, s := range []string{"120", "1 200", "100-500", "100–500", "ukjent", "?", "-", "1-", "99999999-100000000", "\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseApprox(s)
		if err != nil {
			return
		}
		if !a.Valid() {
			t.Fatalf("ParseApprox(%q) = %+v, not valid", s, a)
		}
		b, err := ParseApprox(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", s, a, a.String(), b, err)
		}
	})
}

// Rules AV-06, AV-07, AA-22: what keeps a case from closing, in Norwegian.
// Every computation naming someone that no later one of the same scope
// supersedes needs a finished job (not only the newest; one of 0 persons
// needs none); every consumer named other than the reporter needs its own
// letter (one letter to another consumer is not enough), listed by name.
func TestCloseMissing_AV06_AA22(t *testing.T) {
	notify := &Decision{NotifyDT: true, Persons: PersonsNotify}
	exempt := &Decision{NotifyDT: true, Persons: PersonsExempt, Exemption: ExemptDisproportionate}
	comp := []AffectedCount{{ID: "b1", Persons: 3, Consumers: []string{"910000001"}}}
	done := map[string]NotifyProgress{"b1": {Computation: "b1", Total: 3, Done: 3, Finished: true}}
	// Two scopes: b1 (consumer 910000001) and b2 (client k), then b3 of b2's scope with 0 persons.
	two := []AffectedCount{{ID: "b1", Consumer: "910000001", Persons: 3}, {ID: "b2", ClientID: "k", Persons: 2}}
	zeroLast := append(slices.Clone(two), AffectedCount{ID: "b3", ClientID: "k"})
	letters := []AffectedCount{{ID: "b1", Persons: 3, Consumers: []string{"910000001", "910000002", "910000003"}}}
	names := map[string]string{"910000002": "Bank To", "910000003": "Bank Tre"}
	rep := Report{ReportedBy: Actor{Org: "910000001"}}
	for _, tc := range []struct {
		name string
		b    Breach
		want string // a part of the message; "" for none
	}{
		{"no measure", Breach{}, "strakstiltak"},
		{"to notify, nothing computed", Breach{Measures: []Measure{{}}, Decision: notify}, "Beregn hvem"},
		{"to notify, not started", Breach{Measures: []Measure{{}}, Decision: notify, Affected: comp, Report: rep}, "Varsle de 3 berørte i beregning b1"},
		{"to notify, half done", Breach{Measures: []Measure{{}}, Decision: notify, Affected: comp, Report: rep,
			Notices: NoticeState{Jobs: map[string]NotifyProgress{"b1": {Computation: "b1", Total: 3, Done: 1}}}}, "ikke ferdig (1 av 3)"},
		{"to notify, failed", Breach{Measures: []Measure{{}}, Decision: notify, Affected: comp, Report: rep,
			Notices: NoticeState{Jobs: map[string]NotifyProgress{"b1": {Computation: "b1", Total: 3, Failed: true}}}}, "stanset"},
		{"done, persons without address", Breach{Measures: []Measure{{}}, Decision: notify, Affected: comp, Report: rep,
			Notices: NoticeState{Jobs: done, PortalOnly: 2}}, "2 berørte har ingen adresse"},
		{"done, public notice", Breach{Measures: []Measure{{}}, Decision: notify, Affected: comp, Report: rep,
			Notices: NoticeState{Jobs: done, PortalOnly: 2, PublicNotice: true}}, ""},
		// Rule AV-06: the newest computation done is not enough when an older one of another scope named others.
		{"two scopes, only the newest done", Breach{Measures: []Measure{{}}, Decision: notify, Affected: two, Report: rep,
			Notices: NoticeState{Jobs: map[string]NotifyProgress{"b2": {Computation: "b2", Total: 2, Done: 2, Finished: true}}}}, "Varsle de 3 berørte i beregning b1"},
		{"two scopes, both done", Breach{Measures: []Measure{{}}, Decision: notify, Affected: two, Report: rep,
			Notices: NoticeState{Jobs: map[string]NotifyProgress{"b1": {Total: 3, Done: 3, Finished: true}, "b2": {Total: 2, Done: 2, Finished: true}}}}, ""},
		// A later computation of the same scope supersedes; one of 0 persons needs no job.
		{"superseded by 0 persons", Breach{Measures: []Measure{{}}, Decision: notify, Affected: zeroLast, Report: rep,
			Notices: NoticeState{Jobs: map[string]NotifyProgress{"b1": {Total: 3, Done: 3, Finished: true}}}}, ""},
		{"only 0 persons", Breach{Measures: []Measure{{}}, Decision: notify, Affected: []AffectedCount{{ID: "b0"}}, Report: rep}, ""},
		{"exemption without its public notice", Breach{Measures: []Measure{{}}, Decision: exempt}, "art. 34 nr. 3 c"},
		{"another consumer without its letter", Breach{Measures: []Measure{{}}, Decision: exempt, Affected: comp, Notices: NoticeState{PublicNotice: true}}, "org.nr. 910000001"},
		{"the letter sent", Breach{Measures: []Measure{{}}, Decision: exempt, Affected: comp, Notices: NoticeState{PublicNotice: true, Lettered: []string{"910000001"}}}, ""},
		// Rule AA-22: a letter to one consumer does not stand for the others.
		{"one of two letters", Breach{Measures: []Measure{{}}, Decision: exempt, Affected: letters, Report: rep,
			Notices: NoticeState{PublicNotice: true, Lettered: []string{"910000002"}, Names: names}}, "som ikke har fått det: Bank Tre (org.nr. 910000003)."},
		{"no recipients", Breach{Measures: []Measure{{}}, Decision: exempt, Affected: letters, Report: rep,
			Notices: NoticeState{PublicNotice: true, Lettered: []string{"910000002"}, Names: names, NoRecipients: []string{"910000003"}}}, "må få en først: Bank Tre (org.nr. 910000003)"},
		{"both letters", Breach{Measures: []Measure{{}}, Decision: exempt, Affected: letters, Report: rep,
			Notices: NoticeState{PublicNotice: true, Lettered: []string{"910000003", "910000002"}}}, ""},
	} {
		got := strings.Join(tc.b.CloseMissing(), " ")
		ready := tc.b.Ready(StepClose, Actor{}) == nil
		if tc.want == "" && (got != "" || !ready) || tc.want != "" && (!strings.Contains(got, tc.want) || ready) {
			t.Errorf("%s: missing %q (ready %v), want %q", tc.name, got, ready, tc.want)
		}
	}
}
