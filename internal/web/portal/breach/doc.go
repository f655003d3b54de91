// Package breach is the portal's breach pages (avvik; issue 12, Rules
// AV-01..AV-08, AA-21, DPA-08): reporting — signed in, or on the public page
// /avvik with a reference to follow the report by — the list with its
// deadlines, and the case: measures, the risk assessment, the decision on
// notifying, the filing to Datatilsynet in phases, closing; who was
// affected, counted from the lookup log (affected.go; Rules AV-05, AA-16,
// AA-22); stopping one API client, the notices to the persons and letters
// to the consumers, and the follow-up (followup.go; Rules AV-02, AV-06,
// AV-08, AA-22); and the support channel with service incidents
// (support.go, faq.go; Rules AA-18, AA-19). docs/BREACHES.md describes it. internal/incident decides what may happen and when things are
// due; store carries each step out with its event in the log.
//
// It is a feature of the portal (site.Feature): New takes the site and the
// shared channel (for the insight record a count of the affected writes);
// Routes and the templates in templates/ are mounted by the portal's route
// table. About 2,400 lines of non-test code.
package breach
