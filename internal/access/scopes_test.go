package access

import (
	"errors"
	"slices"
	"testing"
	"time"

	"deling/internal/register"
)

func TestScopes(t *testing.T) {
	const scope = "nav:aareg/v2/arbeidsforhold"
	ceased := kommune
	ceased.Status = Ceased
	active := apiGrant("g1", kommune.Orgnr, ByArbeidstaker)
	web := active
	web.Channel = ChannelWeb
	extract := active
	extract.Channel = ChannelExtract
	prod := active
	prod.Env = register.EnvProd
	suspended := active
	suspended.Status, suspended.Suspension = Suspended, SuspendedByRegister
	later := active
	later.ValidFrom = t0.Add(time.Hour)
	expired := t0.Add(-time.Minute)
	delegation := Delegation{ID: "d1", Consumer: kommune.Orgnr, Processor: supplier, ValidFrom: t0.Add(-time.Hour), Status: Active}
	endedDelegation := delegation
	endedDelegation.Status = Ended
	expiredDelegation := delegation
	expiredDelegation.ValidTo = &expired
	other := delegation
	other.Processor = "310000004"

	for _, c := range []struct {
		name  string
		in    Inputs
		asker string
		want  []string
		errIs error
	}{
		{"AA-13: the consumer itself, an active API grant", Inputs{Consumer: &kommune, Grants: []Grant{active}}, kommune.Orgnr, []string{scope}, nil},
		{"an extract grant opens the API too", Inputs{Consumer: &kommune, Grants: []Grant{extract}}, kommune.Orgnr, []string{scope}, nil},
		{"a web grant only: no scope", Inputs{Consumer: &kommune, Grants: []Grant{web}}, kommune.Orgnr, nil, nil},
		{"a grant in another environment: no scope", Inputs{Consumer: &kommune, Grants: []Grant{prod}}, kommune.Orgnr, nil, nil},
		{"AA-25: a suspended grant: no scope", Inputs{Consumer: &kommune, Grants: []Grant{suspended}}, kommune.Orgnr, nil, nil},
		{"a grant not yet in force: no scope", Inputs{Consumer: &kommune, Grants: []Grant{later}}, kommune.Orgnr, nil, nil},
		{"not a consumer: no scope", Inputs{}, kommune.Orgnr, nil, nil},
		{"AA-26: a ceased consumer: no scope", Inputs{Consumer: &ceased, Grants: []Grant{active}}, kommune.Orgnr, nil, nil},
		{"AA-26: a ceased consumer, also for its processor", Inputs{Consumer: &ceased, Grants: []Grant{active}, Delegations: []Delegation{delegation}}, supplier, nil, nil},
		{"SK-04: a processor under an active delegation", Inputs{Consumer: &kommune, Grants: []Grant{active}, Delegations: []Delegation{delegation}}, supplier, []string{scope}, nil},
		{"SK-04: a processor under an active delegation, no grant: no scope", Inputs{Consumer: &kommune, Delegations: []Delegation{delegation}}, supplier, nil, nil},
		{"AA-13, SK-04: a processor without a delegation", Inputs{Consumer: &kommune, Grants: []Grant{active}}, supplier, nil, ErrNotDelegated},
		{"AA-13, SK-04: a processor whose delegation ended", Inputs{Consumer: &kommune, Grants: []Grant{active}, Delegations: []Delegation{endedDelegation}}, supplier, nil, ErrNotDelegated},
		{"AA-13, SK-04: a processor whose delegation expired", Inputs{Consumer: &kommune, Grants: []Grant{active}, Delegations: []Delegation{expiredDelegation}}, supplier, nil, ErrNotDelegated},
		{"SK-04: another processor's delegation", Inputs{Consumer: &kommune, Grants: []Grant{active}, Delegations: []Delegation{other}}, supplier, nil, ErrNotDelegated},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Scopes(c.in, kommune.Orgnr, c.asker, register.EnvTest, scope, t0)
			if !errors.Is(err, c.errIs) || (c.errIs == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.errIs)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("scopes = %v, want %v", got, c.want)
			}
		})
	}
}
