package httperr

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem detail, with a stable code (AA-2xx for
// validation, as Aa-registeret's API) and the correlation id.
type Problem struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Code          string `json:"code,omitempty"`
	Detail        string `json:"detail,omitempty"`
	CorrelationID string `json:"correlation-id,omitempty"`
}

// Write answers with application/problem+json.
func Write(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	p := Problem{
		Type:          "about:blank",
		Title:         http.StatusText(status),
		Status:        status,
		Code:          code,
		Detail:        detail,
		CorrelationID: CorrelationID(r.Context()),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// Validation codes, as Aa-registeret's API numbers them (research/aareg-api.md §1.1).
const (
	CodeInternal           = "AA-000" // an error of ours
	CodeInvalid            = "AA-001" // malformed request
	CodeNoID               = "AA-200"
	CodeNoTypes            = "AA-201"
	CodeNoOrdninger        = "AA-202"
	CodeNoStatuses         = "AA-203"
	CodeOpplysningspliktig = "AA-204"
	CodeArbeidssted        = "AA-205"
	CodeArbeidstaker       = "AA-206"
	CodeEnum               = "AA-207"
)
