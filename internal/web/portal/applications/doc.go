// Package applications is the portal's pages for applications (søknad),
// case handling, decisions (vedtak) and the grants they create (issue 5,
// items 2–3): a consumer's administrator fills in an application, its role
// holder signs it (Rule AA-01), a case worker at the register takes it, may
// ask for more, and approves it — test access first, production after the
// consumer's integration test (Rule AA-03) — or refuses it; the consumer
// sees its grants and delegations (/portal/tilganger). governance decides
// which step may be taken by whom (separation of duties); store carries each
// step out with its history and its event in the log.
//
// It is a feature of the portal (site.Feature): New takes the site and the
// catalogue of packages; Routes and the templates in templates/ are mounted
// by the portal's route table. About 1,200 lines of non-test code.
package applications
