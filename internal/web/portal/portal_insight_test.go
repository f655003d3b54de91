package portal

import (
	"strings"
	"testing"
)

// noRecord are the routes of the consumer's lookup and extract areas that
// show a page or accept terms and write no record to the consumer's log.
var noRecord = map[string]bool{
	"GET /portal/oppslag":         true,
	"POST /portal/oppslag/vilkar": true,
	"GET /portal/uttrekk":         true,
	"GET /portal/uttrekk/jobber":  true,
}

// Issue 16, item 8 (no codes in user-facing text): every route of the
// portal's lookup, extract and log areas — the routes that write records to
// a consumer's log — has words in the consumer's log (operationLabels), or
// is known to write none. A route added there without a label fails here.
func TestEveryLoggedRouteHasALabel(t *testing.T) {
	n := 0
	for _, r := range (&Server{}).routeTable() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if !strings.HasPrefix(path, "/portal/oppslag") && !strings.HasPrefix(path, "/portal/uttrekk") {
			continue
		}
		n++
		if _, ok := operationLabels[r.Pattern]; !ok && !noRecord[r.Pattern] {
			t.Errorf("%s writes to the consumer's log without a label (operationLabels)", r.Pattern)
		}
	}
	if n < 8 {
		t.Fatalf("only %d routes in the logged areas: the table was not read", n)
	}
}
