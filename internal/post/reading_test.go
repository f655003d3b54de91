package post

import (
	"testing"
	"time"

	"deling/internal/ident"
)

// Rule DPV-03: the reading-rights matrix.
func TestMayRead_DPV03(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	leader := Party{Kind: PartyPerson, Person: "01010112345"}
	employee := Party{Kind: PartyPerson, Person: "02020212345"}
	firm := Party{Kind: PartyOrganisation, Orgnr: orgB}
	robot := Party{Kind: PartyEnterpriseUser, Orgnr: orgC, Username: "arkiv"}
	deleg := func(to Party, r Right) Delegation {
		return Delegation{Org: orgA, To: to, Right: r, From: at.AddDate(0, 0, -1)}
	}
	revoked := at.Add(-time.Hour)
	ordinary := Readable{Recipient: orgA, Status: StatusPublished}
	confidential := Readable{Recipient: orgA, Status: StatusRead, Confidential: true}
	for _, tc := range []struct {
		name       string
		v          Viewer
		ordinary   bool
		confidentl bool
	}{
		{"daglig leder", Viewer{Party: leader, Roles: []RoleCode{"DAGL"}}, true, true},
		{"styreleder", Viewer{Party: leader, Roles: []RoleCode{"LEDE"}}, true, true},
		{"innehaver", Viewer{Party: leader, Roles: []RoleCode{"INNH"}}, true, true},
		{"bostyrer: key role, not for confidential", Viewer{Party: leader, Roles: []RoleCode{"BOBE"}}, true, false},
		{"styremedlem is no key role", Viewer{Party: employee, Roles: []RoleCode{"MEDL"}}, false, false},
		{"employee without anything", Viewer{Party: employee}, false, false},
		{"employee with Post/Arkiv", Viewer{Party: employee, Delegations: []Delegation{deleg(employee, RightPostArkiv)}}, true, false},
		{"employee with confidential", Viewer{Party: employee, Delegations: []Delegation{deleg(employee, RightConfidential)}}, true, true},
		{"revoked delegation", Viewer{Party: employee, Delegations: []Delegation{{Org: orgA, To: employee, Right: RightPostArkiv, From: at.AddDate(0, 0, -2), RevokedAt: &revoked}}}, false, false},
		{"delegation for another org", Viewer{Party: employee, Delegations: []Delegation{{Org: orgB, To: employee, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)}}}, false, false},
		{"delegation to someone else", Viewer{Party: employee, Delegations: []Delegation{deleg(leader, RightPostArkiv)}}, false, false},
		{"other organisation", Viewer{Party: firm, Delegations: []Delegation{deleg(firm, RightPostArkiv)}}, true, false},
		{"enterprise user", Viewer{Party: robot, Delegations: []Delegation{deleg(robot, RightPostArkiv)}}, true, false},
		{"access management alone does not read", Viewer{Party: employee, Delegations: []Delegation{deleg(employee, RightAccessManagement)}}, false, false},
		{"organisation cannot hold an ER role", Viewer{Party: firm, Roles: []RoleCode{"DAGL"}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.v.At = at
			if got := MayRead(tc.v, orgA, ordinary); got != tc.ordinary {
				t.Errorf("ordinary = %v, want %v", got, tc.ordinary)
			}
			if got := MayRead(tc.v, orgA, confidential); got != tc.confidentl {
				t.Errorf("confidential = %v, want %v", got, tc.confidentl)
			}
		})
	}
	v := Viewer{Party: leader, Roles: []RoleCode{"DAGL"}, At: at}
	if MayRead(v, orgA, Readable{Recipient: orgA, Status: StatusReadyForPublish}) {
		t.Error("unpublished readable")
	}
	if MayRead(v, orgA, Readable{Recipient: orgA, Status: StatusPurgedByRecipient}) {
		t.Error("purged readable")
	}
	if MayRead(v, orgB, ordinary) {
		t.Error("another organisation's post readable")
	}
}

// Rule DPV-03: only key role holders and holders of Tilgangsstyring delegate.
func TestMayDelegate_DPV03(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	employee := Party{Kind: PartyPerson, Person: "02020212345"}
	admin := Party{Kind: PartyPerson, Person: "03030312345"}
	to := Party{Kind: PartyPerson, Person: "04040412345"}
	mgmt := Delegation{Org: orgA, To: admin, Right: RightAccessManagement, From: at.AddDate(0, 0, -1)}
	for _, tc := range []struct {
		name string
		v    Viewer
		r    Right
		to   Party
		ok   bool
	}{
		{"daglig leder delegates Post/Arkiv", Viewer{Party: employee, Roles: []RoleCode{"DAGL"}}, RightPostArkiv, to, true},
		{"daglig leder delegates confidential", Viewer{Party: employee, Roles: []RoleCode{"DAGL"}}, RightConfidential, to, true},
		// Rule DPV-03 (Altinn 2): Tilgangsstyring alone gives only what its holder has.
		{"Tilgangsstyring without Post/Arkiv", Viewer{Party: admin, Delegations: []Delegation{mgmt}}, RightPostArkiv, to, false},
		{"Tilgangsstyring with Post/Arkiv", Viewer{Party: admin, Delegations: []Delegation{mgmt, {Org: orgA, To: admin, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)}}}, RightPostArkiv, to, true},
		{"portal Tilgangsstyring without Post/Arkiv", Viewer{Party: admin, Manages: true}, RightPostArkiv, to, false},
		{"Tilgangsstyring gives no Tilgangsstyring", Viewer{Party: admin, Delegations: []Delegation{mgmt}}, RightAccessManagement, to, false},
		{"daglig leder gives Tilgangsstyring", Viewer{Party: employee, Roles: []RoleCode{"DAGL"}}, RightAccessManagement, to, true},
		{"Tilgangsstyring without confidential", Viewer{Party: admin, Delegations: []Delegation{mgmt}}, RightConfidential, to, false},
		{"Post/Arkiv holder may not delegate", Viewer{Party: employee, Delegations: []Delegation{{Org: orgA, To: employee, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)}}}, RightPostArkiv, to, false},
		{"styreleder delegates Post/Arkiv to an organisation", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightPostArkiv, Party{Kind: PartyOrganisation, Orgnr: orgB}, true},
		{"confidential post to an organisation", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightConfidential, Party{Kind: PartyOrganisation, Orgnr: orgB}, true},
		{"no Tilgangsstyring to an organisation", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightAccessManagement, Party{Kind: PartyOrganisation, Orgnr: orgB}, false},
		{"to an organisation without a key role", Viewer{Party: employee, Delegations: []Delegation{{Org: orgA, To: employee, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)}}}, RightPostArkiv, Party{Kind: PartyOrganisation, Orgnr: orgB}, false},
		{"to an invalid organisation number", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightPostArkiv, Party{Kind: PartyOrganisation, Orgnr: "123"}, false},
		{"to itself as organisation", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightPostArkiv, Party{Kind: PartyOrganisation, Orgnr: orgA}, false},
		{"to an enterprise user", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightPostArkiv, Party{Kind: PartyEnterpriseUser, Orgnr: orgC, Username: "arkiv"}, true},
		{"to nobody", Viewer{Party: employee, Roles: []RoleCode{"LEDE"}}, RightPostArkiv, Party{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.v.At = at
			to := tc.to
			if to.Kind == PartyPerson {
				to.Person = validFnr(t)
			}
			bad := MayDelegate(tc.v, orgA, tc.r, to)
			if (len(bad) == 0) != tc.ok {
				t.Fatalf("MayDelegate = %v, want ok %v", bad, tc.ok)
			}
		})
	}
	// Nobody gives a right to themselves, not even a key role holder.
	self := Party{Kind: PartyPerson, User: "u1"}
	if bad := MayDelegate(Viewer{Party: self, Roles: []RoleCode{"DAGL"}, At: at}, orgA, RightPostArkiv, self); bad["mottaker"] == "" {
		t.Fatalf("delegating to oneself: %v", bad)
	}
}

func TestConfidentialRecipient(t *testing.T) {
	if p := ConfidentialRecipientOK([]RoleCode{"MEDL", "DAGL"}); p != nil {
		t.Error(p)
	}
	if p := ConfidentialRecipientOK([]RoleCode{"BOBE", "REGN"}); p == nil || p.Code != CodeConfidentialNoKeyRole {
		t.Errorf("no key role: %v", p)
	}
}

// Rule DPV-03: Post/Arkiv delegated to another organisation is read by that
// organisation's own readers, with the right they hold there too, one step
// only, and not after the delegation was revoked.
func TestThroughOrganisation_DPV03(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	accountant := Party{Kind: PartyPerson, User: "regnskap-leder"}
	clerk := Party{Kind: PartyPerson, User: "regnskap-ansatt"}
	revoked := at.Add(-time.Minute)
	// orgA gives orgB (the accountant) Post/Arkiv; orgC gives orgB confidential post.
	dels := []Delegation{
		{Org: orgA, To: Party{Kind: PartyOrganisation, Orgnr: orgB}, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)},
		{Org: orgC, To: Party{Kind: PartyOrganisation, Orgnr: orgB}, Right: RightConfidential, From: at.AddDate(0, 0, -1)},
		{Org: orgB, To: clerk, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)},
	}
	ordinary := func(org ident.Orgnr) Readable { return Readable{Recipient: org, Status: StatusPublished} }
	secret := func(org ident.Orgnr) Readable {
		return Readable{Recipient: org, Status: StatusPublished, Confidential: true}
	}
	leader := Viewer{Party: accountant, Roles: []RoleCode{"DAGL"}, At: at}
	if v := Through(leader, orgB, orgA, dels); !MayRead(v, orgA, ordinary(orgA)) || MayRead(v, orgA, secret(orgA)) {
		t.Error("the accountant's daglig leder reads orgA's ordinary post only")
	}
	if v := Through(leader, orgB, orgC, dels); !MayRead(v, orgC, secret(orgC)) {
		t.Error("the accountant's daglig leder reads orgC's confidential post")
	}
	if v := Through(leader, orgB, orgA, dels); v.Has(orgA, RightAccessManagement) || len(v.Roles) != 0 {
		t.Error("a key role in orgB is no key role in orgA")
	}
	employee := Viewer{Party: clerk, Delegations: dels, At: at}
	if v := Through(employee, orgB, orgA, dels); !MayRead(v, orgA, ordinary(orgA)) {
		t.Error("the accountant's employee with Post/Arkiv reads orgA's post")
	}
	if v := Through(employee, orgB, orgC, dels); MayRead(v, orgC, secret(orgC)) || MayRead(v, orgC, ordinary(orgC)) {
		t.Error("confidential post given to orgB needs confidential post in orgB")
	}
	if v := Through(Viewer{Party: Party{Kind: PartyPerson, User: "x"}, At: at}, orgB, orgA, dels); MayRead(v, orgA, ordinary(orgA)) {
		t.Error("orgB's user without Post/Arkiv reads orgA's post")
	}
	if got := OrgsThrough(leader, orgB, dels); len(got) != 2 || got[0] != orgA || got[1] != orgC {
		t.Errorf("OrgsThrough = %v", got)
	}
	gone := append([]Delegation(nil), dels...)
	gone[0].RevokedAt = &revoked
	if v := Through(leader, orgB, orgA, gone); MayRead(v, orgA, ordinary(orgA)) {
		t.Error("read after the delegation was revoked")
	}
	// One step: orgB cannot pass orgA's post on to a third organisation.
	onward := append(dels, Delegation{Org: orgB, To: Party{Kind: PartyOrganisation, Orgnr: orgC}, Right: RightPostArkiv, From: at.AddDate(0, 0, -1)})
	if v := Through(Viewer{Party: accountant, Roles: []RoleCode{"DAGL"}, At: at}, orgC, orgA, onward); MayRead(v, orgA, ordinary(orgA)) {
		t.Error("orgA's post passed on through orgB to orgC")
	}
}
