// Package post is digital post to businesses (Digital post til virksomheter,
// DPV): correspondences that eligible public senders send to organisations,
// shaped like Altinn 3 Correspondence so that a sender's integration carries
// over with only the base URL changed.
//
// It holds the domain, pure: the initialize request with Altinn's JSON names
// and its strict decoding and validation (with Altinn's numeric error codes),
// the status enum with its precedence and who may move a correspondence
// where, purge rules, eligible senders and their yearly quota (Rules DPV-01,
// DPV-09, DPV-10, DPV-11), the ten service categories (DPV-02), sending on
// behalf of another organisation (DPV-04), who may read an organisation's
// post (the Post/Arkiv role, DPV-03), which notifications are due (DPV-06),
// idempotency, listing and bulk status semantics (DPV-05), the lead times of
// operational notices (DPV-08), and the safe rendering of a Markdown body.
//
// It is not storage and not HTTP: internal/store keeps correspondences,
// attachments and histories, and the API and portal under internal/web
// speak to senders and readers. It does not send e-mail (the outbox does),
// scan or store attachments, or look anything up: every fact a decision
// needs (roles in Enhetsregisteret, delegations, counts, the time) arrives
// as an argument.
//
// Messages come in two languages: Detail in English, as Altinn's problem
// details say it, for the API; Melding in Norwegian (Bokmål) for the portal,
// beside the form field it is about, as internal/governance does.
//
// At about 3,000 lines of non-test code it stands at the house limit of
// ~3,000: most of it is Altinn's request vocabulary with its validation and
// problem codes (request.go, validate.go, problem.go), which is one thing and
// reads best in one place. The next feature here moves who may read an
// organisation's post (portalroles.go, reading.go) and the checks of what a
// sender may write in a notification (notifytext.go, links.go, register.go)
// into packages of their own instead of growing this one.
package post
