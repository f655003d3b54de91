package post

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func eligible(t *testing.T) *Sender {
	s := &Sender{Orgnr: orgA, Name: "Etaten", RegisteredBy: "saksbehandler", RegisteredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Basis: "statlig etat", ServiceLead: Contact{Name: "Kari", Email: "kari@etaten.no", Phone: "+4791234567"},
		Shared: &Contact{Email: "post@etaten.no", Phone: "+4722000000"}, Categories: []Category{CatAdministration, CatTaxes}}
	if bad := s.Validate(); len(bad) != 0 {
		t.Fatal(bad)
	}
	return s
}

// Rules DPV-01, DPV-02, DPV-09, DPV-11.
func TestSenderMaySend_DPV01_DPV02_DPV09_DPV11(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	left := at.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		change func(s *Sender)
		cat    Category
		code   int
	}{
		{"eligible", func(*Sender) {}, CatAdministration, -1},
		{"DPV-02 category not registered", func(*Sender) {}, CatHealth, CodeCategoryNotOpen},
		{"DPV-01 not registered", func(s *Sender) { s.RegisteredAt = time.Time{} }, CatAdministration, CodeSenderNotEligible},
		{"DPV-09 no deputy nor shared address", func(s *Sender) { s.Shared = nil }, CatAdministration, CodeSenderNotEligible},
		{"DPV-09 deputy instead of shared address", func(s *Sender) {
			s.Shared, s.Deputy = nil, &Contact{Name: "Ola", Email: "ola@etaten.no", Phone: "+4791111111"}
		}, CatAdministration, -1},
		{"DPV-11 left", func(s *Sender) { s.LeftAt = &left }, CatAdministration, CodeSenderNotEligible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := eligible(t)
			tc.change(s)
			p := s.MaySend(tc.cat, at)
			if (tc.code == -1) != (p == nil) || (p != nil && p.Code != tc.code) {
				t.Fatalf("MaySend = %v, want code %d", p, tc.code)
			}
		})
	}
	if bad := (&Sender{}).Validate(); bad["serviceleder"] == "" || bad["stedfortreder"] == "" || bad["orgnr"] == "" || bad["grunnlag"] == "" {
		t.Errorf("empty sender: %v", bad)
	}
	var nilSender *Sender
	if nilSender.MaySend(CatAdministration, at) == nil {
		t.Error("nil sender may send")
	}
}

// Rule DPV-02: ten categories, each with a resource id and Altinn 2 service code.
func TestCategories_DPV02(t *testing.T) {
	if n := len(Categories()); n != 10 {
		t.Fatalf("%d categories, want 10", n)
	}
	seen := map[string]bool{}
	for _, c := range Categories() {
		for _, s := range []string{c.ResourceID(), string(c), c.ServiceEdition()} {
			if got, p := ParseCategory(s); p != nil || got != c {
				t.Errorf("ParseCategory(%q) = %v, %v", s, got, p)
			}
		}
		if seen[c.ServiceEdition()] || !strings.HasPrefix(c.Label(), "Post fra det offentlige innenfor ") {
			t.Errorf("%v: %s %s", c, c.ServiceEdition(), c.Label())
		}
		seen[c.ServiceEdition()] = true
	}
	if CatAdministration.ServiceEdition() != "4255/10" || CatTechnical.ServiceEdition() != "4255/9" {
		t.Error("service editions")
	}
	if _, p := ParseCategory("dpv-annet"); p == nil {
		t.Error("unknown category accepted")
	}
}

// Rule DPV-10: 10,000 a calendar year (Norwegian time), a notice near it, a refusal beyond it, no cap under a full agreement.
func TestQuota_DPV10(t *testing.T) {
	loc := oslo(t)
	rules := DefaultQuota()
	// 23:30 UTC on 31 December is 00:30 on 1 January in Oslo: the new year.
	newYear := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	if got := QuotaYear(newYear, loc); got != 2027 {
		t.Errorf("QuotaYear(31.12 23:30Z) = %d, want 2027", got)
	}
	if got := QuotaYear(time.Date(2026, 12, 31, 22, 59, 0, 0, time.UTC), loc); got != 2026 {
		t.Errorf("QuotaYear(31.12 22:59Z) = %d, want 2026", got)
	}
	start, end := YearSpan(2027, loc)
	if !start.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2027, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("YearSpan(2027) = %v – %v", start, end)
	}
	s := eligible(t)
	for _, tc := range []struct {
		name      string
		sent, n   int
		refused   bool
		notice    bool
		agreement bool
	}{
		{"first message", 0, 1, false, false, false},
		{"below notice", 8000, 999, false, false, false},
		{"reaches notice", 8999, 1, false, true, false},
		{"exactly the free volume", 9500, 500, false, true, false},
		{"one over", 10000, 1, true, true, false},
		{"batch crossing is refused whole", 9800, 500, true, true, false},
		{"full agreement lifts the cap", 250000, 500, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender := *s
			if tc.agreement {
				sender.Agreement = &Agreement{Reference: "SA-1", From: time.Date(2026, 1, 1, 0, 0, 0, 0, loc)}
			}
			q, p := CheckQuota(&sender, tc.sent, tc.n, newYear, loc, rules)
			if (p != nil) != tc.refused || (q.Notice != "") != tc.notice || q.Unlimited != tc.agreement {
				t.Fatalf("quota = %+v, %v", q, p)
			}
			if p != nil && (p.Code != CodeQuotaExceeded || p.Status != 403 || !strings.Contains(p.Melding, "samarbeidsavtale")) {
				t.Errorf("refusal = %+v", p)
			}
			if q.Year != 2027 {
				t.Errorf("year = %d", q.Year)
			}
		})
	}
	expired := *s
	until := time.Date(2026, 6, 1, 0, 0, 0, 0, loc)
	expired.Agreement = &Agreement{From: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), Until: &until}
	if _, p := CheckQuota(&expired, 10000, 1, newYear, loc, rules); p == nil {
		t.Error("an ended agreement still lifts the cap")
	}
}

// Rule DPV-04: only under the actual sender's delegation; the recipient sees the actual sender.
func TestOnBehalf_DPV04(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	revoked := at.Add(-time.Minute)
	d := SenderDelegation{Actual: orgA, Technical: orgC, From: at.AddDate(0, -1, 0)}
	req := func(actual string) *InitializeRequest {
		r := validRequest()
		if actual != "" {
			r.Correspondence.PropertyList = map[string]string{PropertyActualSender: actual}
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		caller string
		actual string
		ds     []SenderDelegation
		want   Origin
		code   int
	}{
		{"for itself", string(orgA), "", nil, Origin{orgA, orgA}, -1},
		{"names itself", string(orgA), string(orgA), nil, Origin{orgA, orgA}, -1},
		{"delegated", string(orgC), string(orgA), []SenderDelegation{d}, Origin{Technical: orgC, Actual: orgA}, -1},
		{"no delegation", string(orgC), string(orgA), nil, Origin{}, CodeNotDelegated},
		{"delegation to another", string(orgB), string(orgA), []SenderDelegation{d}, Origin{}, CodeNotDelegated},
		{"revoked", string(orgC), string(orgA), []SenderDelegation{{Actual: orgA, Technical: orgC, From: d.From, RevokedAt: &revoked}}, Origin{}, CodeNotDelegated},
		{"bad orgnr", string(orgC), "123", nil, Origin{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, p := ResolveOrigin(orgFrom(tc.caller), req(tc.actual), tc.ds, at)
			if (tc.code == -1) != (p == nil) || (p != nil && p.Code != tc.code) || o != tc.want {
				t.Fatalf("ResolveOrigin = %+v, %v; want %+v, code %d", o, p, tc.want, tc.code)
			}
		})
	}
	o := Origin{Technical: orgC, Actual: orgA}
	if got := o.Shown("Etaten", ""); got.Orgnr != orgA || got.Name != "Etaten" || !o.OnBehalf() {
		t.Errorf("Shown = %+v", got)
	}
	if got := o.Shown("Etaten", "Etaten, region nord"); got.Orgnr != orgA || got.Name != "Etaten, region nord" {
		t.Errorf("Shown with messageSender = %+v", got)
	}
}

// Rule DPV-05: up to 10,000 references; LimitReached when the answer was cut.
func TestBulkStatus_DPV05(t *testing.T) {
	r := BulkStatusRequest{SendersReferences: []string{"a", "b", "a"}}
	if ps := r.Validate(); ps != nil || len(r.SendersReferences) != 2 {
		t.Fatalf("dedup: %v %v", r.SendersReferences, ps)
	}
	big := BulkStatusRequest{SendersReferences: make([]string, BulkLimit+1)}
	if ps := big.Validate(); !hasCode(ps, CodeTooManyReferences) {
		t.Fatalf("10,001 references: %v", ps)
	}
	full := make([]string, BulkLimit)
	for i := range full {
		full[i] = "r" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()
	}
	ok := BulkStatusRequest{SendersReferences: full}
	if ps := ok.Validate(); ps != nil {
		t.Fatalf("10,000 references refused: %v", ps)
	}
	if ps := (&BulkStatusRequest{}).Validate(); ps == nil {
		t.Error("empty request accepted")
	}
	if got := CapBulk(make([]BulkStatus, BulkLimit)); got.LimitReached || len(got.Correspondences) != BulkLimit {
		t.Errorf("exactly the limit: %v", got.LimitReached)
	}
	if got := CapBulk(make([]BulkStatus, BulkLimit+1)); !got.LimitReached || len(got.Correspondences) != BulkLimit {
		t.Errorf("over the limit: %v %d", got.LimitReached, len(got.Correspondences))
	}
	if got := CapBulk(nil); got.Correspondences == nil {
		t.Error("nil answer should be an empty list")
	}
}

func TestListing(t *testing.T) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var all []Listed
	for i := range 1500 {
		h := hist(StatusInitialized, StatusPublished)
		if i%2 == 0 {
			h = append(h, StatusEvent{Status: StatusFetched}, StatusEvent{Status: StatusRead})
		}
		all = append(all, Listed{ID: string(rune('A'+i%26)) + time.Duration(i).String(), ResourceID: "dpv-administrasjon",
			SendersReference: "ref", RequestedPublishTime: base.Add(time.Duration(i) * time.Minute), History: h})
	}
	q, ps := ParseListQuery(url.Values{"resourceId": {"dpv-administrasjon"}, "role": {"Sender"}})
	if ps != nil {
		t.Fatal(ps)
	}
	ids := List(q, all, 0)
	if len(ids) != ListLimit || ids[0] != all[1499].ID || ids[999] != all[500].ID {
		t.Fatalf("limit/newest first: %d %s %s", len(ids), ids[0], ids[999])
	}
	from, to := base.Add(10*time.Minute).Format(time.RFC3339), base.Add(20*time.Minute).Format(time.RFC3339)
	q, _ = ParseListQuery(url.Values{"resourceId": {"dpv-administrasjon"}, "role": {"Sender"}, "from": {from}, "to": {to}, "status": {"Read"}})
	ids = List(q, all, 0)
	// Exclusive window 10 < t < 20 → minutes 11..19; read ones are the even: 12,14,16,18.
	if len(ids) != 4 || ids[0] != all[18].ID || ids[3] != all[12].ID {
		t.Fatalf("window and status: %v", ids)
	}
	_, ps = ParseListQuery(url.Values{"resourceId": {"x"}, "role": {"Sender"}, "from": {to}, "to": {from}})
	if !hasCode(ps, CodeInvalidDateRange) {
		t.Errorf("from after to: %v", ps)
	}
	_, ps = ParseListQuery(url.Values{"status": {"Nope"}, "from": {"yesterday"}})
	if len(ps) != 4 {
		t.Errorf("bad query: %v", ps)
	}
}
