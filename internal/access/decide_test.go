package access

import (
	"slices"
	"testing"
	"time"

	"deling/internal/register"
)

var (
	t0       = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	kommune  = Consumer{Orgnr: "310000001", Navn: "Demo kommune", Status: Active}
	pensjon  = Consumer{Orgnr: "310000002", Navn: "Demo pensjon", Status: Active}
	supplier = "310000003"
)

func apiGrant(id, consumer string, kinds ...QueryKind) Grant {
	return Grant{ID: id, Consumer: consumer, Packages: []string{"grunnopplysninger@1"}, Channel: ChannelAPI,
		Env: register.EnvTest, QueryKinds: kinds, ValidFrom: t0.Add(-time.Hour), Status: Active}
}

func testCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := ParseCatalogue(DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecide(t *testing.T) {
	cat := testCatalogue(t)
	ended := t0.Add(-time.Minute)
	suspended := apiGrant("g-susp", kommune.Orgnr, ByArbeidstaker)
	suspended.Status = Suspended
	expired := apiGrant("g-exp", kommune.Orgnr, ByArbeidstaker)
	expired.ValidTo = &ended
	endedGrant := apiGrant("g-end", kommune.Orgnr, ByArbeidstaker)
	endedGrant.Status = Ended
	future := apiGrant("g-fut", kommune.Orgnr, ByArbeidstaker)
	future.ValidFrom = t0.Add(time.Hour)
	webOnly := apiGrant("g-web", kommune.Orgnr, ByArbeidstaker)
	webOnly.Channel = ChannelWeb
	prodOnly := apiGrant("g-prod", kommune.Orgnr, ByArbeidstaker)
	prodOnly.Env = register.EnvProd
	withHistory := apiGrant("g-hist", kommune.Orgnr, ByArbeidstaker)
	withHistory.Packages = []string{"grunnopplysninger@1", "historikk@1"}
	ceased := kommune
	ceased.Status = Ceased
	delegation := Delegation{ID: "d1", Consumer: pensjon.Orgnr, Processor: supplier, DPARef: "DBA-1", ValidFrom: t0.Add(-time.Hour), Status: Active}
	endedDelegation := delegation
	endedDelegation.Status = Ended
	otherDelegation := delegation
	otherDelegation.Consumer = kommune.Orgnr
	webDelegation := delegation
	webDelegation.Channels = []Channel{ChannelWeb}
	suspendedDelegation := delegation
	suspendedDelegation.Status = Suspended

	req := Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker}
	proc := Request{Consumer: pensjon.Orgnr, Processor: supplier, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker}
	for _, tc := range []struct {
		name   string
		req    Request
		in     Inputs
		reason Reason // "" means permit
		grants []string
	}{
		{"permit", req, Inputs{Consumer: &kommune, Grants: []Grant{apiGrant("g1", kommune.Orgnr, ByArbeidstaker)}}, "", []string{"g1"}},
		// Deny by default.
		{"not a consumer", req, Inputs{}, DenyUnknownConsumer, nil},
		{"consumer record of another organisation", req, Inputs{Consumer: &pensjon}, DenyUnknownConsumer, nil},
		{"no grants at all", req, Inputs{Consumer: &kommune}, DenyNoGrant, nil},
		// Rule AA-02: channel, environment and query kind must be granted.
		{"AA-02 web grant does not cover api", req, Inputs{Consumer: &kommune, Grants: []Grant{webOnly}}, DenyNoGrant, nil},
		{"AA-02 prod grant does not cover test", req, Inputs{Consumer: &kommune, Grants: []Grant{prodOnly}}, DenyNoGrant, nil},
		{"AA-02 query kind not granted", Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidssted},
			Inputs{Consumer: &kommune, Grants: []Grant{apiGrant("g1", kommune.Orgnr, ByArbeidstaker)}}, DenyQueryKind, nil},
		{"AA-02 another consumer's grant", req, Inputs{Consumer: &kommune, Grants: []Grant{apiGrant("g2", pensjon.Orgnr, ByArbeidstaker)}}, DenyNoGrant, nil},
		{"grant not yet valid", req, Inputs{Consumer: &kommune, Grants: []Grant{future}}, DenyNoGrant, nil},
		// Rule AA-25: suspension takes effect at once.
		{"AA-25 suspended", req, Inputs{Consumer: &kommune, Grants: []Grant{suspended}}, DenyGrantSuspended, nil},
		// Rule AA-26: ended grants and ceased consumers get nothing.
		{"AA-26 ended", req, Inputs{Consumer: &kommune, Grants: []Grant{endedGrant}}, DenyGrantEnded, nil},
		{"AA-26 expired", req, Inputs{Consumer: &kommune, Grants: []Grant{expired}}, DenyGrantEnded, nil},
		{"AA-26 consumer ceased", req, Inputs{Consumer: &ceased, Grants: []Grant{apiGrant("g1", kommune.Orgnr, ByArbeidstaker)}}, DenyConsumerCeased, nil},
		{"active grant beside an ended one", req, Inputs{Consumer: &kommune, Grants: []Grant{endedGrant, apiGrant("g1", kommune.Orgnr, ByArbeidstaker)}}, "", []string{"g1"}},
		// Rules AA-13, SK-04: a processor needs an active delegation from this consumer, and the consumer's grant.
		{"AA-13 processor with delegation", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}, Delegations: []Delegation{delegation}}, "", []string{"gp"}},
		{"AA-13 processor without delegation", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}}, DenyNoDelegation, nil},
		{"AA-13 delegation ended", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}, Delegations: []Delegation{endedDelegation}}, DenyNoDelegation, nil},
		{"SK-04 delegation of another channel", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}, Delegations: []Delegation{webDelegation}}, DenyNoDelegation, nil},
		{"DPA-11 delegation suspended by a stop order", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}, Delegations: []Delegation{suspendedDelegation}}, DenyNoDelegation, nil},
		{"SK-04 delegation from another consumer", proc, Inputs{Consumer: &pensjon, Grants: []Grant{apiGrant("gp", pensjon.Orgnr, ByArbeidstaker)}, Delegations: []Delegation{otherDelegation}}, DenyNoDelegation, nil},
		{"AA-13 processor's access ends with the consumer's", proc, Inputs{Consumer: &pensjon, Grants: []Grant{suspended}, Delegations: []Delegation{delegation}}, DenyNoGrant, nil},
		// Rule AA-07: history only with a package that allows it.
		{"AA-07 history not granted", Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker, History: true},
			Inputs{Consumer: &kommune, Grants: []Grant{apiGrant("g1", kommune.Orgnr, ByArbeidstaker)}, Catalogue: cat}, DenyHistory, nil},
		{"AA-07 history granted", Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker, History: true},
			Inputs{Consumer: &kommune, Grants: []Grant{withHistory}, Catalogue: cat}, "", []string{"g-hist"}},
	} {
		d := Decide(tc.req, tc.in, t0)
		if d.Permit != (tc.reason == "") || d.Reason != tc.reason {
			t.Errorf("%s: got permit=%v reason=%q, want reason %q", tc.name, d.Permit, d.Reason, tc.reason)
			continue
		}
		var ids []string
		for _, g := range d.Grants {
			ids = append(ids, g.ID)
		}
		if len(ids) != len(tc.grants) || (len(ids) > 0 && ids[0] != tc.grants[0]) {
			t.Errorf("%s: grants %v, want %v", tc.name, ids, tc.grants)
		}
		if !d.Permit && (len(d.Packages) > 0 || len(d.Grants) > 0) {
			t.Errorf("%s: a denial carries packages %v", tc.name, d.Packages)
		}
	}
}

// Rule SK-05: a decision gives exactly the union of its grants' packages.
func TestDecidePackagesAreTheGrantsUnion(t *testing.T) {
	a := apiGrant("a", kommune.Orgnr, ByArbeidstaker)
	a.Packages = []string{"grunnopplysninger@1", "permisjoner@1"}
	b := apiGrant("b", kommune.Orgnr, ByArbeidstaker, ByArbeidssted)
	b.Packages = []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
	c := apiGrant("c", kommune.Orgnr, ByArbeidssted) // does not allow the query kind: its packages do not count
	c.Packages = []string{"sporing@1"}
	d := Decide(Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker},
		Inputs{Consumer: &kommune, Grants: []Grant{a, b, c}}, t0)
	want := []string{"grunnopplysninger@1", "permisjoner@1", "stillingsdetaljer@1"}
	if len(d.Packages) != len(want) {
		t.Fatalf("packages: got %v, want %v", d.Packages, want)
	}
	for i := range want {
		if d.Packages[i] != want[i] {
			t.Fatalf("packages: got %v, want %v", d.Packages, want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	a := apiGrant("a", kommune.Orgnr, ByArbeidstaker)
	if got := RateLimit([]Grant{a}, ChannelAPI, t0); got != DefaultRateLimit {
		t.Errorf("default: got %d, want %d", got, DefaultRateLimit)
	}
	a.RateLimit = 50
	b := apiGrant("b", kommune.Orgnr, ByArbeidstaker)
	b.RateLimit = 500
	b.Status = Suspended
	if got := RateLimit([]Grant{a, b}, ChannelAPI, t0); got != 50 {
		t.Errorf("suspended grant's limit counted: got %d, want 50", got)
	}
}

func TestCatalogue(t *testing.T) {
	cat := testCatalogue(t)
	if len(cat.Packages()) < 7 {
		t.Fatalf("default packages: got %d, want the 7 defaults", len(cat.Packages()))
	}
	p, err := cat.Resolve("stillingsdetaljer")
	if err != nil || p.Ref() != "stillingsdetaljer@1" {
		t.Fatalf("resolve latest: got %v, %v", p.Ref(), err)
	}
	if _, err := cat.Resolve("alt@1"); err == nil {
		t.Fatal("unknown package resolved")
	}
	if _, err := ParseCatalogue([]byte(`{"packages":[{"id":"x","version":1,"elements":["uuid"],"etiketter":{"uuid":"Id"}}]}`)); err != nil {
		t.Fatalf("a good package: %v", err)
	}
	if l := p.Label("ansettelsesdetaljer.yrke"); l != "Yrke" {
		t.Errorf("label of yrke: %q", l)
	}
	for _, bad := range []string{
		`{"packages":[{"id":"x","version":1,"elements":["skonummer"],"etiketter":{"skonummer":"Skonummer"}}]}`,
		`{"packages":[{"id":"x","version":1,"elements":["uuid"],"etiketter":{"uuid":"Id"}},{"id":"x","version":1,"elements":["uuid"],"etiketter":{"uuid":"Id"}}]}`,
		`{"packages":[{"id":"x@y","version":1,"elements":["uuid"],"etiketter":{"uuid":"Id"}}]}`,
		// Issue 16, item 8: every element has a Norwegian label, and a label names an element of the package.
		`{"packages":[{"id":"x","version":1,"elements":["uuid"]}]}`,
		`{"packages":[{"id":"x","version":1,"elements":["uuid"],"etiketter":{"uuid":" "}}]}`,
		`{"packages":[{"id":"x","version":1,"elements":["uuid"],"etiketter":{"uuid":"Id","type":"Type"}}]}`,
		`{"packages":[]}`,
		`{"pakker":[]}`,
	} {
		if _, err := ParseCatalogue([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	cat, _ := ParseCatalogue(DefaultPackages())
	in := Inputs{Consumer: &pensjon, Catalogue: cat, Grants: []Grant{
		apiGrant("a", pensjon.Orgnr, ByArbeidssted),
		apiGrant("b", pensjon.Orgnr, ByArbeidstaker, ByArbeidssted),
	}, Delegations: []Delegation{{Consumer: pensjon.Orgnr, Processor: supplier, ValidFrom: t0.Add(-time.Hour), Status: Active}}}
	req := Request{Consumer: pensjon.Orgnr, Processor: supplier, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker}
	for b.Loop() {
		if d := Decide(req, in, t0); !d.Permit {
			b.Fatal(d.Reason)
		}
	}
}

// Rules SK-04, AA-02: a processor gets only the packages both the grant and
// its delegations give; a delegation naming no packages (made before
// delegations named them) gives all the grant gives; the consumer itself is
// not limited by any delegation.
func TestDecideProcessorPackages(t *testing.T) {
	g := apiGrant("g1", pensjon.Orgnr, ByArbeidstaker)
	g.Packages = []string{"grunnopplysninger@1", "historikk@1", "stillingsdetaljer@1"}
	d := Delegation{ID: "d1", Consumer: pensjon.Orgnr, Processor: supplier, Channels: []Channel{ChannelAPI},
		Packages: []string{"grunnopplysninger@1", "permisjoner@1"}, ValidFrom: t0.Add(-time.Hour), Status: Active}
	legacy := d
	legacy.Packages = nil
	proc := Request{Consumer: pensjon.Orgnr, Processor: supplier, Channel: ChannelAPI, Env: register.EnvTest, Kind: ByArbeidstaker}
	own := proc
	own.Processor = ""
	for _, tc := range []struct {
		name   string
		req    Request
		ds     []Delegation
		want   []string
		reason Reason
	}{
		{"intersection", proc, []Delegation{d}, []string{"grunnopplysninger@1"}, ""},
		{"two delegations: their union", proc, []Delegation{d, {Consumer: pensjon.Orgnr, Processor: supplier, Packages: []string{"historikk@1"},
			ValidFrom: t0.Add(-time.Hour), Status: Active}}, []string{"grunnopplysninger@1", "historikk@1"}, ""},
		{"legacy delegation: all the grant gives", proc, []Delegation{legacy}, g.Packages, ""},
		{"the consumer itself", own, []Delegation{d}, g.Packages, ""},
		{"nothing in common", proc, []Delegation{{Consumer: pensjon.Orgnr, Processor: supplier, Packages: []string{"permisjoner@1"},
			ValidFrom: t0.Add(-time.Hour), Status: Active}}, nil, DenyPackageNotDelegated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.req, Inputs{Consumer: &pensjon, Grants: []Grant{g}, Delegations: tc.ds}, t0)
			if got.Reason != tc.reason || !slices.Equal(got.Packages, tc.want) {
				t.Fatalf("got %q %v, want %q %v", got.Reason, got.Packages, tc.reason, tc.want)
			}
		})
	}
}
