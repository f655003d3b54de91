package portal

import "testing"

// Only local paths are returned to after sign-in (moved from TestSignIn).
func TestSafeNext(t *testing.T) {
	// Only local paths are returned to.
	for _, bad := range []string{"//evil.example/x", "https://evil.example", "/\t/evil.example", "/%09/evil.example", "/\\evil.example",
		"/portal\n/x", "javascript:alert(1)", "/api/v2/x", "/../evil", "///evil.example"} {
		if got := safeNext(bad); got != "" {
			t.Errorf("safeNext(%q) = %q", bad, got)
		}
	}
	if safeNext("/portal") != "/portal" || safeNext("/portal/soknader/ny") != "/portal/soknader/ny" {
		t.Fatal("safeNext refuses a portal path")
	}
}
