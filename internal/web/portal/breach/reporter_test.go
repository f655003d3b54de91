package breach

import (
	"net/http/httptest"
	"testing"

	"deling/internal/incident"
)

// A person whose account ID-porten made has no name: the reporter is
// "Privatperson", not a blank (the review's finding 4).
func TestReporterNameOfAPersonWithoutName(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if got := (&Feature{}).reporterName(r, incident.Actor{UserID: "u1", Role: incident.Reporter}); got != "Privatperson" {
		t.Fatalf("reporter without a name: %q", got)
	}
	if got := (&Feature{}).reporterName(r, incident.Actor{Name: "Kari"}); got != "Kari" {
		t.Fatalf("reporter with a name: %q", got)
	}
}
