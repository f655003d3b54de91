package correspondence

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web/httperr"
)

// Verifier checks access tokens.
type Verifier interface {
	Verify(raw string) (token.Claims, error)
}

// Config is what the API is built from; zero numbers take post's defaults.
type Config struct {
	DB       *store.DB
	Log      *slog.Logger
	Verifier Verifier
	Now      func() time.Time
	Oslo     *time.Location
	Limits   post.Limits
	Quota    post.QuotaRules
	Notify   post.NotifyRules
	// MaxAttachmentBytes bounds one attachment (default post.DefaultMaxAttachmentBytes).
	MaxAttachmentBytes int64
}

// Server serves the API. Build one with New.
type Server struct {
	cfg Config
}

// New makes the API.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Log == nil || cfg.Verifier == nil || cfg.Now == nil || cfg.Oslo == nil {
		return nil, errors.New("correspondence: DB, Log, Verifier, Now and Oslo are required")
	}
	if cfg.Limits.MaxRecipients == 0 {
		cfg.Limits = post.DefaultLimits()
	}
	if cfg.Quota.FreePerYear == 0 {
		cfg.Quota = post.DefaultQuota()
	}
	if cfg.Notify.ReminderAfter == 0 {
		cfg.Notify = post.DefaultNotify()
	}
	if cfg.MaxAttachmentBytes <= 0 {
		cfg.MaxAttachmentBytes = post.DefaultMaxAttachmentBytes
	}
	return &Server{cfg: cfg}, nil
}

// Base is the API's path prefix.
const Base = "/correspondence/api/v1"

// Register adds the API's routes to mux, each through wrap (nil for none).
func (s *Server) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	for p, h := range map[string]http.HandlerFunc{
		"POST " + Base + "/correspondence":                                        s.initialize,
		"GET " + Base + "/correspondence":                                         s.list,
		"GET " + Base + "/correspondence/{id}":                                    s.overview,
		"GET " + Base + "/correspondence/{id}/details":                            s.details,
		"POST " + Base + "/correspondence/{id}/markasread":                        s.markAsRead,
		"POST " + Base + "/correspondence/{id}/confirm":                           s.confirm,
		"DELETE " + Base + "/correspondence/{id}/purge":                           s.purge,
		"GET " + Base + "/correspondence/{id}/attachment/{attachmentId}/download": s.recipientDownload,
		"POST " + Base + "/correspondence/statushistory":                          s.bulkStatus,
		"POST " + Base + "/attachment/{attachmentId}/upload":                      s.upload,
		"GET " + Base + "/attachment/{attachmentId}":                              s.attachmentOverview,
		"GET " + Base + "/attachment/{attachmentId}/download":                     s.senderDownload,
		// Altinn 3's routes deling does not have: 501, as a problem (review finding 14).
		"POST " + Base + "/attachment":                            s.notImplemented,
		"GET " + Base + "/attachment/{attachmentId}/details":      s.notImplemented,
		"DELETE " + Base + "/attachment/{attachmentId}":           s.notImplemented,
		"POST " + Base + "/correspondence/upload":                 s.notImplemented,
		"POST " + Base + "/correspondence/{id}/attachment/upload": s.notImplemented,
	} {
		var hh http.Handler = h
		if wrap != nil {
			hh = wrap(hh)
		}
		mux.Handle(p, hh)
	}
}

// caller is an authenticated request's organisation and rights.
type caller struct {
	org      ident.Orgnr
	clientID string
	write    bool // ScopeWrite: a sender
	read     bool // ScopeRead: a recipient
}

// authenticate reads the bearer token; it answers and returns false when
// the request goes no further.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (caller, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling"`)
		writeProblem(w, r, &post.Problem{Status: http.StatusUnauthorized, Detail: "A bearer token is required"})
		return caller{}, false
	}
	claims, err := s.cfg.Verifier.Verify(strings.TrimSpace(raw))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deling", error="invalid_token"`)
		writeProblem(w, r, &post.Problem{Status: http.StatusUnauthorized, Detail: "The bearer token is invalid or expired"})
		return caller{}, false
	}
	c := caller{org: ident.Orgnr(claims.Consumer), clientID: claims.ClientID, write: claims.HasScope(post.ScopeWrite), read: claims.HasScope(post.ScopeRead)}
	if !c.write && !c.read {
		writeProblem(w, r, noAccess())
		return caller{}, false
	}
	return c, true
}

func noAccess() *post.Problem {
	return &post.Problem{Code: post.CodeNoAccessToResource, Status: http.StatusUnauthorized,
		Detail: "You must use an Altinn token, DialogToken or log in to IDporten as someone with access to the resource and orgaization in Altinn Authorization"}
}

// problemBody is Altinn's problem details: RFC 9457 with a numeric
// errorCode, or the validation problem with its errors map.
type problemBody struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	ErrorCode int                 `json:"errorCode,omitempty"`
	Errors    map[string][]string `json:"errors,omitempty"`
	TraceID   string              `json:"traceId,omitempty"`
}

// writeProblem answers with ps: the first with an Altinn code, and every
// field's message in errors.
func writeProblem(w http.ResponseWriter, r *http.Request, ps ...*post.Problem) {
	first := post.Problems(ps).First()
	status := first.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	b := problemBody{Type: problemType(status), Title: http.StatusText(status), Status: status,
		Detail: first.Detail, ErrorCode: first.Code, TraceID: httperr.CorrelationID(r.Context())}
	if first.Code == 0 && status == http.StatusBadRequest {
		b.Title = "One or more validation errors occurred."
	}
	for _, p := range ps {
		if p.Field == "" {
			continue
		}
		if b.Errors == nil {
			b.Errors = map[string][]string{}
		}
		b.Errors[p.Field] = append(b.Errors[p.Field], p.Detail)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(b)
}

// fail answers with err: a *post.Problem (or post.Problems) as it says, a
// missing row as not found (1001), anything else as a 500 logged without
// its details in the answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p  *post.Problem
		ps post.Problems
	)
	switch {
	case errors.As(err, &ps):
		writeProblem(w, r, ps...)
	case errors.As(err, &p):
		writeProblem(w, r, p)
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, post.NotFound())
	default:
		s.cfg.Log.Error("correspondence", "err", err, "correlation_id", httperr.CorrelationID(r.Context()))
		writeProblem(w, r, &post.Problem{Status: http.StatusInternalServerError, Detail: "An internal error occurred"})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// publish publishes those of ids a request made ready whose time has come,
// so that the sender sees Published at once; the notifications (Rule
// DPV-06) are the job's alone (PublishDue), off the request path. A
// failure is logged: the job publishes them on its schedule.
func (s *Server) publish(ctx context.Context, ids []string) {
	if err := s.cfg.DB.PublishReady(context.WithoutCancel(ctx), ids); err != nil {
		s.cfg.Log.Error("publish post", "err", err)
	}
}

// problemType is the problem body's type for status: its section of RFC
// 9110, as ASP.NET (Altinn) writes them (review finding 18).
func problemType(status int) string {
	section := map[int]string{400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6", 409: "15.5.10",
		413: "15.5.14", 415: "15.5.16", 422: "15.5.21", 500: "15.6.1", 501: "15.6.2", 503: "15.6.4"}[status]
	if section == "" {
		return "about:blank"
	}
	return "https://tools.ietf.org/html/rfc9110#section-" + section
}

// notImplemented answers an Altinn 3 route deling does not offer.
func (s *Server) notImplemented(w http.ResponseWriter, r *http.Request) {
	p := &post.Problem{Status: http.StatusNotImplemented,
		Detail: "deling does not offer this Altinn 3 endpoint"}
	writeProblem(w, r, p)
}
