// Package portal is the server-rendered web UI for people (Norwegian
// Bokmål): public pages (the start page, /driftsmeldinger with its Atom feed,
// /vilkar), sign-in, and every page and form behind it — applications and
// case handling, terms, notices, contacts and users, consents, insight, web
// lookup and extracts — in one route table (routes.go), each signed-in route
// with the guard that lets a visitor in. Sessions live in the database (scs);
// forms are protected by http.CrossOriginProtection; templates and static
// files are embedded and parsed once at start-up. Handlers' errors are
// answered by serveError through httperr.Status, as an HTML page.
//
// It is not the API: no bearer tokens and no problem+json (but for a missing
// static file). It does not import package web or package machineapi.
//
// At about 4,900 lines of non-test code it is over the house limit of ~3,000:
// it is one side with one authentication model (sessions) and one route
// table, and its features (portal_*.go, a file each) share the visitor, the
// guards, the frame and the templates; splitting them further would put
// those in yet another package every feature imports.
package portal
