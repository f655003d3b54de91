package post

import (
	"net/http"
	"slices"
	"strings"

	"deling/internal/ident"
	dpv "deling/internal/post"
	"deling/internal/store"
	"deling/internal/web/httperr"
	"deling/internal/web/portal/site"
)

// Rule DPV-03: Post/Arkiv can be delegated to persons (the organisation's
// users in the portal), enterprise users (API clients, by their client id)
// and other organisations (by organisation number: their own readers then
// read it in the portal, dpv.Through), only by key role holders or holders
// of the access-management role (who give only what they hold), never to
// oneself (dpv.MayDelegate; store.DelegatePost checks it again).

type accessPage struct {
	site.Frame
	Rows    []accessRow
	Users   []option
	Rights  []option
	Kinds   []option
	Values  map[string]string
	Errors  map[string]string
	Summary []site.FieldError
	Holders []string // key role holders, who read automatically
}

type accessRow struct {
	ID, Who, Kind, Right, By, From string
}

type option struct {
	Value, Label string
	Selected     bool
}

var accessFields = []string{"type", "bruker", "brukernavn", "orgnr", "rett"}

// mayManage is the visitor as a reader, when they may delegate; else ErrForbidden.
func (s *Feature) mayManage(r *http.Request, v *site.Visitor) (dpv.Viewer, error) {
	vw, err := s.viewer(r.Context(), v, ident.Orgnr(v.Org))
	if err != nil {
		return vw, err
	}
	if !vw.Has(ident.Orgnr(v.Org), dpv.RightAccessManagement) {
		return vw, httperr.ErrForbidden
	}
	return vw, nil
}

func (s *Feature) accessPage(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if _, err := s.mayManage(r, v); err != nil {
		return err
	}
	return s.renderAccess(w, r, v, map[string]string{"type": string(dpv.PartyPerson), "rett": string(dpv.RightPostArkiv)}, nil)
}

func (s *Feature) renderAccess(w http.ResponseWriter, r *http.Request, v *site.Visitor, vals, bad map[string]string) error {
	ctx := r.Context()
	members, err := s.DB.OrgMembers(ctx, v.Org)
	if err != nil {
		return err
	}
	codes, err := s.DB.PostRoleCodes(ctx, ident.Orgnr(v.Org))
	if err != nil {
		return err
	}
	standIns, err := s.DB.PostRoleStandIns(ctx, ident.Orgnr(v.Org))
	if err != nil {
		return err
	}
	names := map[string]string{}
	p := accessPage{Frame: s.Frame(r, v, "Tilgang til post"), Values: vals, Errors: bad, Summary: site.ErrorList(bad, accessFields...)}
	for _, m := range members {
		names[m.User.ID] = m.User.Navn
		p.Users = append(p.Users, option{Value: m.User.ID, Label: m.User.Navn + " (" + m.User.Email + ")", Selected: vals["bruker"] == m.User.ID})
		// Rule DPV-03: a key role holder reads automatically.
		roles, _ := dpv.PortalRoles(m.Roles, v.Org, codes[m.User.ID], standIns[m.User.ID])
		if l := holderLabel(m.User.Navn, codes[m.User.ID], roles); l != "" {
			p.Holders = append(p.Holders, l)
		}
	}
	for _, rt := range []dpv.Right{dpv.RightPostArkiv, dpv.RightConfidential, dpv.RightAccessManagement} {
		p.Rights = append(p.Rights, option{Value: string(rt), Label: rt.Label(), Selected: vals["rett"] == string(rt)})
	}
	for _, k := range []struct {
		k dpv.PartyKind
		l string
	}{{dpv.PartyPerson, "En bruker i virksomheten"}, {dpv.PartyEnterpriseUser, "En virksomhetsbruker (API-klient)"},
		{dpv.PartyOrganisation, "En annen virksomhet (for eksempel regnskapsfører)"}} {
		p.Kinds = append(p.Kinds, option{Value: string(k.k), Label: k.l, Selected: vals["type"] == string(k.k)})
	}
	dels, err := s.DB.PostDelegations(ctx, ident.Orgnr(v.Org))
	if err != nil {
		return err
	}
	now := s.Now()
	for _, d := range dels {
		if !d.InForce(now) {
			continue
		}
		p.Rows = append(p.Rows, accessRow{ID: d.ID, Who: partyName(d.To, names), Kind: kindLabel(d.To.Kind), Right: d.Right.Label(),
			By: partyName(d.By, names), From: s.OsloTime(d.From)})
	}
	if len(bad) > 0 {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	s.Render(w, r, "post_tilgang.html", p)
	return nil
}

// partyName names a party without a fødselsnummer: a user by name.
func partyName(p dpv.Party, users map[string]string) string {
	switch p.Kind {
	case dpv.PartyPerson:
		if n, ok := users[p.User]; ok {
			return n
		}
		return "Tidligere bruker"
	case dpv.PartyOrganisation:
		return "org.nr. " + string(p.Orgnr)
	case dpv.PartyEnterpriseUser:
		return p.Username + " (" + string(p.Orgnr) + ")"
	}
	return string(p.Kind)
}

func kindLabel(k dpv.PartyKind) string {
	switch k {
	case dpv.PartyPerson:
		return "Person"
	case dpv.PartyOrganisation:
		return "Virksomhet"
	case dpv.PartyEnterpriseUser:
		return "Virksomhetsbruker"
	}
	return string(k)
}

// grant gives Post/Arkiv (or confidential post, or the access-management
// role) to a party; a refusal shows the form again by field, nothing stored.
func (s *Feature) grant(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	vw, err := s.mayManage(r, v)
	if err != nil {
		return err
	}
	vals := map[string]string{}
	for _, f := range accessFields {
		vals[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	org := ident.Orgnr(v.Org)
	to := dpv.Party{Kind: dpv.PartyKind(vals["type"])}
	bad := map[string]string{}
	switch to.Kind {
	case dpv.PartyPerson:
		to.User = vals["bruker"]
		members, err := s.DB.OrgMembers(r.Context(), v.Org)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(members, func(m store.OrgMember) bool { return m.User.ID == to.User }) {
			bad["bruker"] = "Velg en av virksomhetens brukere."
		}
	case dpv.PartyEnterpriseUser:
		to.Orgnr, to.Username = org, vals["brukernavn"]
	case dpv.PartyOrganisation:
		to.Orgnr = ident.Orgnr(vals["orgnr"])
	}
	// Rule DPV-03: who may give what to whom.
	for f, msg := range dpv.MayDelegate(vw, org, dpv.Right(vals["rett"]), to) {
		if f == "mottaker" {
			f = map[dpv.PartyKind]string{dpv.PartyPerson: "bruker", dpv.PartyEnterpriseUser: "brukernavn", dpv.PartyOrganisation: "orgnr"}[to.Kind]
			if f == "" {
				f = "type"
			}
		}
		if _, ok := bad[f]; !ok {
			bad[f] = msg
		}
	}
	if len(bad) > 0 {
		return s.renderAccess(w, r, v, vals, bad)
	}
	if _, err := s.DB.DelegatePost(r.Context(), dpv.Delegation{Org: org, To: to, Right: dpv.Right(vals["rett"]), By: vw.Party}, v.Actor()); err != nil {
		return err
	}
	s.Flash(r, "Tilgangen er gitt.")
	site.Redirect(w, r, "/portal/post/tilgang")
	return nil
}

// revoke takes a delegation back; one of another organisation is not found.
func (s *Feature) revoke(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	if _, err := s.mayManage(r, v); err != nil {
		return err
	}
	if err := s.DB.RevokePostDelegation(r.Context(), ident.Orgnr(v.Org), r.PathValue("id"), v.Actor()); err != nil {
		return err
	}
	s.Flash(r, "Tilgangen er trukket tilbake.")
	site.Redirect(w, r, "/portal/post/tilgang")
	return nil
}

// F is a text field of the form with the user's input and its error.
func (p accessPage) F(name, label, help string) site.Field {
	return site.Field{Name: name, Label: label, Value: p.Values[name], Error: p.Errors[name], Help: help}
}

// holderLabel names someone who reads by role on the access page: by their
// key roles, or, for a role holder from before the role codes were kept,
// standing for DAGL (dpv.PortalRoles), as that; "" for one without a key
// role (Rule DPV-03; review finding 7).
func holderLabel(name string, codes, roles []dpv.RoleCode) string {
	if len(codes) == 0 && slices.Contains(roles, dpv.KeyRoleOfRoleHolder) {
		return name + " (rolleinnehaver, ingen rollekoder registrert)"
	}
	var labels []string
	for _, c := range roles {
		if dpv.IsKeyRole(c) {
			labels = append(labels, strings.ToLower(c.Label()))
		}
	}
	if len(labels) == 0 {
		return ""
	}
	return name + " (" + strings.Join(labels, ", ") + ")"
}
