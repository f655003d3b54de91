package portal

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/openid"
	"deling/internal/web/portal/site"
)

// Sign-in: people sign in with an e-mail address and a password (argon2id),
// hold roles for organisations, and act for one organisation at a time. The
// session and the visitor read from it on every request are package site's.

// sessionTermsOK is set when a web-lookup user ticked the terms and the duty of confidentiality at this sign-in (Rule AA-04).
const sessionTermsOK = site.SessionTermsOK

// signInPage is the sign-in form.
type signInPage struct {
	site.Frame
	Email, Next, Error string
	// Providers are the buttons of sign-in with OpenID Connect (package openid), one a configured provider.
	Providers []openid.Button
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, "signin.html", signInPage{Frame: s.Frame(r, nil, "Logg inn"), Next: safeNext(r.URL.Query().Get("neste")), Providers: s.openid.Buttons()})
}

// dummyHash is verified against when the e-mail address is unknown, so that
// the answer takes as long as for a known one (no account enumeration).
var dummyHash = sync.OnceValue(func() string {
	h, _ := governance.HashPassword("deling-dummy-password")
	return h
})

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	email, pw := strings.TrimSpace(r.PostFormValue("epost")), r.PostFormValue("passord")
	p := signInPage{Frame: s.Frame(r, nil, "Logg inn"), Email: email, Next: safeNext(r.PostFormValue("neste")), Providers: s.openid.Buttons()}
	fail := func(msg string, code int) {
		p.Error = msg
		w.WriteHeader(code)
		s.Render(w, r, "signin.html", p)
	}
	if email == "" || pw == "" || len(email) > 254 || len(pw) > 1024 {
		fail("Skriv e-postadresse og passord.", http.StatusBadRequest)
		return
	}
	keys, source := signInKeys(r, email)
	// Throttled, never locked (governance.Throttle): the wait falls on the
	// account and source that failed, and never on a source or device the
	// account signed in from before. The attempt is counted here, before its
	// password is checked, so that parallel attempts cannot share the free ones.
	res, err := s.DB.ReserveSignIn(r.Context(), keys, s.Now(), s.throttle)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	tooMany := func(wait time.Duration, msg, text string) {
		secs := int((wait + time.Second - 1) / time.Second)
		s.Log.Info(msg, "source", source, "known", res.Attempts.Known, "wait_s", secs, "correlation_id", httperr.CorrelationID(r.Context()))
		s.countSignInFailure("throttled")
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		fail(fmt.Sprintf(text, secs), http.StatusTooManyRequests)
	}
	if res.Wait > 0 {
		tooMany(res.Wait, "sign-in throttled", "For mange mislykkede forsøk. Vent %d sekunder og prøv igjen.")
		return
	}
	// argon2id takes 64 MiB and ~0.16 s a try: a few at a time, so that a
	// flood of sign-ins cannot exhaust memory; attempts the throttle knows
	// come first, so that a flood from strangers cannot keep owners out.
	switch err := s.takeHashSlot(r.Context(), res.Attempts.Known); {
	case err == nil:
		defer s.releaseHashSlot(res.Attempts.Known)
	case r.Context().Err() != nil:
		s.releaseSignIn(r, res)
		return
	case res.Attempts.Known:
		s.releaseSignIn(r, res)
		fail("Innloggingen er travel akkurat nå. Prøv igjen om litt.", http.StatusServiceUnavailable)
		return
	default:
		// Not counted against the attempt: it was not tried.
		s.releaseSignIn(r, res)
		tooMany(strangerRetry, "sign-in busy", "Innloggingen er travel akkurat nå. Vent %d sekunder og prøv igjen.")
		return
	}
	failed := func(user string) {
		// With a context of its own: a guesser who hangs up is counted all the same.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if err := s.DB.SignInFailed(ctx, res, s.Now()); err != nil {
			s.Log.Error("count failed sign-in", "err", err)
		}
		s.Log.Info("sign-in failed", "source", source, "user", user, "correlation_id", httperr.CorrelationID(r.Context()))
		s.countSignInFailure("password")
		fail("Feil e-postadresse eller passord.", http.StatusUnauthorized)
	}
	u, hash, err := s.DB.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		governance.VerifyPassword(dummyHash(), pw)
		failed("")
		return
	case err != nil:
		s.PageError(w, r, err)
		return
	}
	if !strings.HasPrefix(hash, "$argon2id$") {
		// An account without a password yet (invited): take as long as a real check.
		governance.VerifyPassword(dummyHash(), pw)
	}
	if err := governance.VerifyPassword(hash, pw); err != nil || u.Disabled {
		failed(u.ID)
		return
	}
	ms, err := s.DB.Memberships(r.Context(), u.ID)
	if err != nil {
		s.PageError(w, r, err)
		return
	}
	if len(ms) == 0 {
		fail("Brukeren har ingen roller. Kontakt administratoren i virksomheten din.", http.StatusForbidden)
		return
	}
	// The device cookie is kept if it is known for this account, else a new one is issued.
	device := keys.Device
	if !res.DeviceKnown {
		device = rand.Text()
	}
	if err := s.DB.SignInSucceeded(r.Context(), res, s.Now(), device); err != nil {
		s.PageError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: device, Path: "/", MaxAge: int(s.throttle.KnownFor / time.Second),
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode})
	// A new session token at sign-in (no session fixation); the terms are ticked anew at every sign-in (Rule AA-04).
	if err := s.BeginSession(r.Context(), u, ms); err != nil {
		s.PageError(w, r, err)
		return
	}
	s.Log.Info("signed in", "user", u.ID)
	next := p.Next
	if next == "" {
		next = "/portal"
	}
	site.Redirect(w, r, next)
}

// safeNext keeps a local portal path to return to after sign-in (site.SafeNext).
var safeNext = site.SafeNext

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Sessions.Destroy(r.Context()); err != nil {
		s.PageError(w, r, err)
		return
	}
	site.Redirect(w, r, "/logg-inn")
}

// chooseOrg switches the organisation the visitor acts for, among their own.
func (s *Server) chooseOrg(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	org := r.PostFormValue("org")
	if !slices.Contains(governance.Orgs(v.Memberships), org) {
		return httperr.ErrNotFound
	}
	s.Sessions.Put(r.Context(), site.SessionOrg, org)
	s.Sessions.Remove(r.Context(), sessionTermsOK)
	site.Redirect(w, r, "/portal")
	return nil
}

// home is "Min side": what the visitor can do, by role.
func (s *Server) home(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	p := struct {
		site.Frame
		Roles []string
	}{Frame: s.Frame(r, v, "Min side")}
	for _, m := range v.Memberships {
		switch {
		case m.Org == governance.AuthorityOrg:
			p.Roles = append(p.Roles, m.Role.Label()+" hos registerforvalteren")
		case m.Org == "":
			p.Roles = append(p.Roles, m.Role.Label())
		default:
			name, err := s.OrgName(r.Context(), m.Org)
			if err != nil {
				return err
			}
			p.Roles = append(p.Roles, m.Role.Label()+" for "+site.OrgLabel(name, m.Org))
		}
	}
	s.Render(w, r, "home.html", p)
	return nil
}

// deviceCookie holds a browser's device id (crypto/rand.Text: 26 characters
// of base32), given at a successful sign-in; the database remembers its hash
// for each account that signed in with it (governance.Throttle: "known").
const deviceCookie = "deling_enhet"

// strangerRetry is how long an attempt not known to the throttle is told to
// wait when every hash slot it may take is busy.
const strangerRetry = 2 * time.Second

// takeHashSlot waits for a slot to verify a password in. An attempt known to
// the throttle waits up to 10 s for any slot; another waits up to
// strangerRetry for one of the slots strangers may hold, one fewer than all.
func (s *Server) takeHashSlot(ctx context.Context, known bool) error {
	wait := 10 * time.Second
	if !known {
		t := time.NewTimer(strangerRetry)
		defer t.Stop()
		select {
		case s.strangerSlots <- struct{}{}:
		case <-t.C:
			return errors.New("busy")
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = strangerRetry
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	if !known {
		<-s.strangerSlots
	}
	return cmp.Or(ctx.Err(), errors.New("busy"))
}

func (s *Server) releaseHashSlot(known bool) {
	<-s.hashSlots
	if !known {
		<-s.strangerSlots
	}
}

// releaseSignIn takes back the reservation of an attempt that was not tried,
// with a context of its own (the client may have hung up).
func (s *Server) releaseSignIn(r *http.Request, res store.SignInReservation) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.DB.ReleaseSignIn(ctx, res); err != nil {
		s.Log.Error("release sign-in", "err", err)
	}
}

// signInKeys are the throttle's keys for an attempt to sign in as email from
// r's source address and device cookie, and the part of the address that may
// be logged. The address is the connection's, or the client's when the
// connection came from a trusted proxy (clientaddr, serve --trusted-proxy).
func signInKeys(r *http.Request, email string) (store.SignInKeys, string) {
	keys := store.SignInKeys{Account: strings.ToLower(email), Source: "unknown", Network: "unknown"}
	if c, err := r.Cookie(deviceCookie); err == nil && len(c.Value) == 26 && !strings.ContainsFunc(c.Value, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || '2' <= r && r <= '7')
	}) {
		keys.Device = c.Value
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return keys, "unknown"
	}
	keys.Source, keys.Network = governance.SourceKey(addr), governance.NetworkKey(addr)
	return keys, governance.SourcePrefix(addr)
}

// countSignInFailure tells the operator's metrics of a failed sign-in.
func (s *Server) countSignInFailure(reason string) {
	if s.signInFailed != nil {
		s.signInFailed(reason)
	}
}
