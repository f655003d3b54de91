package incident

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotReady is Ready's error: the case lacks what the step needs.
var ErrNotReady = errors.New("the case is not ready for the step")

// Ready checks what a step needs from the case beyond its status and the
// actor's role: a decision rests on a recorded risk assessment (Rule AV-04),
// the decision recorded matches the step, only the controller files (Rule
// DPA-08), a case is closed only once CloseMissing lists nothing, and the
// follow-up is done only when every item is (Rule AV-08).
func (b *Breach) Ready(step Step, actor Actor) error {
	switch step {
	case StepDecideNotify, StepDecideNoNotif:
		if b.Risk == nil {
			return fmt.Errorf("%s: no risk assessment: %w", step, ErrNotReady)
		}
		if b.Decision == nil || b.Decision.Step() != step || len(b.Decision.Validate()) > 0 {
			return fmt.Errorf("%s: no valid decision of this kind: %w", step, ErrNotReady)
		}
	case StepFileInitial, StepFileSupplement:
		if err := MayFile(actor); err != nil {
			return err
		}
	case StepClose:
		if missing := b.CloseMissing(); len(missing) > 0 {
			return fmt.Errorf("%s: %d things missing: %w", step, len(missing), ErrNotReady)
		}
	case StepFollowUpDone:
		if strings.TrimSpace(b.Lessons) == "" || b.ReviewAt.IsZero() || !AllDone(b.FollowUp) {
			return fmt.Errorf("%s: follow-up items open: %w", step, ErrNotReady)
		}
	}
	return nil
}
