package token

import (
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what an API request may rely on from a verified access token.
type Claims struct {
	Issuer   string
	ClientID string
	JTI      string
	Scopes   []string
	Consumer string // orgnr of the organisation the token is for
	Supplier string // orgnr of the data processor that asked for it; "" unless delegated
	Expiry   time.Time
}

// HasScope reports whether the token carries scope sc.
func (c Claims) HasScope(sc string) bool { return slices.Contains(c.Scopes, sc) }

// AccessClaims are the JWT claims of an access token, Maskinporten's shape:
// what the authorisation server signs and the verifier reads.
type AccessClaims struct {
	jwt.RegisteredClaims
	ClientID  string `json:"client_id,omitempty"`
	Scope     string `json:"scope"`
	Consumer  *OrgID `json:"consumer,omitempty"`
	Supplier  *OrgID `json:"supplier,omitempty"`
	ClientAMR string `json:"client_amr,omitempty"`
}

// OrgID names an organisation as Maskinporten does: ISO 6523 ICD 0192 is
// Enhetsregisteret.
type OrgID struct {
	Authority string `json:"authority"`
	ID        string `json:"ID"`
}

const (
	orgAuthority = "iso6523-actorid-upis"
	orgICD       = "0192:"
)

// NewOrgID is the consumer or supplier claim naming orgnr.
func NewOrgID(orgnr string) *OrgID { return &OrgID{Authority: orgAuthority, ID: orgICD + orgnr} }

// Orgnr reads the orgnr from a Maskinporten consumer or supplier claim:
// {"authority":"iso6523-actorid-upis","ID":"0192:<9 digits>"}. ok is false
// when o is nil or not of that form.
func (o *OrgID) Orgnr() (orgnr string, ok bool) {
	if o == nil || o.Authority != orgAuthority {
		return "", false
	}
	org, ok := strings.CutPrefix(o.ID, orgICD)
	if !ok || !IsOrgnr(org) {
		return "", false
	}
	return org, true
}

// IsOrgnr reports whether s has the form of an organisation number: 9 ASCII
// digits. It does not check the control digit: tokens and certificates name
// organisations, the register decides whether they exist.
func IsOrgnr(s string) bool {
	if len(s) != 9 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
