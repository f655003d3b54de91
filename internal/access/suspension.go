package access

// SuspensionCause says who suspended a grant, and so what resumes it. It is
// kept apart from the grant's status reason, which is text for people.
type SuspensionCause string

// Causes of a suspension.
const (
	// SuspendedByRegister: the register suspended all of a consumer's active
	// grants at once for a breach of the terms, with a written notice (Rule
	// AA-25). Resuming the consumer resumes these grants, and only these.
	SuspendedByRegister SuspensionCause = "register"
	// SuspendedByOperator: one grant suspended on its own (by an operator
	// with the CLI, say). It stays suspended when the consumer is resumed.
	SuspendedByOperator SuspensionCause = "operator"
)

// SuspendedBy reports whether g is suspended, for cause c.
func (g *Grant) SuspendedBy(c SuspensionCause) bool {
	return g.Status == Suspended && g.Suspension == c
}
