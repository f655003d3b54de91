package governance

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func timePtr(t time.Time) *time.Time { return &t }

// Rules AA-15, AA-23: each kind's lead time is checked.
func TestNoticeValidate(t *testing.T) {
	rules := DefaultSettings()
	day := 24 * time.Hour
	n := func(kind NoticeKind) Notice {
		return Notice{Kind: kind, Title: "Melding", Body: "Tekst.", PublishedAt: tt0}
	}
	downtime := func(start, end time.Duration) Notice {
		x := n(NoticeDowntime)
		x.Start, x.End = timePtr(tt0.Add(start)), timePtr(tt0.Add(end))
		return x
	}
	normal := func(prefix string, sunset time.Time) Notice {
		x := n(NoticeNormal)
		x.APIPrefix, x.Sunset = prefix, &sunset
		return x
	}
	tests := []struct {
		name string
		n    Notice
		bad  []string
	}{
		{"news", n(NoticeNews), nil},
		{"AA-23 standard change, after release", n(NoticeStandard), nil},
		{"AA-23 emergency change, at once", n(NoticeEmergency), nil},
		{"terms", n(NoticeTerms), nil},
		{"AA-15 downtime a week ahead", downtime(7*day, 7*day+4*time.Hour), nil},
		{"AA-15 downtime 2 days ahead is refused", downtime(2*day, 2*day+time.Hour), []string{"start"}},
		{"AA-15 downtime a minute short of a week", downtime(7*day-time.Minute, 8*day), []string{"start"}},
		{"downtime ending before it starts", downtime(8*day, 8*day-time.Hour), []string{"slutt"}},
		{"downtime without times", n(NoticeDowntime), []string{"start", "slutt"}},
		{"AA-23 normal change, 4 months", normal("/api/v2", tt0.AddDate(0, 4, 0)), nil},
		{"AA-23 normal change, 3 months is refused", normal("/api/v2", tt0.AddDate(0, 3, 0)), []string{"sunset"}},
		{"AA-23 normal change a day short", normal("/api/v2", tt0.AddDate(0, 4, -1)), []string{"sunset"}},
		{"normal change names a version path", normal("/api/v2/../x", tt0.AddDate(0, 5, 0)), []string{"api"}},
		{"normal change without a sunset", Notice{Kind: NoticeNormal, Title: "x", Body: "y", PublishedAt: tt0, APIPrefix: "/api/v1"}, []string{"sunset"}},
		{"unknown kind", n("annet"), []string{"type"}},
		{"no title or text", Notice{Kind: NoticeNews, PublishedAt: tt0}, []string{"tittel", "tekst"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.n.Validate(rules)
			if len(bad) != len(tt.bad) {
				t.Fatalf("got %v, want messages for %v", bad, tt.bad)
			}
			for _, f := range tt.bad {
				if bad[f] == "" {
					t.Fatalf("got %v, want a message for %s", bad, f)
				}
			}
		})
	}
	// Fields a kind does not use are not kept.
	x := n(NoticeNews)
	x.Start, x.APIPrefix = timePtr(tt0), "/api/v2"
	if x.Validate(rules); x.Start != nil || x.APIPrefix != "" {
		t.Fatalf("news kept downtime or API fields: %+v", x)
	}
	if NoticeTerms.Manual() || !NoticeDowntime.Manual() {
		t.Fatal("Manual")
	}
}

// Rule AA-23: an API version is deprecated from the notice until its sunset.
func TestDeprecations(t *testing.T) {
	sunset := tt0.AddDate(0, 4, 0)
	ns := []Notice{
		{ID: "a", Kind: NoticeNormal, APIPrefix: "/api/v2", PublishedAt: tt0, Sunset: &sunset},
		{ID: "b", Kind: NoticeNormal, APIPrefix: "/api/v2", PublishedAt: tt0.Add(time.Hour), Sunset: timePtr(sunset.AddDate(0, 1, 0))},
		{ID: "c", Kind: NoticeNormal, APIPrefix: "/api/v1", PublishedAt: tt0.AddDate(-1, 0, 0), Sunset: timePtr(tt0.Add(-time.Hour))},
		{ID: "d", Kind: NoticeNews, APIPrefix: "/api/v3", PublishedAt: tt0, Sunset: &sunset},
	}
	ds := Deprecations(ns, tt0.Add(2*time.Hour))
	if len(ds) != 1 || ds[0].NoticeID != "b" || ds[0].Prefix != "/api/v2" || !ds[0].Since.Equal(ns[1].PublishedAt) {
		t.Fatalf("got %+v", ds)
	}
	d := ds[0]
	for path, want := range map[string]bool{"/api/v2": true, "/api/v2/arbeidstaker/arbeidsforhold": true, "/api/v20/x": false, "/api/openapi.json": false, "/": false} {
		if d.Covers(path) != want {
			t.Errorf("Covers(%q): want %v", path, want)
		}
	}
	if ds := Deprecations(ns, sunset.AddDate(0, 1, 0)); len(ds) != 0 {
		t.Fatalf("after the sunset: %+v", ds)
	}
}

// Rule AA-20: the feed is valid Atom 1.0 that reads back with every required element.
func TestAtom(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	start, end := tt0.Add(8*24*time.Hour), tt0.Add(8*24*time.Hour+2*time.Hour)
	ns := []Notice{
		{ID: "0196f3a4-0000-7000-8000-000000000002", Kind: NoticeDowntime, Title: "Nedetid <& \"vedlikehold\">", Body: "Vi oppgraderer.", PublishedAt: tt0.Add(time.Hour), Start: &start, End: &end},
		{ID: "0196f3a4-0000-7000-8000-000000000001", Kind: NoticeNews, Title: "Velkommen", Body: "Første melding.", PublishedAt: tt0},
	}
	b, err := Atom(ns, "https://deling.example.no", tt0.Add(99*time.Hour), oslo)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Fatalf("no XML declaration: %.40s", b)
	}
	var f AtomFeed
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("feed does not parse: %v\n%s", err, b)
	}
	if f.XMLName.Space != AtomNS || f.XMLName.Local != "feed" {
		t.Fatalf("root %v", f.XMLName)
	}
	if f.ID == "" || f.Title == "" || f.Updated != "2026-11-24T13:00:00Z" || f.Author == nil || f.Author.Name == "" {
		t.Fatalf("feed metadata: %+v", f)
	}
	self := false
	for _, l := range f.Links {
		self = self || (l.Rel == "self" && l.Href == "https://deling.example.no/driftsmeldinger.atom")
	}
	if !self {
		t.Fatalf("no rel=self link: %+v", f.Links)
	}
	if len(f.Entries) != 2 {
		t.Fatalf("%d entries", len(f.Entries))
	}
	e := f.Entries[0]
	if e.ID != "urn:uuid:"+ns[0].ID || e.Title != ns[0].Title || e.Updated != "2026-11-24T13:00:00Z" || e.Published != e.Updated ||
		e.Content.Type != "text" || len(e.Links) != 1 || e.Links[0].Href != "https://deling.example.no/driftsmeldinger#"+ns[0].ID {
		t.Fatalf("entry: %+v", e)
	}
	if _, err := time.Parse(time.RFC3339, e.Published); err != nil {
		t.Fatal(err)
	}
	// Downtime is shown in Norwegian time (UTC+1 in December).
	if !strings.Contains(e.Content.Body, "Nedetid fra 02.12.2026 kl. 13:00 norsk tid til 02.12.2026 kl. 15:00 norsk tid.") || !strings.Contains(e.Content.Body, "Vi oppgraderer.") {
		t.Fatalf("content: %q", e.Content.Body)
	}
	// Without notices, the feed is still valid and updated now.
	b, err = Atom(nil, "http://localhost:8080", tt0, oslo)
	if err != nil {
		t.Fatal(err)
	}
	f = AtomFeed{}
	if err := xml.Unmarshal(b, &f); err != nil || f.Updated != "2026-11-24T12:00:00Z" || len(f.Entries) != 0 {
		t.Fatalf("empty feed: %v %+v", err, f)
	}
}

// Rule DPV-08: maintenance of digital post at least 5 working days ahead in
// Norway's calendar (Easter and 17 May do not count), interface changes
// senders act on at least 6 months ahead.
func TestNoticePostLeadTimes_DPV08(t *testing.T) {
	rules := DefaultSettings().WithDefaults()
	if rules.Calendar == nil {
		t.Fatal("no working calendar")
	}
	oslo := rules.Calendar.Location()
	at := func(y int, m time.Month, d, h int) *time.Time { t := time.Date(y, m, d, h, 0, 0, 0, oslo); return &t }
	for _, c := range []struct {
		name       string
		published  time.Time
		start      *time.Time
		wantRefuse bool
	}{
		// Monday 23 March 2026: the fifth working day after is Monday 30 March;
		// maintenance may start when it has ended (review finding 14).
		{"an ordinary week, after the fifth day", *at(2026, 3, 23, 9), at(2026, 3, 31, 0), false},
		{"an ordinary week, on the fifth day", *at(2026, 3, 23, 9), at(2026, 3, 30, 22), true},
		{"an ordinary week, at the start of the fifth day", *at(2026, 3, 23, 9), at(2026, 3, 30, 0), true},
		// Monday 30 March 2026: Maundy Thursday, Good Friday and Easter Monday do not count: the fifth is 9 April.
		{"over Easter, too early", *at(2026, 3, 30, 9), at(2026, 4, 9, 12), true},
		{"over Easter, after the fifth day", *at(2026, 3, 30, 9), at(2026, 4, 10, 0), false},
	} {
		end := c.start.Add(2 * time.Hour)
		n := Notice{Kind: NoticePostMaintenance, Title: "Vedlikehold", Body: "Tjenesten er nede.", PublishedAt: c.published, Start: c.start, End: &end}
		bad := n.Validate(rules)
		if _, refused := bad["start"]; refused != c.wantRefuse {
			t.Errorf("%s: %v", c.name, bad)
		}
	}
	pub := *at(2026, 3, 23, 9)
	for _, c := range []struct {
		effective  *time.Time
		wantRefuse bool
	}{{at(2026, 9, 22, 0), true}, {at(2026, 9, 23, 12), false}, {nil, true}} {
		n := Notice{Kind: NoticePostInterface, Title: "Nytt felt", Body: "Avsendere må sende resourceId.", PublishedAt: pub, Sunset: c.effective}
		msg, refused := n.Validate(rules)["sunset"]
		if refused != c.wantRefuse {
			t.Errorf("interface change taking effect %v: refused %v", c.effective, refused)
		}
		// The refusal names the earliest allowed date, as the maintenance refusal does.
		if c.effective != nil && refused && !strings.Contains(msg, "tidligst 24.09.2026") {
			t.Errorf("refusal without the earliest date: %s", msg)
		}
	}
}
