package openid

import "testing"

// Only the allowed domains link staff by e-mail; none given allows any.
func TestEmailDomainAllowed(t *testing.T) {
	f := &Feature{emailDomains: []string{"etaten.no"}}
	for addr, want := range map[string]bool{"a@etaten.no": true, "A@ETATEN.NO": true, "a@evil.no": false, "a@sub.etaten.no": false, "etaten.no": false} {
		if got := f.emailDomainAllowed(addr); got != want {
			t.Errorf("%s: %v", addr, got)
		}
	}
	if !(&Feature{}).emailDomainAllowed("a@any.no") {
		t.Error("no domains given refused an address")
	}
}
