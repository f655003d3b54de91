package witness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"deling/internal/audit"
)

// Submit sends an add-checkpoint request to the witness at url (its
// submission prefix) and returns the cosignature lines it answers with. A 409
// is an *audit.ConflictError with the witness's size, to retry from.
func Submit(ctx context.Context, client *http.Client, url string, a audit.AddCheckpoint) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/add-checkpoint", bytes.NewReader(a.Marshal()))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusConflict:
		size, err := strconv.ParseUint(strings.TrimSuffix(string(body), "\n"), 10, 64)
		if err != nil || resp.Header.Get("Content-Type") != "text/x.tlog.size" {
			return nil, fmt.Errorf("witness %s: 409 without a size", url)
		}
		return nil, &audit.ConflictError{Size: size, Reason: "the witness has another size"}
	}
	return nil, fmt.Errorf("witness %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
}
