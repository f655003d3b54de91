package dpa

import (
	"errors"
	"testing"

	"deling/internal/governance"
)

// TestTransition_DPA01_DPA10_DPA11 walks the table: every step with the
// hats that may and may not take it.
func TestTransition_DPA01_DPA10_DPA11(t *testing.T) {
	P, A, S, E, D := StatusPending, StatusActive, StatusStopped, StatusEnded, StatusDeleted
	for _, tc := range []struct {
		name string
		from State
		step Step
		hat  Hat
		want State
		err  error
	}{
		{"DPA-01 controller admin drafts", State{}, StepSave, ControllerAdmin, State{P, VersionDraft}, nil},
		{"DPA-01 processor cannot draft", State{}, StepSave, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-01 case worker is read-only", State{P, VersionDraft}, StepSave, RegisterCaseWorker, State{}, ErrNotYourStep},
		{"DPA-01 save draft again", State{P, VersionDraft}, StepSave, ControllerRoleHolder, State{P, VersionDraft}, nil},
		{"DPA-01 save on an existing agreement without version is not new", State{A, ""}, StepSave, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-01 send to processor", State{P, VersionDraft}, StepSend, ControllerAdmin, State{P, VersionWithProcessor}, nil},
		{"DPA-01 processor cannot send", State{P, VersionDraft}, StepSend, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-01 processor saves annex 2", State{P, VersionWithProcessor}, StepProcessorSave, ProcessorStaff, State{P, VersionWithProcessor}, nil},
		{"DPA-01 controller cannot save processor part", State{P, VersionWithProcessor}, StepProcessorSave, ControllerAdmin, State{}, ErrNotYourStep},
		{"DPA-01 controller cannot edit while with processor", State{P, VersionWithProcessor}, StepSave, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-01 processor returns", State{P, VersionWithProcessor}, StepReturn, ProcessorRoleHolder, State{P, VersionDraft}, nil},
		{"DPA-01 processor completes", State{P, VersionWithProcessor}, StepComplete, ProcessorStaff, State{P, VersionToSign}, nil},
		{"DPA-01 controller cannot complete", State{P, VersionWithProcessor}, StepComplete, ControllerAdmin, State{}, ErrNotYourStep},
		{"DPA-01 complete only from processor", State{P, VersionDraft}, StepComplete, ProcessorStaff, State{}, ErrWrongStatus},
		{"DPA-01 controller signs first", State{P, VersionToSign}, StepSignController, ControllerRoleHolder, State{P, VersionSignedController}, nil},
		{"DPA-01 processor signs first", State{P, VersionToSign}, StepSignProcessor, ProcessorRoleHolder, State{P, VersionSignedProcessor}, nil},
		{"DPA-01 second signature activates", State{P, VersionSignedController}, StepSignProcessor, ProcessorRoleHolder, State{A, VersionSigned}, nil},
		{"DPA-01 either order", State{P, VersionSignedProcessor}, StepSignController, ControllerRoleHolder, State{A, VersionSigned}, nil},
		{"DPA-01 admin cannot sign", State{P, VersionToSign}, StepSignController, ControllerAdmin, State{}, ErrNotYourStep},
		{"DPA-01 processor staff cannot sign", State{P, VersionToSign}, StepSignProcessor, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-01 processor cannot sign for controller", State{P, VersionToSign}, StepSignController, ProcessorRoleHolder, State{}, ErrNotYourStep},
		{"DPA-01 controller cannot sign for processor", State{P, VersionToSign}, StepSignProcessor, ControllerRoleHolder, State{}, ErrNotYourStep},
		{"DPA-01 no second signature of same side", State{P, VersionSignedController}, StepSignController, ControllerRoleHolder, State{}, ErrWrongStatus},
		{"DPA-01 sign before completion", State{P, VersionWithProcessor}, StepSignController, ControllerRoleHolder, State{}, ErrWrongStatus},
		{"DPA-01 reopen drops signatures", State{P, VersionSignedProcessor}, StepReopen, ControllerAdmin, State{P, VersionDraft}, nil},
		{"DPA-01 processor revises", State{P, VersionSignedController}, StepRevise, ProcessorStaff, State{P, VersionWithProcessor}, nil},
		{"DPA-01 amend active", State{A, VersionSigned}, StepAmend, ControllerAdmin, State{A, VersionDraft}, nil},
		{"DPA-01 amend stopped", State{S, VersionSigned}, StepAmend, ControllerAdmin, State{S, VersionDraft}, nil},
		{"DPA-01 no amend of pending", State{P, VersionSigned}, StepAmend, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-01 processor cannot amend", State{A, VersionSigned}, StepAmend, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-01 new version signed keeps active", State{A, VersionSignedController}, StepSignProcessor, ProcessorRoleHolder, State{A, VersionSigned}, nil},
		{"DPA-11 new version signed does not resume", State{S, VersionSignedController}, StepSignProcessor, ProcessorRoleHolder, State{S, VersionSigned}, nil},
		{"DPA-01 discard amendment", State{A, VersionToSign}, StepDiscard, ControllerAdmin, State{A, VersionDiscarded}, nil},
		{"DPA-01 discard never-signed agreement", State{P, VersionDraft}, StepDiscard, ControllerAdmin, State{StatusDiscarded, VersionDiscarded}, nil},
		{"DPA-01 amend after discard", State{A, VersionDiscarded}, StepAmend, ControllerAdmin, State{A, VersionDraft}, nil},
		{"DPA-01 no version steps after end", State{E, VersionToSign}, StepSignController, ControllerRoleHolder, State{}, ErrWrongStatus},
		{"DPA-11 controller stops", State{A, VersionSigned}, StepStop, ControllerAdmin, State{S, VersionSigned}, nil},
		{"DPA-11 stop keeps pending version", State{A, VersionToSign}, StepStop, ControllerRoleHolder, State{S, VersionToSign}, nil},
		{"DPA-11 processor cannot stop", State{A, VersionSigned}, StepStop, ProcessorRoleHolder, State{}, ErrNotYourStep},
		{"DPA-11 cannot stop pending", State{P, VersionToSign}, StepStop, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-11 controller resumes", State{S, VersionSigned}, StepResume, ControllerRoleHolder, State{A, VersionSigned}, nil},
		{"DPA-11 processor cannot resume", State{S, VersionSigned}, StepResume, ProcessorRoleHolder, State{}, ErrNotYourStep},
		{"DPA-11 case worker cannot resume", State{S, VersionSigned}, StepResume, RegisterCaseWorker, State{}, ErrNotYourStep},
		{"DPA-11 resume only stopped", State{A, VersionSigned}, StepResume, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-10 controller ends active", State{A, VersionSigned}, StepEnd, ControllerAdmin, State{E, VersionSigned}, nil},
		{"DPA-10 processor role holder ends stopped", State{S, VersionSigned}, StepEnd, ProcessorRoleHolder, State{E, VersionSigned}, nil},
		{"DPA-10 processor staff cannot end", State{A, VersionSigned}, StepEnd, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-10 cannot end pending", State{P, VersionToSign}, StepEnd, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-10 cannot end twice", State{E, VersionSigned}, StepEnd, ControllerAdmin, State{}, ErrWrongStatus},
		{"DPA-10 processor role holder confirms deletion", State{E, VersionSigned}, StepConfirmDeletion, ProcessorRoleHolder, State{D, VersionSigned}, nil},
		{"DPA-10 staff cannot confirm deletion", State{E, VersionSigned}, StepConfirmDeletion, ProcessorStaff, State{}, ErrNotYourStep},
		{"DPA-10 controller cannot confirm deletion", State{E, VersionSigned}, StepConfirmDeletion, ControllerRoleHolder, State{}, ErrNotYourStep},
		{"DPA-10 deletion only after end", State{A, VersionSigned}, StepConfirmDeletion, ProcessorRoleHolder, State{}, ErrWrongStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Transition(tc.from, tc.step, tc.hat)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEveryStepHasHats(t *testing.T) {
	for _, s := range Steps() {
		if len(stepHats[s]) == 0 {
			t.Errorf("step %s has no hats", s)
		}
		if s.Label() == string(s) {
			t.Errorf("step %s has no label", s)
		}
	}
}

// TestTransitionOn_SeparationOfParties_DPA01: roles count only for the
// organisation they are held for; nobody acts for both sides.
func TestTransitionOn_SeparationOfParties_DPA01(t *testing.T) {
	a := &Agreement{ID: "a", Controller: ctrl, Processor: proc, Status: StatusPending,
		Versions: []Version{{Number: 1, Status: VersionToSign}}}
	both := append(ms(ctrl, governance.Rolleinnehaver), ms(proc, governance.Rolleinnehaver)...)
	for _, tc := range []struct {
		name  string
		step  Step
		actor string
		ms    []governance.Membership
		err   error
	}{
		{"controller role holder signs", StepSignController, "user:c", ms(ctrl, governance.Rolleinnehaver), nil},
		{"processor role holder signs", StepSignProcessor, "user:p", ms(proc, governance.Rolleinnehaver), nil},
		{"processor role holder cannot sign for controller", StepSignController, "user:p", ms(proc, governance.Rolleinnehaver), ErrNotYourStep},
		{"role holder elsewhere counts for nothing", StepSignController, "user:x", ms(other, governance.Rolleinnehaver), ErrNotYourStep},
		{"both parties", StepSignController, "user:b", both, ErrBothParties},
		{"both parties, processor step", StepSignProcessor, "user:b", both, ErrBothParties},
		{"case worker", StepSignController, "user:s", ms(governance.AuthorityOrg, governance.Saksbehandler), ErrNotYourStep},
		{"register role named like a consumer role", StepSignController, "user:r", ms(governance.AuthorityOrg, governance.Rolleinnehaver), ErrNotYourStep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TransitionOn(a, tc.step, tc.actor, tc.ms)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if MayOn(a, tc.step, tc.actor, tc.ms) != (tc.err == nil) {
				t.Error("MayOn disagrees with TransitionOn")
			}
		})
	}
	// The same person never signs both sides, even if their roles changed in between.
	a.Versions[0] = Version{Number: 1, Status: VersionSignedController, ControllerSig: &Signature{Actor: "user:x"}}
	if _, err := TransitionOn(a, StepSignProcessor, "user:x", ms(proc, governance.Rolleinnehaver)); !errors.Is(err, ErrBothParties) {
		t.Errorf("same signer on both sides: err = %v", err)
	}
	if got := StepsOn(a, "user:p", ms(proc, governance.Rolleinnehaver)); len(got) != 2 || got[0] != StepRevise || got[1] != StepSignProcessor {
		t.Errorf("StepsOn = %v", got)
	}
}

func TestCanSee(t *testing.T) {
	a := &Agreement{Controller: ctrl, Processor: proc}
	for _, tc := range []struct {
		name string
		ms   []governance.Membership
		want bool
	}{
		{"controller", ms(ctrl, governance.Utvikler), true},
		{"processor", ms(proc, governance.Databehandler), true},
		{"case worker", ms(governance.AuthorityOrg, governance.Saksbehandler), true},
		{"dpo", ms(governance.AuthorityOrg, governance.Personvernombud), true},
		{"register's administrator", ms(governance.AuthorityOrg, governance.Forvalter), false},
		{"another consumer", ms(other, governance.Administrator), false},
		{"nobody", nil, false},
	} {
		if got := CanSee(a, tc.ms); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
