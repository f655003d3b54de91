package governance

import "testing"

// TestInEEA_DPA06: Norway and the EU/EEA need no transfer instruction; the
// adequacy countries and the rest do.
func TestInEEA_DPA06(t *testing.T) {
	for name, want := range map[string]bool{"Norge": true, "sverige": true, "Island": true, "Liechtenstein": true,
		"Japan": false, "USA": false, "Storbritannia": false, "India": false, "": false} {
		if got := InEEA(name); got != want {
			t.Errorf("InEEA(%q) = %v, want %v", name, got, want)
		}
	}
	if n, ok := CountryName(" usa "); !ok || n != "USA" {
		t.Errorf("CountryName = %q, %v", n, ok)
	}
	if _, ok := CountryName("India"); ok {
		t.Error("India is not on the list")
	}
}
