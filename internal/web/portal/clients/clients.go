package clients

import (
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Feature is the API client page. Build one with New.
type Feature struct{ *site.Site }

// New makes the API client page on st.
func New(st *site.Site) *Feature { return &Feature{Site: st} }

// Templates are the page's templates (klienter*).
func (s *Feature) Templates() fs.FS { return templateFiles }

// Routes are the client page and its forms, for an organisation's developers and administrators (deny by default).
func (s *Feature) Routes() []site.Route {
	f := func(p string, h http.HandlerFunc) site.Route { return site.Route{Pattern: p, Handler: h} }
	developer := site.Member(governance.Administrator, governance.Utvikler)
	return []site.Route{
		f("GET /portal/klienter", s.SignedIn(developer, s.list)),
		f("POST /portal/klienter", s.SignedIn(developer, s.register)),
		f("POST /portal/klienter/{id}/ny-nokkel", s.SignedIn(developer, s.rotate)),
		f("POST /portal/klienter/{id}/trekk-tilbake", s.SignedIn(developer, s.revoke)),
	}
}

// Kinds of key the form takes.
const (
	kindJWK         = "jwk"
	kindCertificate = "sertifikat"
)

// maxKey bounds a pasted key or certificate chain.
const maxKey = 32 << 10

type page struct {
	site.Frame
	// Approved: the organisation is a consumer with access; only then may it register clients.
	Approved bool
	Clients  []store.ClientInfo
	// Form is the register form; Rotate the key form of one client (Rotate.Client), after a refused rotation.
	Form, Rotate form
	Errors       []site.FieldError
	// Registered is the client id just registered, to show once at the top.
	Registered string
}

// form is the key form, registering a client (Client "") or rotating Client's key.
type form struct {
	Client, Kind, Key, Description string
	// KID is the key id given to a PEM public key uploaded (keyfile.go), shown to the developer.
	KID string
	Bad map[string]string
	// certs are the certificates given, the client's own first (key sets them).
	certs []*x509.Certificate
}

// readKeyForm reads the key form: multipart when it carries a file, else URL-encoded.
func readKeyForm(w http.ResponseWriter, r *http.Request) form {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return readUpload(w, r)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseForm(); err != nil {
		f := form{Bad: map[string]string{"nokkel": "Skjemaet kunne ikke leses. Prøv igjen."}}
		if errors.As(err, new(*http.MaxBytesError)) {
			f.Bad["nokkel"] = keyTooLong
		}
		return f
	}
	return readForm(r)
}

const keyTooLong = "Nøkkelen er for lang. En nøkkel eller sertifikatkjede er på høyst 32 KiB."

// readForm reads the key form's fields.
func readForm(r *http.Request) form {
	return form{Kind: r.PostFormValue("type"), Key: strings.TrimSpace(r.PostFormValue("nokkel")),
		Description: strings.TrimSpace(r.PostFormValue("beskrivelse")), Bad: map[string]string{}}
}

// key is the form's public key or certificate as the store keeps it, for
// client id; a message goes to f.Bad. The store parses it once more.
func (f *form) key(id string) store.ClientKey {
	switch {
	case f.Bad["fil"] != "" || f.Bad["nokkel"] != "":
	case f.Key == "":
		f.Bad["nokkel"] = "Lim inn den offentlige nøkkelen eller virksomhetssertifikatet, eller last opp en fil."
	case len(f.Key) > maxKey:
		f.Bad["nokkel"] = keyTooLong
	case f.Kind == kindJWK:
		k, err := token.ParsePublicJWK([]byte(f.Key))
		if err != nil {
			f.Bad["nokkel"] = "Dette er ikke en gyldig offentlig nøkkel (JWK). Lim inn den offentlige delen, uten den private nøkkelen."
			break
		}
		return store.ClientKey{KID: k.KID, Kind: store.KeyJWK, Material: f.Key}
	case f.Kind == kindCertificate:
		// Only the certificates are kept, re-encoded; a private key anywhere in the text refuses it all.
		certs, text, err := token.ParseCertificates([]byte(f.Key))
		switch {
		case errors.Is(err, token.ErrPrivateKey):
			f.Bad["nokkel"] = pastedPrivate
		case err != nil:
			f.Bad["nokkel"] = notCertificate
		default:
			f.certs = certs
			return store.ClientKey{KID: "cert-" + uuid.NewString(), Kind: store.KeyCertificate, Material: string(text)}
		}
	default:
		f.Bad["type"] = "Velg om du laster opp en nøkkel (JWK) eller et virksomhetssertifikat."
	}
	return store.ClientKey{}
}

// checkCert checks the certificate given, if any, as the token server will
// at each assertion: a usable key, valid now, issued to the organisation
// acted for (orgnr). A message goes to f.Bad.
func (f *form) checkCert(orgnr string, now time.Time) {
	if len(f.certs) == 0 {
		return
	}
	switch err := token.CheckCertificate(f.certs[0], orgnr, now); {
	case errors.Is(err, token.ErrCertificateKey):
		f.Bad["nokkel"] = "Nøkkelen i sertifikatet kan ikke brukes. Den må være RSA på minst 2048 bit (offentlig eksponent minst 65537) eller EC P-256."
	case errors.Is(err, token.ErrCertificateExpired):
		f.Bad["nokkel"] = "Sertifikatet er utløpt eller ennå ikke gyldig (gyldig " + f.certs[0].NotBefore.Format("02.01.2006") + "–" + f.certs[0].NotAfter.Format("02.01.2006") + ")."
	case errors.Is(err, token.ErrCertificateOrgnr):
		f.Bad["nokkel"] = "Sertifikatet er ikke utstedt til virksomheten du handler for (organisasjonsnummer " + orgnr + "). Bruk virksomhetens eget virksomhetssertifikat."
	case err != nil:
		f.Bad["nokkel"] = notCertificate
	}
}

// certNote tells which certificate of a chain is the client's: the first,
// which the x5c of its JWTs must start with.
func certNote(f form) string {
	if len(f.certs) < 2 {
		return ""
	}
	return fmt.Sprintf(" Kjeden har %d sertifikater. Klientens sertifikat er det første (%s, gyldig til %s); x5c i JWT-ene må begynne med det.",
		len(f.certs), f.certs[0].Subject.CommonName, f.certs[0].NotAfter.Format("02.01.2006"))
}

// kidNote tells the key id given to a PEM public key, which the client puts in its JWTs' header.
func kidNote(f form) string {
	if f.KID == "" {
		return ""
	}
	return " Nøkkelen fikk nøkkel-id (kid) " + f.KID + ". Bruk den i headeren til JWT-ene."
}

const pastedPrivate = "Teksten inneholder en privat nøkkel. Lim inn bare sertifikatet; den private nøkkelen skal aldri forlate virksomheten."

const notCertificate = "Sertifikatet kunne ikke leses. Lim inn virksomhetssertifikatet i PEM-format (-----BEGIN CERTIFICATE-----)."

func (s *Feature) render(w http.ResponseWriter, r *http.Request, v *site.Visitor, f form) error {
	c, err := s.DB.Consumer(r.Context(), v.Org)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	}
	p := page{Frame: s.Frame(r, v, "API-klienter"), Approved: err == nil && c.Status == access.Active, Form: f,
		Errors: site.ErrorList(f.Bad, "type", "nokkel", "fil", "beskrivelse"), Registered: r.URL.Query().Get("ny")}
	if f.Client != "" { // the rotation form of one client: its fields have the client's id in their ids
		for i := range p.Errors {
			p.Errors[i].Field += "-" + f.Client
		}
		p.Form, p.Rotate = form{}, f
	}
	if p.Form.Kind == "" {
		p.Form.Kind = kindJWK
	}
	if p.Clients, err = s.DB.Clients(r.Context(), v.Org); err != nil {
		return err
	}
	if !p.Approved {
		p.Clients = nil
	}
	s.Render(w, r, "klienter.html", p)
	return nil
}

func (s *Feature) list(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	return s.render(w, r, v, form{})
}

// stoppedKeyMessage answers a key of a client stopped from a breach case (Rule AV-02).
const stoppedKeyMessage = "Nøkkelen tilhører en klient som registerforvalteren har stanset etter et avvik. Lag en ny nøkkel."

// keyRefusal is the form's message for a key the store refuses, "" for any
// other error: a stopped client's key (Rule AV-02; of another organisation
// said without naming anything), or a key the token server cannot use —
// never a server error.
func keyRefusal(err error) string {
	switch {
	case errors.Is(err, store.ErrStoppedKey):
		return stoppedKeyMessage
	case errors.Is(err, store.ErrKeyUnusable):
		return "Nøkkelen kan ikke brukes. Lag en ny nøkkel."
	case errors.Is(err, store.ErrBadKey):
		return "Nøkkelen kan ikke brukes: Aa-registeret tar RSA-nøkler på minst 2048 biter og EC-nøkler på P-256, også i sertifikater (ikke for eksempel Ed25519)."
	}
	return ""
}

// register adds a client of the organisation acted for, with the public key
// or certificate pasted or uploaded; its client id is made here, as
// Maskinporten does. The organisation is checked before the form is read.
func (s *Feature) register(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.DB.Consumer(r.Context(), v.Org)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Status != access.Active) {
		return httperr.ErrForbidden // only an organisation with access has clients
	} else if err != nil {
		return err
	}
	f := readKeyForm(w, r)
	id := uuid.NewString()
	info := store.ClientInfo{ID: id, Orgnr: v.Org, Description: f.Description, Keys: []store.ClientKey{f.key(id)}}
	f.checkCert(v.Org, s.Now())
	if len(f.Description) > 200 {
		f.Bad["beskrivelse"] = "Beskrivelsen kan ha høyst 200 tegn."
	}
	if len(f.Bad) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		return s.render(w, r, v, f)
	}
	if err := s.DB.AddClient(r.Context(), info, v.Actor()); keyRefusal(err) != "" {
		// Rule AV-02: a client stopped from a breach case does not come back under a new id.
		f.Bad["nokkel"] = keyRefusal(err)
		w.WriteHeader(http.StatusBadRequest)
		return s.render(w, r, v, f)
	} else if err != nil {
		return err
	}
	s.Flash(r, "Klienten er registrert. Bruk klient-id-en som iss i JWT-ene klienten sender til token-endepunktet."+kidNote(f)+certNote(f))
	site.Redirect(w, r, "/portal/klienter?ny="+id)
	return nil
}

// rotate replaces the key of an active client of the organisation acted for;
// any other client answers as one that does not exist.
func (s *Feature) rotate(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	id := r.PathValue("id")
	if c, err := s.DB.Client(r.Context(), id); err != nil || c.Orgnr != v.Org || !c.Active {
		return httperr.ErrNotFound
	}
	f := readKeyForm(w, r)
	f.Client = id
	k := f.key(id)
	f.checkCert(v.Org, s.Now())
	if len(f.Bad) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		return s.render(w, r, v, f)
	}
	if err := s.DB.RotateClientKey(r.Context(), v.Org, id, k, v.Actor()); errors.Is(err, store.ErrNotFound) {
		return httperr.ErrNotFound
	} else if keyRefusal(err) != "" {
		f.Bad["nokkel"] = keyRefusal(err)
		w.WriteHeader(http.StatusBadRequest)
		return s.render(w, r, v, f)
	} else if err != nil {
		return err
	}
	s.Flash(r, "Klienten har fått ny nøkkel. JWT-er signert med den gamle nøkkelen blir avvist fra nå av."+kidNote(f)+certNote(f))
	site.Redirect(w, r, "/portal/klienter")
	return nil
}

// revoke ends a client of the organisation acted for, with its event in the
// log; any other client answers as one that does not exist.
func (s *Feature) revoke(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if err := s.DB.RevokeClient(r.Context(), v.Org, r.PathValue("id"), v.Actor()); errors.Is(err, store.ErrNotFound) {
		return httperr.ErrNotFound
	} else if err != nil {
		return err
	}
	s.Flash(r, "Klienten er trukket tilbake. Den får ikke lenger tokener.")
	site.Redirect(w, r, "/portal/klienter")
	return nil
}
