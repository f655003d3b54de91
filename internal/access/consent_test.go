package access

import (
	"errors"
	"reflect"
	"testing"
)

func TestConsentPurposes(t *testing.T) {
	grants := []Grant{{Consent: true, Purpose: "lån"}, {Purpose: "kontroll"}, {Consent: true, Purpose: "bolig"},
		{Consent: true, Purpose: "forsikring"}, {Consent: true, Purpose: "lån"}}
	if got := ConsentPurposes(grants); !reflect.DeepEqual(got, []string{"bolig", "forsikring", "lån"}) {
		t.Fatalf("got %v", got)
	}
}

// Rule SK-08: what a person gets under a plan, by whether their consent is
// needed and given, and what the grants not resting on consent give alone.
func TestConsentPlan(t *testing.T) {
	cat := testCatalogue(t)
	statute := apiGrant("g-lov", kommune.Orgnr, ByArbeidstaker)
	consentBasic := apiGrant("g-samtykke", kommune.Orgnr, ByArbeidstaker)
	consentBasic.Consent, consentBasic.Purpose = true, "lån"
	consentMore := consentBasic
	consentMore.ID, consentMore.Packages = "g-samtykke-mer", []string{"grunnopplysninger@1", "stillingsdetaljer@1"}
	req := Request{Consumer: kommune.Orgnr, Channel: ChannelAPI, Kind: ByArbeidstaker, Env: statute.Env}
	failing := errors.New("store down")
	for _, tc := range []struct {
		name      string
		grants    []Grant
		consented bool
		err       error
		needed    bool
		want      Delivery
		asked     bool
	}{
		{"statute alone: no consent asked", []Grant{statute}, false, nil, false, DeliverFull, false},
		{"consent alone, given", []Grant{consentBasic}, true, nil, true, DeliverFull, true},
		{"consent alone, missing", []Grant{consentBasic}, false, nil, true, DeliverNothing, true},
		{"consent alone, lookup fails", []Grant{consentBasic}, true, failing, true, DeliverNothing, true},
		{"statute gives as much: no consent asked", []Grant{statute, consentBasic}, false, nil, false, DeliverFull, false},
		{"consent adds packages, given", []Grant{statute, consentMore}, true, nil, true, DeliverFull, true},
		{"consent adds packages, missing: the statute grant's view", []Grant{statute, consentMore}, false, nil, true, DeliverOther, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Inputs{Consumer: &kommune, Grants: tc.grants, Catalogue: cat}
			d := Decide(req, in, t0)
			plan := PlanConsent(req, in, d, t0)
			if plan.Needed != tc.needed {
				t.Fatalf("needed %v, want %v", plan.Needed, tc.needed)
			}
			asked := false
			got, err := plan.Deliver("p1", func(person string, purposes []string) (bool, error) {
				asked = true
				if person != "p1" || !reflect.DeepEqual(purposes, []string{"lån"}) {
					t.Errorf("asked for %s %v", person, purposes)
				}
				return tc.consented, tc.err
			})
			if got != tc.want || asked != tc.asked || !errors.Is(err, tc.err) {
				t.Fatalf("got %v asked %v err %v, want %v asked %v", got, asked, err, tc.want, tc.asked)
			}
			if got == DeliverOther && (len(plan.Other.Grants) != 1 || plan.Other.Grants[0].ID != "g-lov") {
				t.Fatalf("other decision rests on %+v", plan.Other.Grants)
			}
		})
	}
}
