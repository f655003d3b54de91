package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"deling/internal/register"
)

// workload is what the targeter draws requests from.
type workload struct {
	mix       Mix
	total     int
	toks      *tokenSource
	persons   []string
	uuids     []string
	searches  [][]byte // request bodies: an employer's first or a later page
	employers int
	typical   []byte // a typical person-lookup answer, for the baseline
	ids       *correlationIDs
}

// prepare looks up some persons over the API to find uuids, employers and a
// typical answer, and pages through some employers' searches to get page
// tokens; at most perSecond requests a second (a running server's consumers
// have rate limits), and at most lookups person lookups. A failed request is
// skipped; only a preparation that got nothing fails.
func prepare(ctx context.Context, hc *http.Client, base string, toks *tokenSource, persons []string, mix Mix, perSecond rate.Limit, lookups int) (*workload, error) {
	w := &workload{mix: mix, total: mix.total(), toks: toks, persons: persons, ids: newCorrelationIDs()}
	type record struct {
		UUID        string `json:"uuid"`
		Arbeidssted struct {
			Type    string `json:"type"`
			Identer []struct {
				Ident string `json:"ident"`
			} `json:"identer"`
		} `json:"arbeidssted"`
	}
	var (
		mu        sync.Mutex
		bodies    [][]byte
		employers []string
		seenOrg   = map[string]bool{}
		firstErr  error
	)
	lim := rate.NewLimiter(perSecond, 1)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	n := min(lookups, len(persons))
	var grp errgroup.Group
	grp.SetLimit(8)
	for i := 0; i < n; i++ {
		p := persons[i*len(persons)/n]
		grp.Go(func() error {
			if err := lim.Wait(ctx); err != nil {
				return err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold", nil)
			req.Header.Set("Authorization", "Bearer "+toks.token())
			req.Header.Set("Nav-Personident", p)
			body, err := doRequest(hc, req)
			var recs []record
			if err == nil {
				err = json.Unmarshal(body, &recs)
			}
			if err != nil {
				fail(fmt.Errorf("a person lookup: %w", err))
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			bodies = append(bodies, body)
			for _, r := range recs {
				if r.UUID != "" {
					w.uuids = append(w.uuids, r.UUID)
				}
				if r.Arbeidssted.Type == register.EnhetUnderenhet && len(r.Arbeidssted.Identer) > 0 {
					if org := r.Arbeidssted.Identer[0].Ident; !seenOrg[org] {
						seenOrg[org] = true
						employers = append(employers, org)
					}
				}
			}
			return nil
		})
	}
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("bench: preparing, no person lookup succeeded; the first failure: %w", firstErr)
	}
	sort.Slice(bodies, func(i, j int) bool { return len(bodies[i]) < len(bodies[j]) })
	w.typical = bodies[len(bodies)/2]

	// Searches: page through up to prepEmployers employers, prepPages pages each.
	if mix[KindSearch] > 0 {
		employers = employers[:min(len(employers), prepEmployers)]
		w.employers = len(employers)
		for _, org := range employers {
			grp.Go(func() error {
				side := ""
				for page := 0; page < prepPages; page++ {
					if err := lim.Wait(ctx); err != nil {
						return err
					}
					reqBody := searchBody(org, side)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/arbeidsforhold/sok", bytes.NewReader(reqBody))
					req.Header.Set("Authorization", "Bearer "+toks.token())
					req.Header.Set("Content-Type", "application/json")
					body, err := doRequest(hc, req)
					var ans struct {
						NesteSide string `json:"nesteSide"`
					}
					if err == nil {
						err = json.Unmarshal(body, &ans)
					}
					if err != nil {
						fail(fmt.Errorf("an employer search: %w", err))
						return nil
					}
					mu.Lock()
					w.searches = append(w.searches, reqBody)
					mu.Unlock()
					if side = ans.NesteSide; side == "" {
						break
					}
				}
				return nil
			})
		}
		if err := grp.Wait(); err != nil {
			return nil, err
		}
	}
	switch {
	case mix[KindUUID] > 0 && len(w.uuids) == 0:
		return nil, errors.New("bench: the sampled persons' answers hold no uuids to look up")
	case mix[KindSearch] > 0 && len(w.searches) == 0:
		return nil, fmt.Errorf("bench: no employer search succeeded (%d employers found); the first failure: %v", len(employers), firstErr)
	}
	return w, nil
}

// searchBody is an employer search: every type, regime and status, pages of 100.
func searchBody(org, side string) []byte {
	b, _ := json.Marshal(map[string]any{
		"arbeidsstedId":        org,
		"arbeidsforholdtype":   []string{register.TypeOrdinaer, register.TypeMaritim, register.TypeForenklet, register.TypeFrilanser},
		"rapporteringsordning": []string{register.AOrdningen, register.FoerAOrdningen},
		"arbeidsforholdstatus": []register.Status{register.StatusAktiv, register.StatusAvsluttet, register.StatusFremtidig},
		"sidestoerrelse":       100,
		"side":                 side,
	})
	return b
}

func doRequest(hc *http.Client, req *http.Request) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body[:min(len(body), 300)]))
	}
	return body, nil
}

// kinds are the request kinds with a weight, in report order.
func (w *workload) kinds() []string {
	var out []string
	for _, k := range Kinds {
		if w.mix[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}

// targeter builds each request: a kind drawn by the mix, the next consumer's token.
func (w *workload) targeter(base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		// Each request its own correlation id, which its record carries (RecordCheck).
		h := http.Header{"Authorization": {"Bearer " + w.toks.token()}, correlationHeader: {w.ids.next()}}
		n := rand.IntN(w.total)
		switch {
		case n < w.mix[KindPerson]:
			t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold"
			h.Set("Nav-Personident", w.persons[rand.IntN(len(w.persons))])
		case n < w.mix[KindPerson]+w.mix[KindSearch]:
			t.Method, t.URL, t.Body = http.MethodPost, base+"/api/v2/arbeidsforhold/sok", w.searches[rand.IntN(len(w.searches))]
			h.Set("Content-Type", "application/json")
		default:
			t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidsforhold/"+w.uuids[rand.IntN(len(w.uuids))]
		}
		t.Header = h
		return nil
	}
}

// baselineTargeter sends person-lookup requests to the bare handler.
func (w *workload) baselineTargeter(base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, base+"/api/v2/arbeidstaker/arbeidsforhold"
		t.Header = http.Header{"Authorization": {"Bearer " + w.toks.token()}, "Nav-Personident": {w.persons[rand.IntN(len(w.persons))]}}
		return nil
	}
}

// classifyAPI names a result's request kind from its method and URL.
func classifyAPI(r *vegeta.Result) string {
	switch {
	case r.Method == http.MethodPost:
		return KindSearch
	case strings.HasSuffix(r.URL, "/arbeidstaker/arbeidsforhold"):
		return KindPerson
	}
	return KindUUID
}
