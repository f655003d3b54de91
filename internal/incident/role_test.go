package incident_test

import (
	"testing"

	"deling/internal/governance"
	"deling/internal/incident"
)

// The portal converts a governance membership to an incident.Actor by value;
// this test keeps the two packages' names the same.
func TestRolesMatchGovernance(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{string(incident.CaseWorker), string(governance.Saksbehandler)},
		{string(incident.DPO), string(governance.Personvernombud)},
		{incident.ControllerOrg, governance.AuthorityOrg},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
