package post

import (
	"testing"

	"deling/internal/governance"
	dpv "deling/internal/post"
)

// Rule DPV-03 (review finding 7): the access page names a role holder who
// stands for DAGL, from before the role codes were kept, as a role holder
// without recorded codes — not as daglig leder —, others by the key roles
// recorded, and nobody without a key role.
func TestHolderLabel_DPV03(t *testing.T) {
	org := "310000001"
	holder := []governance.Membership{{Org: org, Role: governance.Rolleinnehaver}}
	for _, c := range []struct {
		why     string
		codes   []dpv.RoleCode
		standIn bool
		want    string
	}{
		{"a role holder from before the codes", nil, true, "Kari (rolleinnehaver, ingen rollekoder registrert)"},
		{"a role holder made since, none recorded", nil, false, ""},
		{"recorded codes, key roles only named", []dpv.RoleCode{"DAGL", "MEDL", "LEDE"}, true, "Kari (daglig leder, styrets leder)"},
		{"no key role recorded", []dpv.RoleCode{"MEDL"}, false, ""},
	} {
		roles, _ := dpv.PortalRoles(holder, org, c.codes, c.standIn)
		if got := holderLabel("Kari", c.codes, roles); got != c.want {
			t.Errorf("%s: %q, want %q", c.why, got, c.want)
		}
	}
}
