package openid

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// claims are what deling reads of a verified ID token besides iss, aud,
// exp, sub and nonce (which go-oidc's verifier and the callback check).
type claims struct {
	// PID is ID-porten's fødselsnummer of the person (never logged, never in a URL).
	PID string
	// ACR is the level of assurance; AMR the methods the person signed in with.
	ACR string
	AMR []string
	// Email is the address the provider gives; EmailVerified whether it vouches for it.
	Email         string
	EmailVerified bool
}

// maxClaims bounds the token's payload that is read (a verified token is small).
const maxClaims = 16 << 10

// parseClaims reads the claims of a verified ID token's payload. Providers
// differ in small ways, taken as they come: amr as a list or one string,
// email_verified as a boolean or "true"/"false" (some issuers send strings).
// Anything else of the wrong type is an error, never a guess.
func parseClaims(payload []byte) (claims, error) {
	var c claims
	if len(payload) > maxClaims {
		return c, errors.New("claims: too large")
	}
	// By exact name: encoding/json would match struct fields in any case.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return c, fmt.Errorf("claims: %w", err)
	}
	for name, to := range map[string]*string{"pid": &c.PID, "acr": &c.ACR, "email": &c.Email} {
		if v, ok := raw[name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, to); err != nil {
				return claims{}, fmt.Errorf("claims: %s is not a string", name)
			}
		}
	}
	c.Email = strings.TrimSpace(c.Email)
	if len(raw["amr"]) > 0 && string(raw["amr"]) != "null" {
		var one string
		if err := json.Unmarshal(raw["amr"], &c.AMR); err != nil {
			if err := json.Unmarshal(raw["amr"], &one); err != nil {
				return claims{}, errors.New("claims: amr is neither a list of strings nor a string")
			}
			c.AMR = []string{one}
		}
	}
	if len(raw["email_verified"]) > 0 && string(raw["email_verified"]) != "null" {
		var s string
		switch err := json.Unmarshal(raw["email_verified"], &c.EmailVerified); {
		case err == nil:
		case json.Unmarshal(raw["email_verified"], &s) == nil && (s == "true" || s == "false"):
			c.EmailVerified = s == "true"
		default:
			return claims{}, errors.New("claims: email_verified is not a boolean")
		}
	}
	if len(c.ACR) > 200 || len(c.AMR) > 20 || slices.ContainsFunc(c.AMR, func(s string) bool { return len(s) > 100 }) {
		return claims{}, errors.New("claims: acr or amr too long")
	}
	return c, nil
}
