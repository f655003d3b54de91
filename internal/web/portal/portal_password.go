package portal

import (
	"net/http"
	"strings"

	"deling/internal/governance"
	"deling/internal/web/portal/site"
)

// passwordPage is the form where a signed-in account changes its own
// password (issue 16, item 5, review): the current one, the new one twice.
type passwordPage struct {
	site.Frame
	Must bool // the password was set by someone else and must be changed first
	Form lifeForm
}

func (s *Server) renderPassword(w http.ResponseWriter, r *http.Request, v *site.Visitor, f lifeForm, status int) error {
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.Render(w, r, "passord.html", passwordPage{Frame: s.Frame(r, v, "Bytt passord"), Must: v.User.MustChangePassword, Form: f})
	return nil
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	return s.renderPassword(w, r, v, newLifeForm("gammelt", "passord", "passord2"), http.StatusOK)
}

// changePassword checks the current password (throttled as a sign-in is),
// then stores the new one under the password policy. The account's other
// sessions end at their next request; this one goes on under a new token.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	f := newLifeForm("gammelt", "passord", "passord2")
	if err := r.ParseForm(); err != nil {
		f.Errors["gammelt"] = "Skjemaet kunne ikke leses. Prøv igjen."
		return s.renderPassword(w, r, v, f, http.StatusBadRequest)
	}
	old, pw := r.PostFormValue("gammelt"), r.PostFormValue("passord")
	if msg := governance.CheckPasswordPolicy(pw); msg != "" {
		f.Errors["passord"] = msg
	} else if pw != r.PostFormValue("passord2") {
		f.Errors["passord2"] = "Passordene er ikke like."
	} else if pw == old {
		f.Errors["passord"] = "Det nye passordet må være et annet enn det gamle."
	}
	if old == "" || len(old) > 1024 {
		f.Errors["gammelt"] = "Skriv passordet du har nå."
	}
	if f.Bad() {
		return s.renderPassword(w, r, v, f, http.StatusBadRequest)
	}
	keys, _ := signInKeys(r, v.User.Email)
	res, err := s.DB.ReserveSignIn(r.Context(), keys, s.Now(), s.throttle)
	if err != nil {
		return err
	}
	if res.Wait > 0 {
		f.Errors["gammelt"] = "For mange mislykkede forsøk. Vent litt og prøv igjen."
		return s.renderPassword(w, r, v, f, http.StatusTooManyRequests)
	}
	if err := s.takeHashSlot(r.Context(), true); err != nil {
		s.releaseSignIn(r, res)
		f.Errors["gammelt"] = "Innloggingen er travel akkurat nå. Prøv igjen om litt."
		return s.renderPassword(w, r, v, f, http.StatusServiceUnavailable)
	}
	defer s.releaseHashSlot(true)
	_, hash, err := s.DB.UserByEmail(r.Context(), v.User.Email)
	if err != nil {
		s.releaseSignIn(r, res)
		return err
	}
	if !strings.HasPrefix(hash, "$argon2id$") || governance.VerifyPassword(hash, old) != nil {
		if err := s.DB.SignInFailed(r.Context(), res, s.Now()); err != nil {
			return err
		}
		f.Errors["gammelt"] = "Passordet du har nå, er feil."
		return s.renderPassword(w, r, v, f, http.StatusBadRequest)
	}
	s.releaseSignIn(r, res)
	newHash, err := governance.HashPassword(pw)
	if err != nil {
		return err
	}
	gen, err := s.DB.SetPassword(r.Context(), v.User.ID, newHash, false, v.Actor())
	if err != nil {
		return err
	}
	if err := s.Sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), site.SessionPasswordGen, gen)
	s.Flash(r, "Passordet er byttet. Du er logget ut alle andre steder du var logget inn.")
	site.Redirect(w, r, "/portal")
	return nil
}
