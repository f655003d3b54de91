package token_test

import "deling/internal/token/tokentest"

// The test world of package tokentest, under the short names the tests use.
const (
	orgC        = tokentest.OrgC
	scopeLookup = tokentest.ScopeLookup
)

var (
	world   = tokentest.Shared
	privPEM = tokentest.PrivPEM
	certPEM = tokentest.CertPEM
	payload = tokentest.Payload
)
