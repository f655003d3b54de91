package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"deling/internal/token"
)

// OAuthError is a refusal from a token endpoint (RFC 6749 §5.2).
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("token endpoint: %s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("token endpoint: %s: %s (HTTP %d)", e.Code, e.Description, e.Status)
}

// RequestToken is the client's side of the token endpoint: it gets an
// access token from c.TokenEndpoint with a fresh assertion, as a
// Maskinporten client does. A refusal is an [*OAuthError]. hc nil means a
// client with a 30 s timeout.
func RequestToken(ctx context.Context, c token.ClientFile, hc *http.Client) (accessToken string, err error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	a, err := c.Assertion(time.Now())
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {a}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		oe := &OAuthError{Status: resp.StatusCode}
		if json.Unmarshal(body, oe) != nil || oe.Code == "" {
			return "", fmt.Errorf("token endpoint: %s", resp.Status)
		}
		return "", oe
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", errors.New("token response: no bearer access_token")
	}
	return tr.AccessToken, nil
}
