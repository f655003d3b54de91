package dpa

import (
	"errors"
	"fmt"

	"deling/internal/access"
	"deling/internal/register"
)

// ErrNotReady is Ready's error: the agreement lacks what the step needs.
var ErrNotReady = errors.New("the agreement is not ready for the step")

// Ready checks what a step needs from the agreement beyond its status and
// the actor's hat: the controller sends a draft whose own part is complete,
// the processor completes only with annex 2 and the proposed annex 3 in
// order, and nobody signs an incomplete version (Rule DPA-01); only an
// ended agreement with its deletion deadline takes a certificate (Rule
// DPA-10). The form's messages come from the Validate functions; Ready is
// the guard the store's transaction calls.
func (a *Agreement) Ready(step Step, env register.Env, cat *access.Catalogue) error {
	v := a.Newest()
	check := func(bad map[string]string) error {
		if len(bad) > 0 {
			return fmt.Errorf("%s: %d fields to fix: %w", step, len(bad), ErrNotReady)
		}
		return nil
	}
	switch step {
	case StepSend:
		if v == nil {
			return fmt.Errorf("%s: no version: %w", step, ErrNotReady)
		}
		return check(v.Content.ValidateController(env, cat))
	case StepComplete:
		if v == nil {
			return fmt.Errorf("%s: no version: %w", step, ErrNotReady)
		}
		return check(v.Content.ValidateProcessor(env, cat))
	case StepSignController, StepSignProcessor:
		if v == nil {
			return fmt.Errorf("%s: no version: %w", step, ErrNotReady)
		}
		if v.Content.Controller.Orgnr != a.Controller || v.Content.Processor.Orgnr != a.Processor {
			return fmt.Errorf("%s: the version names other parties than the agreement: %w", step, ErrNotReady)
		}
		return check(v.Content.Validate(env, cat))
	case StepConfirmDeletion:
		if a.Ending == nil {
			return fmt.Errorf("%s: no end recorded: %w", step, ErrNotReady)
		}
	}
	return nil
}
