// Package correspondence is deling's digital post API (issue 14), shaped
// like Altinn 3 Correspondence at /correspondence/api/v1/…: the same
// paths, JSON field names, statuses and problem bodies with Altinn's
// numeric errorCode, so that a sender's integration carries over with few
// changes — not none: the tokens are deling's, some Altinn routes answer
// 501, existingAttachments is refused, custom notification recipients are
// capped, and notifications are sent by deling's job, not at initialize.
// Callers present deling's own bearer tokens; a sender
// needs post.ScopeWrite (Altinn's altinn:correspondence.write), a
// recipient post.ScopeRead (altinn:correspondence.read).
//
// internal/post decides (validation, statuses, quota, on-behalf-of,
// reading rights); internal/store keeps. Beside Altinn 3's endpoints it
// serves bulk status (Rule DPV-05), which Altinn 2 had and Altinn 3 lacks.
// A correspondence a caller may not see is answered as not found (1001).
package correspondence
