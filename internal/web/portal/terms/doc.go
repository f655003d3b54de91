// Package terms is the portal's pages for the register's terms and its
// operational notices (issue 5, items 4 and 6): bruksvilkår and
// delingsvilkår — the public page /vilkar, a consumer's acceptance and
// objections, the forvalter publishing a new version (announced as a
// notice), the case workers resolving objections (terms.go); and
// driftsmeldinger — the public page and Atom feed (Rule AA-20), publishing
// with e-mail to the consumers' contact persons, and the API's deprecation
// headers told of a change (notices.go).
//
// It is a feature of the portal (site.Feature): New takes the site, the
// rules' numbers and the hook for deprecations; Routes and the templates in
// templates/ are mounted by the portal's route table. About 800 lines of
// non-test code.
package terms
