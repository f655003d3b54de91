package dpa

import (
	"errors"
	"testing"
	"time"

	"deling/internal/governance"
)

func TestTransitionSub_DPA05(t *testing.T) {
	a := active(complete(t))
	pending := &SubProcessor{Status: SubProposed}
	approved := &SubProcessor{Status: SubApproved}
	for _, tc := range []struct {
		name string
		a    Status
		s    *SubProcessor
		step SubStep
		ms   []governance.Membership
		want SubStatus
		err  error
	}{
		{"processor proposes", StatusActive, &SubProcessor{}, SubStepPropose, ms(proc, governance.Databehandler), SubProposed, nil},
		{"controller cannot propose", StatusActive, &SubProcessor{}, SubStepPropose, ms(ctrl, governance.Administrator), "", ErrNotYourStep},
		{"controller approves in writing", StatusActive, pending, SubStepApprove, ms(ctrl, governance.Administrator), SubApproved, nil},
		{"processor cannot approve its own proposal", StatusActive, pending, SubStepApprove, ms(proc, governance.Rolleinnehaver), "", ErrNotYourStep},
		{"person on both sides cannot approve", StatusActive, pending, SubStepApprove,
			append(ms(ctrl, governance.Administrator), ms(proc, governance.Databehandler)...), "", ErrBothParties},
		{"case worker cannot approve", StatusActive, pending, SubStepApprove, ms(governance.AuthorityOrg, governance.Saksbehandler), "", ErrNotYourStep},
		{"controller refuses", StatusActive, pending, SubStepRefuse, ms(ctrl, governance.Rolleinnehaver), SubRefused, nil},
		{"approve twice", StatusActive, approved, SubStepApprove, ms(ctrl, governance.Administrator), "", ErrWrongStatus},
		{"processor withdraws", StatusActive, pending, SubStepRemove, ms(proc, governance.Databehandler), SubRemoved, nil},
		{"controller revokes", StatusActive, approved, SubStepRemove, ms(ctrl, governance.Administrator), SubRemoved, nil},
		{"propose while stopped", StatusStopped, &SubProcessor{}, SubStepPropose, ms(proc, governance.Databehandler), SubProposed, nil},
		{"not on a pending agreement (annex 3 of the draft instead)", StatusPending, &SubProcessor{}, SubStepPropose, ms(proc, governance.Databehandler), "", ErrWrongStatus},
		{"not after the end", StatusEnded, pending, SubStepApprove, ms(ctrl, governance.Administrator), "", ErrWrongStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.Status = tc.a
			got, err := TransitionSub(&a, tc.s, tc.step, tc.ms)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadyToApprove_DPA05_DPA06(t *testing.T) {
	a := active(complete(t))
	now := t0.Add(time.Hour)
	eu := &SubProcessor{AgreementID: "a1", Status: SubProposed, Entry: SubProcessorEntry{Navn: "Berlin GmbH", ForeignID: "HRB 1", Country: "Tyskland", Task: "Backup"}}
	if bad := ReadyToApprove(&a, nil, eu, env, now); len(bad) > 0 {
		t.Errorf("EEA sub-processor: %v", bad)
	}
	us := &SubProcessor{AgreementID: "a1", Status: SubProposed, Entry: SubProcessorEntry{Navn: "Sky Inc", ForeignID: "DE-123", Country: "USA", Task: "Skylagring"}}
	if bad := ReadyToApprove(&a, nil, us, env, now); bad[FieldSubCountry] == "" {
		t.Errorf("USA without instruction: %v", bad)
	}
	us.Transfer = &Transfer{Country: "USA", Recipient: "Sky Inc", Basis: BasisDPF}
	if bad := ReadyToApprove(&a, nil, us, env, now); len(bad) > 0 {
		t.Errorf("USA with DPF instruction: %v", bad)
	}
	us.Transfer = &Transfer{Country: "USA", Recipient: "Annen Inc", Basis: BasisDPF}
	if bad := ReadyToApprove(&a, nil, us, env, now); bad[FieldTransferCountry] == "" {
		t.Errorf("instruction naming another recipient: %v", bad)
	}
	dup := &SubProcessor{AgreementID: "a1", Status: SubProposed, Entry: SubProcessorEntry{Navn: "Drift AS", Orgnr: other, Country: "Norge", Task: "x"}}
	if bad := ReadyToApprove(&a, nil, dup, env, now); bad[FieldSubName] == "" {
		t.Errorf("already approved by the signed version: %v", bad)
	}
	if bad := CheckRefusal(" "); bad[FieldSubReason] == "" {
		t.Error("refusal without reasons")
	}
}

// TestAnnex3At_DPA05: annex 3 as of a date holds only the approved, with their approval time.
func TestAnnex3At_DPA05(t *testing.T) {
	a := active(complete(t)) // in force at t0, lists Drift AS
	day := 24 * time.Hour
	subs := []SubProcessor{
		{ID: "s1", AgreementID: "a1", Status: SubApproved, ProposedAt: t0.Add(day), ApprovedAt: t0.Add(2 * day),
			Entry: SubProcessorEntry{Navn: "Backup AS", Orgnr: "310000001", Country: "Norge", Task: "Backup"}},
		{ID: "s2", AgreementID: "a1", Status: SubProposed, ProposedAt: t0.Add(day),
			Entry: SubProcessorEntry{Navn: "Venter AS", Orgnr: "310000002", Country: "Norge", Task: "x"}},
		{ID: "s3", AgreementID: "a1", Status: SubRefused, ProposedAt: t0.Add(day), RefusedAt: t0.Add(2 * day),
			Entry: SubProcessorEntry{Navn: "Avslått AS", Orgnr: "310000003", Country: "Norge", Task: "x"}},
		{ID: "s4", AgreementID: "a1", Status: SubRemoved, ApprovedAt: t0.Add(day), RemovedAt: t0.Add(3 * day),
			Entry: SubProcessorEntry{Navn: "Fjernet AS", Orgnr: "310000004", Country: "Norge", Task: "x"}},
		{ID: "s5", AgreementID: "other", Status: SubApproved, ApprovedAt: t0.Add(day),
			Entry: SubProcessorEntry{Navn: "Annen avtale AS", Orgnr: "310000005", Country: "Norge", Task: "x"}},
		// The controller revokes Drift AS, which the signed version lists.
		{ID: "s6", AgreementID: "a1", Status: SubRemoved, ApprovedAt: t0, RemovedAt: t0.Add(4 * day),
			Entry: SubProcessorEntry{Navn: "Drift AS", Orgnr: other, Country: "Norge", Task: "Drift av servere"}},
	}
	names := func(at time.Time) []string {
		var out []string
		for _, it := range Annex3At(&a, subs, at) {
			out = append(out, it.Entry.Navn)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"before the agreement", t0.Add(-time.Second), nil},
		{"at signing", t0, []string{"Drift AS"}},
		{"removed one approved", t0.Add(day), []string{"Drift AS", "Fjernet AS"}},
		{"approved proposal", t0.Add(2 * day), []string{"Drift AS", "Fjernet AS", "Backup AS"}},
		{"after removal", t0.Add(3 * day), []string{"Drift AS", "Backup AS"}},
		{"signed one revoked", t0.Add(4 * day), []string{"Backup AS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := names(tc.at)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	items := Annex3At(&a, subs, t0.Add(2*day))
	if !items[0].ApprovedAt.Equal(t0) || items[0].Version != 1 || !items[2].ApprovedAt.Equal(t0.Add(2*day)) || items[2].Version != 0 {
		t.Errorf("approval times: %+v", items)
	}
	if ps := Proposals(&a, subs); len(ps) != 2 || ps[0].ID != "s2" || ps[1].ID != "s3" {
		t.Errorf("Proposals = %+v", ps)
	}
	// A new version starts from annex 3 as approved now.
	c := a.AmendFrom(subs, t0.Add(2*day))
	if len(c.Annex3) != 3 || c.Annex3[2].Navn != "Backup AS" {
		t.Errorf("AmendFrom annex 3 = %+v", c.Annex3)
	}
}
