package authserver

// grantError is a refused token request, shaped as RFC 6749 §5.2 wants.
// desc goes to the client and must never contain the assertion; detail is
// only logged.
type grantError struct {
	status int
	code   string
	desc   string
	detail string
}

func (e *grantError) Error() string { return e.code + ": " + e.desc }

func invalidRequest(desc string) *grantError {
	return &grantError{status: 400, code: "invalid_request", desc: desc}
}

func invalidGrant(desc string) *grantError {
	return &grantError{status: 400, code: "invalid_grant", desc: desc}
}

func invalidScope(desc string) *grantError {
	return &grantError{status: 400, code: "invalid_scope", desc: desc}
}

// clientAuthFailed is one answer for every failure that depends on what is
// registered (unknown or inactive client, unregistered key or certificate,
// key of the wrong type, bad signature), so that the answer does not tell
// whether a client or key exists (house style 8). detail is logged.
func clientAuthFailed(detail string) *grantError {
	return &grantError{status: 400, code: "invalid_grant",
		desc:   "client authentication failed: iss, kid or x5c, alg and signature do not match an active client's registered key",
		detail: detail}
}

func serverError(detail string) *grantError {
	return &grantError{status: 500, code: "server_error", desc: "the token could not be issued; try again later", detail: detail}
}
