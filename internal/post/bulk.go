package post

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Rule DPV-05: a sender reads the status of up to 10,000 messages in one
// call, by its own references, as Altinn 2's GetCorrespondenceStatusHistory
// did (Altinn 3 has no such call; research §1.9). One reference may name
// several correspondences (one request to many recipients shares its
// sendersReference), so the answer is capped too: at most BulkLimit
// correspondences, with LimitReached set when more matched.

// BulkLimit is the most references one request may name and the most
// correspondences one answer holds.
const BulkLimit = 10000

// BulkStatusRequest asks for the status of the sender's correspondences
// with these references.
type BulkStatusRequest struct {
	SendersReferences []string `json:"sendersReferences"`
}

// BulkStatusResponse answers it.
type BulkStatusResponse struct {
	Correspondences []BulkStatus `json:"correspondences"`
	LimitReached    bool         `json:"limitReached"`
}

// BulkStatus is one correspondence's status and notification history.
type BulkStatus struct {
	CorrespondenceID string             `json:"correspondenceId"`
	SendersReference string             `json:"sendersReference"`
	Recipient        string             `json:"recipient"`
	Status           Status             `json:"status"`
	StatusChanges    []StatusEvent      `json:"statusChanges"`
	Notifications    []BulkNotification `json:"notifications"`
}

// BulkNotification is one notification; SentDate nil means not yet sent
// (a pending reminder).
type BulkNotification struct {
	Recipient     string     `json:"recipient"`
	SentDate      *time.Time `json:"sentDate"`
	TransportType string     `json:"transportType"` // Email or SMS
	IsReminder    bool       `json:"isReminder"`
}

// Validate checks a bulk request: 1–BulkLimit references, each non-empty.
// The references are deduplicated in place, first occurrence kept.
func (r *BulkStatusRequest) Validate() Problems {
	if len(r.SendersReferences) == 0 {
		return Problems{problem(0, "sendersReferences", "At least one sendersReference is required", "Oppgi minst én referanse.")}
	}
	if len(r.SendersReferences) > BulkLimit {
		return Problems{problem(CodeTooManyReferences, "sendersReferences",
			fmt.Sprintf("At most %d sendersReferences per request", BulkLimit),
			fmt.Sprintf("Høyst %d referanser per forespørsel.", BulkLimit))}
	}
	seen := make(map[string]bool, len(r.SendersReferences))
	out := r.SendersReferences[:0]
	for _, s := range r.SendersReferences {
		if s == "" {
			return Problems{problem(0, "sendersReferences", "A sendersReference cannot be empty", "En referanse kan ikke være tom.")}
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	r.SendersReferences = out
	return nil
}

// CapBulk cuts an answer to BulkLimit correspondences and says whether it did;
// the store asks for BulkLimit+1 to know.
func CapBulk(found []BulkStatus) BulkStatusResponse {
	if len(found) > BulkLimit {
		return BulkStatusResponse{Correspondences: found[:BulkLimit], LimitReached: true}
	}
	if found == nil {
		found = []BulkStatus{}
	}
	return BulkStatusResponse{Correspondences: found}
}

// MaxBulkRequestBytes bounds a bulk status request: 10,000 references of
// up to 4,096 characters would be 40 MB; real ones are short, so 4 MB.
const MaxBulkRequestBytes = 4 << 20

// DecodeBulkStatus reads a bulk status request from outside as
// DecodeInitialize reads its request: bounded, strict, one object.
func DecodeBulkStatus(r io.Reader) (*BulkStatusRequest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBulkRequestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("post: read request: %w", err)
	}
	if len(data) > MaxBulkRequestBytes {
		p := problem(CodeRequestTooLarge, "", fmt.Sprintf("Request body exceeds %d bytes", MaxBulkRequestBytes),
			fmt.Sprintf("Forespørselen er større enn %d byte.", MaxBulkRequestBytes))
		p.Status = 413
		return nil, p
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var req BulkStatusRequest
	if err := dec.Decode(&req); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(errors.New("data after the JSON object"))
	}
	return &req, nil
}
