// Package incident is how the register handles personal-data breaches (avvik)
// and service incidents: the report and its case, immediate measures, the
// ENISA severity assessment and the decision it informs, the notice to
// Datatilsynet in phases and the notice to the persons affected, the clocks
// that run against all of these, the learning follow-up, and the service
// incidents' priorities and SLA compliance per quarter.
//
// It is pure: types, validation, state transitions, deadlines and texts. It
// holds no state and does no I/O; internal/store keeps cases and
// internal/web shows them. Every function that depends on the time takes it
// as an argument, and working hours come from a [Calendar] built once by the
// caller (Norwegian public holidays from github.com/rickar/cal/v2/no).
//
// It is not the breach's evidence: who was affected is computed from the
// lookup log elsewhere (internal/audit, internal/store), and this package
// only carries the counts it is given. It is not a legal oracle either: the
// ENISA score and the suggestion drawn from it are aids to a documented
// judgement that a person makes and signs (Rule AV-04).
//
// Validation returns messages by form field in Norwegian (Bokmål), as
// internal/governance does, so that the portal can show each beside its input.
package incident
