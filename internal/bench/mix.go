package bench

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The request kinds of the bench workload.
const (
	KindPerson   = "person"   // GET /api/v2/arbeidstaker/arbeidsforhold
	KindSearch   = "search"   // POST /api/v2/arbeidsforhold/sok by arbeidssted
	KindUUID     = "uuid"     // GET /api/v2/arbeidsforhold/{uuid}
	KindBaseline = "baseline" // the bare net/http handler
)

// Kinds are the request kinds of the API workload, in report order.
var Kinds = []string{KindPerson, KindSearch, KindUUID}

// Mix is the weights of the request kinds (the --mix flag): each request is
// of a kind drawn by them.
type Mix map[string]int

// String is the mix as the flag takes it: "person=80,search=10,uuid=10".
func (m Mix) String() string {
	var parts []string
	for _, k := range Kinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ",")
}

// Set parses kind=weight,…; at least one weight must be above 0.
func (m Mix) Set(v string) error {
	clear(m)
	sum := 0
	for _, part := range strings.Split(v, ",") {
		k, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(Kinds, k) {
			return fmt.Errorf("want kind=weight,… with kinds %s, got %q", strings.Join(Kinds, ", "), part)
		}
		m[k] = n
		sum += n
	}
	if sum == 0 {
		return errors.New("no request kind has a weight above 0")
	}
	return nil
}

func (m Mix) total() int {
	t := 0
	for _, w := range m {
		t += w
	}
	return t
}

var _ flag.Value = Mix{}
