package post

import (
	"net/url"
	"slices"
	"time"
)

// Listing (GET /correspondence, research §1.8): ids only, newest
// requestedPublishTime first, at most 1000, no paging; a client narrows the
// window with from and to (both exclusive) to see more.

// ListLimit is the most ids one listing returns.
const ListLimit = 1000

// ListRole is whose correspondences are listed.
type ListRole string

// The roles.
const (
	RoleRecipient          ListRole = "Recipient"
	RoleSender             ListRole = "Sender"
	RoleRecipientAndSender ListRole = "RecipientAndSender"
)

// ListQuery is a listing's filter, with Altinn's parameter names.
type ListQuery struct {
	ResourceID       string
	Role             ListRole
	From, To         *time.Time // on requestedPublishTime, exclusive
	Status           *Status    // has ever had it
	OnBehalfOf       string
	SendersReference string
	IdempotentKey    string
}

// ParseListQuery reads a listing's query parameters.
func ParseListQuery(v url.Values) (ListQuery, Problems) {
	var ps Problems
	q := ListQuery{ResourceID: v.Get("resourceId"), Role: ListRole(v.Get("role")), OnBehalfOf: v.Get("onBehalfOf"),
		SendersReference: v.Get("sendersReference"), IdempotentKey: v.Get("idempotentKey")}
	if q.ResourceID == "" {
		ps = append(ps, problem(0, "resourceId", "resourceId is required", "Velg tjenesten."))
	} else if cat, p := ParseCategory(q.ResourceID); p == nil {
		q.ResourceID = cat.ResourceID() // Rule DPV-02: an alias (4255/10) lists what its category holds
	}
	if !slices.Contains([]ListRole{RoleRecipient, RoleSender, RoleRecipientAndSender}, q.Role) {
		ps = append(ps, problem(0, "role", "role must be Recipient, Sender or RecipientAndSender", "Velg rolle: mottaker eller avsender."))
	}
	parse := func(name string) *time.Time {
		s := v.Get(name)
		if s == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			ps = append(ps, problem(0, name, name+" must be an RFC 3339 time", "Tidspunktet må skrives som 2026-05-17T12:00:00+02:00."))
			return nil
		}
		return &t
	}
	q.From, q.To = parse("from"), parse("to")
	if q.From != nil && q.To != nil && q.From.After(*q.To) {
		ps = append(ps, problem(CodeInvalidDateRange, "from", "From date cannot be after to date", "Fra-tidspunktet kan ikke være etter til-tidspunktet."))
	}
	if s := v.Get("status"); s != "" {
		st, err := ParseStatus(s)
		if err != nil {
			ps = append(ps, problem(0, "status", "Unknown status", "Ukjent status."))
		} else {
			q.Status = &st
		}
	}
	return q, ps
}

// Listed is what a listing filters and orders on, one correspondence.
type Listed struct {
	ID                   string
	ResourceID           string
	SendersReference     string
	IdempotentKey        string
	RequestedPublishTime time.Time
	History              []StatusEvent
}

// Matches reports whether a correspondence passes the query's filters (the
// caller has already limited it to the caller's own, by role).
func (q ListQuery) Matches(c Listed) bool {
	switch {
	case q.ResourceID != "" && c.ResourceID != q.ResourceID,
		q.SendersReference != "" && c.SendersReference != q.SendersReference,
		q.IdempotentKey != "" && c.IdempotentKey != q.IdempotentKey,
		q.From != nil && !c.RequestedPublishTime.After(*q.From),
		q.To != nil && !c.RequestedPublishTime.Before(*q.To),
		q.Status != nil && !Has(c.History, *q.Status):
		return false
	}
	return true
}

// List is the ids of the matching correspondences, newest requestedPublishTime
// first (ties by id, for a stable answer), at most limit (ListLimit if ≤ 0).
func List(q ListQuery, all []Listed, limit int) []string {
	if limit <= 0 {
		limit = ListLimit
	}
	var hit []Listed
	for _, c := range all {
		if q.Matches(c) {
			hit = append(hit, c)
		}
	}
	slices.SortFunc(hit, func(a, b Listed) int {
		if c := b.RequestedPublishTime.Compare(a.RequestedPublishTime); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return 1
		case a.ID > b.ID:
			return -1
		}
		return 0
	})
	ids := make([]string, 0, min(len(hit), limit))
	for _, c := range hit[:min(len(hit), limit)] {
		ids = append(ids, c.ID)
	}
	return ids
}
