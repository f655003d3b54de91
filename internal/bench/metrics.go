package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiCounts are the server's request counters for the API routes.
type apiCounts struct{ api, logged int64 }

// scrapeAPIRequests sums deling_http_requests_total over the /api/ routes
// and over the nodes' metrics URLs: all answers, and those after
// authentication and rate limiting, which each have a lookup record (401,
// 429 and 503 do not).
func scrapeAPIRequests(ctx context.Context, hc *http.Client, metricsURLs []string) (apiCounts, error) {
	var sum apiCounts
	for _, u := range metricsURLs {
		c, err := scrapeOne(ctx, hc, u)
		if err != nil {
			return apiCounts{}, err
		}
		sum.api += c.api
		sum.logged += c.logged
	}
	return sum, nil
}

// settledAPIRequests scrapes until two scrapes settleEvery apart agree, at
// most settleTries times: requests the load generator gave up on (timeouts)
// may still be answered, and logged, by the server after the run, and counts
// taken while they are would not compare (records = answers).
func settledAPIRequests(ctx context.Context, hc *http.Client, metricsURLs []string) (apiCounts, error) {
	prev, err := scrapeAPIRequests(ctx, hc, metricsURLs)
	for range settleTries {
		if err != nil {
			return prev, err
		}
		select {
		case <-ctx.Done():
			return prev, ctx.Err()
		case <-time.After(settleEvery):
		}
		cur, err := scrapeAPIRequests(ctx, hc, metricsURLs)
		if err != nil || cur == prev {
			return cur, err
		}
		prev = cur
	}
	return prev, nil
}

// How settledAPIRequests waits: at most 15 s.
var (
	settleEvery = time.Second
	settleTries = 15
)

func scrapeOne(ctx context.Context, hc *http.Client, metricsURL string) (apiCounts, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return apiCounts{}, err
	}
	body, err := doRequest(hc, req)
	if err != nil {
		return apiCounts{}, fmt.Errorf("metrics: %w", err)
	}
	var c apiCounts
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, "deling_http_requests_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !strings.Contains(labels, ` /api/v2/`) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		c.api += int64(v)
		if !strings.Contains(labels, `code="401"`) && !strings.Contains(labels, `code="429"`) && !strings.Contains(labels, `code="503"`) {
			c.logged += int64(v)
		}
	}
	return c, nil
}
