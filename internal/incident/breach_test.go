package incident

import (
	"errors"
	"testing"
	"time"
)

var (
	caseWorker = Actor{UserID: "u-sb", Org: ControllerOrg, Role: CaseWorker}
	dpo        = Actor{UserID: "u-pvo", Org: ControllerOrg, Role: DPO}
	processor  = Actor{UserID: "u-db", Org: "999888777", Role: Reporter}
	colleague  = Actor{UserID: "u-db2", Org: "999888777", Role: Reporter}
	stranger   = Actor{UserID: "u-x", Org: "111222333", Role: Reporter}
	// A consumer's user with a role named like the register's, but for its own organisation.
	fakeWorker = Actor{UserID: "u-f", Org: "111222333", Role: CaseWorker}
)

func TestReportValidate_AV01(t *testing.T) {
	now := maundy2027(t)
	ok := Report{What: "Feil mottaker fikk lønnsopplysninger", DiscoveredAt: now.Add(-time.Hour)}
	if bad := ok.Validate(now); len(bad) != 0 {
		t.Fatalf("minimal report: got %v, want none", bad)
	}
	for _, tc := range []struct {
		name  string
		r     Report
		field string
		want  string
	}{
		{"Rule AV-01: what happened", Report{DiscoveredAt: now}, FieldWhat, "Beskriv hva som har skjedd og hvordan."},
		{"Rule AV-01: when discovered", Report{What: "x"}, FieldDiscoveredAt, "Oppgi når avviket ble oppdaget."},
		{"discovered in the future", Report{What: "x", DiscoveredAt: now.Add(time.Minute)}, FieldDiscoveredAt, "Tidspunktet kan ikke være frem i tid."},
		{"Rule AV-09: unknown kind", Report{What: "x", DiscoveredAt: now, Kinds: []Kind{"tap"}}, FieldKinds, "Velg type avvik fra listen."},
		{"Rule AV-09: unknown cause", Report{What: "x", DiscoveredAt: now, Cause: "uflaks"}, FieldCause, "Velg årsak fra listen."},
		{"Rule AV-03: processor's awareness required", Report{What: "x", DiscoveredAt: now, ByProcessor: true}, FieldProcessorAwareAt,
			"Oppgi når databehandleren fikk kjennskap til avviket."},
		{"Rule AA-21: when Datatilsynet was notified", Report{What: "x", DiscoveredAt: now, ConsumerNotifiedDT: true}, FieldConsumerDTAt,
			"Oppgi når dere meldte avviket til Datatilsynet."},
		{"system too long", Report{What: "x", DiscoveredAt: now, System: string(make([]rune, 301))}, FieldSystem, "Teksten er for lang (høyst 300 tegn)."},
	} {
		r := tc.r
		if got := r.Validate(now)[tc.field]; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	r := Report{What: " x ", DiscoveredAt: now, Kinds: []Kind{Confidentiality, Availability, Confidentiality}}
	r.Validate(now)
	if r.What != "x" || len(r.Kinds) != 2 {
		t.Errorf("Rule AV-09: several kinds, once each: got %q %v", r.What, r.Kinds)
	}
}

func TestTellDPO_AA21(t *testing.T) {
	if (&Report{}).TellDPO() {
		t.Error("a report without a notice to Datatilsynet: TellDPO = true")
	}
	if !(&Report{ConsumerNotifiedDT: true}).TellDPO() {
		t.Error("a consumer that notified Datatilsynet: TellDPO = false, want true")
	}
}

func TestTransition_AV04_AV05(t *testing.T) {
	for _, tc := range []struct {
		name  string
		from  Status
		step  Step
		actor Actor
		want  Status
		err   error
	}{
		{"Rule AV-01: anyone reports", "", StepReport, stranger, StatusReported, nil},
		{"case worker takes the case", StatusReported, StepAssess, caseWorker, StatusAssessing, nil},
		{"DPO may assess too", StatusReported, StepAssess, dpo, StatusAssessing, nil},
		{"a reporter may not assess", StatusReported, StepAssess, processor, "", ErrNotYourStep},
		{"a consumer's 'saksbehandler' is not the register's", StatusReported, StepAssess, fakeWorker, "", ErrNotYourStep},
		{"Rule AV-04: decide to notify", StatusAssessing, StepDecideNotify, caseWorker, StatusDecidedNotify, nil},
		{"Rule AV-04: decide not to notify", StatusAssessing, StepDecideNoNotif, caseWorker, StatusDecidedNoNotify, nil},
		{"no decision before assessing", StatusReported, StepDecideNotify, caseWorker, "", ErrWrongStatus},
		{"reconsider a decision not to notify", StatusDecidedNoNotify, StepReconsider, dpo, StatusAssessing, nil},
		{"Rule AV-05: initial notice", StatusDecidedNotify, StepFileInitial, caseWorker, StatusNotified, nil},
		{"Rule DPA-08: a processor never files", StatusDecidedNotify, StepFileInitial, processor, "", ErrNotYourStep},
		{"no filing after deciding not to", StatusDecidedNoNotify, StepFileInitial, caseWorker, "", ErrWrongStatus},
		{"Rule AV-05: supplements after the initial", StatusNotified, StepFileSupplement, caseWorker, StatusNotified, nil},
		{"no supplement before the initial", StatusDecidedNotify, StepFileSupplement, caseWorker, "", ErrWrongStatus},
		{"no close before filing", StatusDecidedNotify, StepClose, caseWorker, "", ErrWrongStatus},
		{"close after notifying", StatusNotified, StepClose, caseWorker, StatusClosed, nil},
		{"Rule AV-07: close a breach not notified", StatusDecidedNoNotify, StepClose, caseWorker, StatusClosed, nil},
		{"Rule AV-08: follow-up done", StatusClosed, StepFollowUpDone, dpo, StatusFollowedUp, nil},
		{"nothing after follow-up", StatusFollowedUp, StepClose, caseWorker, "", ErrWrongStatus},
	} {
		got, err := Transition(tc.from, tc.step, tc.actor)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if got := Steps(StatusNotified, caseWorker); len(got) != 2 || got[0] != StepFileSupplement || got[1] != StepClose {
		t.Errorf("Steps(notified, case worker) = %v, want supplement, close", got)
	}
	if got := Steps(StatusNotified, processor); len(got) != 0 {
		t.Errorf("Steps(notified, processor) = %v, want none", got)
	}
	for _, s := range Statuses() {
		if st, err := ParseStatus(string(s)); err != nil || st != s || s.Label() == string(s) {
			t.Errorf("status %q: parse %q %v, label %q", s, st, err, s.Label())
		}
	}
}

func TestCanSee(t *testing.T) {
	for _, tc := range []struct {
		name             string
		viewer, reporter Actor
		want             bool
	}{
		{"the register's case worker sees every case", caseWorker, processor, true},
		{"the DPO sees every case", dpo, stranger, true},
		{"a reporter sees their own", processor, processor, true},
		{"and their organisation's", colleague, processor, true},
		{"not another organisation's", stranger, processor, false},
		{"a consumer's 'saksbehandler' sees only its own organisation's", fakeWorker, processor, false},
		{"an anonymous viewer sees nothing anonymous", Actor{}, Actor{}, false},
		{"a reporter does not see the register's own reports", processor, caseWorker, false},
	} {
		if got := CanSee(tc.viewer, tc.reporter); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMeasureValidate_AV02(t *testing.T) {
	now := maundy2027(t)
	ok := Measure{Kind: MeasureStopAccess, Done: true, Note: "Klienten suspendert", Target: "client-1", By: caseWorker, At: now}
	if bad := ok.Validate(now); len(bad) != 0 {
		t.Fatalf("got %v, want none", bad)
	}
	for _, tc := range []struct {
		name  string
		m     Measure
		field string
		want  string
	}{
		{"unknown kind", Measure{Kind: "x", Done: true, Note: "n", At: now}, FieldMeasureKind, "Velg tiltak fra listen."},
		{"considered and not done needs why", Measure{Kind: MeasurePoliceReport, At: now}, FieldMeasureNote, "Skriv hvorfor tiltaket ikke ble gjennomført."},
		{"done needs what", Measure{Kind: MeasureRestore, Done: true, At: now}, FieldMeasureNote, "Beskriv hva som ble gjort."},
		{"when", Measure{Kind: MeasureRestore, Done: true, Note: "n"}, FieldMeasureAt, "Oppgi når tiltaket ble gjort."},
	} {
		m := tc.m
		if got := m.Validate(now)[tc.field]; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	missing := Considered([]Measure{{Kind: MeasureMapEvents}, {Kind: MeasureStopAccess}})
	if len(missing) != 5 || missing[0] != MeasureLimitDamage {
		t.Errorf("Considered: got %v, want the other five", missing)
	}
}

func TestDecisionValidate_AV04_AV06(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     Decision
		field string
		want  string
	}{
		{"Rule AV-04: not notifying needs a reason", Decision{Persons: PersonsNotRequired, PersonsReason: "lav risiko"},
			FieldReason, "Skriv hvorfor avviket ikke meldes til Datatilsynet."},
		{"a choice on persons", Decision{NotifyDT: true}, FieldPersons, "Velg om de berørte skal varsles."},
		{"not high risk needs a reason", Decision{NotifyDT: true, Persons: PersonsNotRequired},
			FieldPersonsReason, "Skriv hvorfor risikoen for de berørte ikke er høy."},
		{"Rule AV-06: which exception", Decision{NotifyDT: true, Persons: PersonsExempt, PersonsReason: "r"},
			FieldExemption, "Velg hvilket unntak i artikkel 34 nr. 3 som gjelder."},
		{"Rule AV-06: how the exception is met", Decision{NotifyDT: true, Persons: PersonsExempt, Exemption: ExemptEncrypted},
			FieldPersonsReason, "Dokumenter hvordan vilkåret for unntaket er oppfylt."},
		{"Rule AV-06: disproportionate effort → public notice", Decision{NotifyDT: true, Persons: PersonsExempt, Exemption: ExemptDisproportionate, PersonsReason: "r"},
			FieldPublicNotice, "Skriv den offentlige kunngjøringen som erstatter varsel til hver enkelt."},
		{"public notice only for (c)", Decision{NotifyDT: true, Persons: PersonsNotify, PublicNotice: "x"},
			FieldPublicNotice, "Offentlig kunngjøring brukes bare ved unntaket for uforholdsmessig innsats."},
		{"high risk to persons means notifying Datatilsynet", Decision{Reason: "r", Persons: PersonsNotify},
			FieldNotifyDT, "Når risikoen for de berørte er høy, skal avviket også meldes til Datatilsynet."},
	} {
		d := tc.d
		if got := d.Validate()[tc.field]; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, d := range []Decision{
		{Reason: "Opplysningene var allerede offentlige", Persons: PersonsNotRequired, PersonsReason: "ingen risiko"},
		{NotifyDT: true, Persons: PersonsNotify},
		{NotifyDT: true, Persons: PersonsExempt, Exemption: ExemptDisproportionate, PersonsReason: "ukjente adresser", PublicNotice: "Kunngjøring"},
	} {
		if bad := d.Validate(); len(bad) != 0 {
			t.Errorf("%+v: got %v, want none", d, bad)
		}
	}
}

func TestReady_AV04_DPA08_AV08(t *testing.T) {
	a := validAssessment()
	notify := &Decision{NotifyDT: true, Persons: PersonsNotify}
	for _, tc := range []struct {
		name  string
		b     Breach
		step  Step
		actor Actor
		err   error
	}{
		{"Rule AV-04: no decision without an assessment", Breach{Decision: notify}, StepDecideNotify, caseWorker, ErrNotReady},
		{"Rule AV-04: decision matches the step", Breach{Risk: &a, Decision: notify}, StepDecideNoNotif, caseWorker, ErrNotReady},
		{"Rule AV-04: assessed and decided", Breach{Risk: &a, Decision: notify}, StepDecideNotify, caseWorker, nil},
		{"Rule DPA-08: the processor may not file", Breach{}, StepFileInitial, processor, ErrNotController},
		{"Rule DPA-08: the controller files", Breach{}, StepFileInitial, dpo, nil},
		{"Rule AV-02: no close without a measure", Breach{Status: StatusDecidedNoNotify}, StepClose, caseWorker, ErrNotReady},
		{"Rule AV-05: no close while a supplement is owed", Breach{Status: StatusNotified, Measures: []Measure{{}},
			Filings: []Filing{{Phase: PhaseInitial, MoreToFollow: true, Content: Content{Nature: "n", Contact: Contact{Name: "PVO"}}}}}, StepClose, caseWorker, ErrNotReady},
		{"Rule AV-08: follow-up items open", Breach{FollowUp: []FollowUpItem{{}}}, StepFollowUpDone, caseWorker, ErrNotReady},
		{"Rule AV-08: no follow-up at all", Breach{}, StepFollowUpDone, caseWorker, ErrNotReady},
		{"Rule AV-08: all done", Breach{FollowUp: []FollowUpItem{{DoneAt: maundy2027(t)}}, Lessons: "Lært", ReviewAt: maundy2027(t)}, StepFollowUpDone, caseWorker, nil},
		{"Rule AV-08: all done, no lessons", Breach{FollowUp: []FollowUpItem{{DoneAt: maundy2027(t)}}, ReviewAt: maundy2027(t)}, StepFollowUpDone, caseWorker, ErrNotReady},
	} {
		if err := tc.b.Ready(tc.step, tc.actor); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
}
