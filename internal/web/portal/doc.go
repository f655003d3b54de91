// Package portal is the server-rendered web UI for people (Norwegian
// Bokmål). It holds the portal's route table (routes.go): its own pages —
// the start page and /utvikler (pages.go), sign-in with its throttle and
// "Min side" (portal.go), contacts, users and consumers' life cycle
// (portal_consumers.go), consents, insight, web lookup and extracts
// (portal_*.go, a file each) — and every feature in a package of its own,
// mounted from features(): applications (søknader, case handling, vedtak,
// grants), terms (bruksvilkår, objections, driftsmeldinger), breach
// (avvik), dpa (databehandleravtaler and the case workers' delegations), post
// (digital post: inbox, Post/Arkiv, senders), clients (API clients by public
// key or certificate, pasted or uploaded), staff (the register's staff
// accounts, managed by the forvalter) and openid (sign-in with OpenID
// Connect, whose buttons the sign-in page shows). The menu (navigation) is
// one table beside the route table.
//
// What every page shares is package site: the visitor and its guards, the
// signed-in wrapper, sessions (scs, in the database) and flash, the frame
// and menu, rendering of the templates, the error pages (errors through
// httperr.Status), static files, and Register, which puts each route behind
// http.CrossOriginProtection, the pages' Content-Security-Policy and the
// session. A new feature is a package under portal/ that implements
// site.Feature (its routes, each signed-in one with its guard, and its
// embedded templates/*.html): add its constructor to features() and its menu
// entries to navigation. Features import site; site imports no feature.
//
// It is not the API: no bearer tokens and no problem+json (but for a missing
// static file). Nothing under it imports package web or package machineapi.
//
// About 2,600 lines of non-test code (site about 630, applications 1,200,
// terms 880, breach 1,550, dpa 1,270). Contacts and users (portal_consumers.go, about
// 1,050) is the next to move when this package grows again.
package portal
