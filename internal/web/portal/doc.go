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
// At about 6,500 lines of non-test code it is over the house limit of ~3,000:
// it is one side with one authentication model (sessions) and one route
// table, and its features (portal_*.go, a file each) share the visitor, the
// guards, the frame and the templates; splitting them further would put
// those in yet another package every feature imports. It grows by a feature
// at a time (breaches added some 1,600 lines); when data processing
// agreements and digital post land, the visitor, guards, frame and rendering
// move to a small package of their own and each feature becomes a package
// beside it, mounted by this one's route table.
package portal
