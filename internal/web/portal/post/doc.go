// Package post is the portal's digital post to businesses (issue 14; Rules
// DPV-01..DPV-11): an organisation's inbox and archive, where reading needs
// the Post/Arkiv role (DPV-03) — key role holders automatically, others by
// delegation, confidential post only with a key role or its own delegation
// — and opening, reading, confirming and downloading attachments are
// recorded as the correspondence's statuses; the page where key role
// holders and holders of the access-management role give and take back
// Post/Arkiv; and the register staff's page of senders (DPV-01, DPV-09,
// DPV-10, DPV-11).
//
// Who holds a key role is decided in one place, internal/post's
// PortalRoles: the Enhetsregisteret role codes recorded for a user
// (store.SetPostRoleCodes; a role holder from before the codes stands for DAGL), and
// the administrator for the access-management role. Post/Arkiv delegated
// to another organisation is read by that organisation's own readers under
// Post, by choosing the organisation (?virksomhet=, only one that gave it). internal/post decides what may be read
// and delegated; store keeps correspondences, statuses and delegations with
// their events in the log; the API for senders' and recipients' systems is
// internal/web/correspondence.
//
// It is a feature of the portal (site.Feature), mounted by the portal's route table.
package post
