package bearer

import "deling/internal/token/tokentest"

// The test world of package tokentest, under the short names the tests use.
const (
	orgA        = tokentest.OrgA
	orgD        = tokentest.OrgD
	scopeLookup = tokentest.ScopeLookup
)

var (
	world    = tokentest.Shared
	sign     = tokentest.Sign
	newClock = tokentest.NewClock
)
