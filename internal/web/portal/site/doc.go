// Package site is what every page of the portal shares, and the way a
// feature of the portal plugs in.
//
// It holds the visitor (who is signed in, read fresh from the accounts on
// every request) and the guards on it (Staff, Member, AnyOf, SignedInOnly,
// PersonOnly; deny by default), SignedIn (the wrapper of a signed-in page),
// sessions (scs, in the database) and the flash message, the frame around
// every page with its menu, rendering, the error pages (NotFound,
// ServeError, PageError, ErrorPage: errors through httperr.Status), the
// static files by content-hash URL, and the helpers forms share (Field,
// FieldError, OsloTime, ParseFormTime). It owns layout.html with its
// partials ("top", "bottom", "field", "vilkar-feil",
// "vilkar-feiloppsummering"), the error pages and static/. Register mounts
// routes behind cross-origin protection, the pages' Content-Security-Policy
// and the session.
//
// A feature is a package beside this one (breach is the worked example): its
// constructor takes the *Site and what else it needs, and it is a Feature —
// its Routes, each signed-in one wrapped in SignedIn with its guard, and its
// Templates, the package's templates/*.html embedded. The portal's route
// table (portal/routes.go) lists the features and the menu; Parse parses
// every feature's templates with the layout once at start-up, and refuses a
// name — a page's file or a {{define}} — that is already taken.
//
// It imports no feature, and not package web, portal or machineapi.
package site
