package governance

import (
	"encoding/xml"
	"strings"
	"time"
)

// AtomNS is the Atom 1.0 namespace (RFC 4287).
const AtomNS = "http://www.w3.org/2005/Atom"

// AtomFeed is an Atom 1.0 feed document (RFC 4287), as much of it as the notices use.
type AtomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []AtomLink  `xml:"link"`
	Author   *AtomPerson `xml:"author,omitempty"`
	Entries  []AtomEntry `xml:"entry"`
}

// AtomLink is an atom:link.
type AtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

// AtomPerson is an atom:author.
type AtomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

// AtomText is an atom:content (or other text construct).
type AtomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// AtomCategory is an atom:category.
type AtomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// AtomEntry is an atom:entry.
type AtomEntry struct {
	ID        string        `xml:"id"`
	Title     string        `xml:"title"`
	Updated   string        `xml:"updated"`
	Published string        `xml:"published"`
	Links     []AtomLink    `xml:"link"`
	Category  *AtomCategory `xml:"category,omitempty"`
	Content   AtomText      `xml:"content"`
}

// Details are the lines a notice shows besides its text: when downtime is
// planned, when an API version goes. Times are shown in loc.
func (n Notice) Details(loc *time.Location) []string {
	var out []string
	if n.Start != nil && n.End != nil {
		out = append(out, map[bool]string{true: "Vedlikehold fra ", false: "Nedetid fra "}[n.Kind == NoticePostMaintenance]+FormatTime(*n.Start, loc)+" til "+FormatTime(*n.End, loc)+".")
	}
	if n.APIPrefix != "" && n.Sunset != nil {
		out = append(out, "API-versjonen "+n.APIPrefix+" slutter å virke "+FormatDate(*n.Sunset, loc)+".")
	}
	if n.Kind == NoticePostInterface && n.Sunset != nil {
		out = append(out, "Endringen tar effekt "+FormatDate(*n.Sunset, loc)+".")
	}
	return out
}

// Text is the notice as plain text: its details, then its body.
func (n Notice) Text(loc *time.Location) string {
	parts := append(n.Details(loc), n.Body)
	return strings.Join(parts, "\n\n")
}

// FormatDate is a date as Norwegians write it: 24.03.2027.
func FormatDate(t time.Time, loc *time.Location) string { return t.In(loc).Format("02.01.2006") }

// OsloZone names the zone after a time shown to people: summer and winter alike.
const OsloZone = " norsk tid"

// FormatTime is a date and time as Norwegians read it, with the zone named
// (issue 16, item 9): 24.03.2027 kl. 18:00 norsk tid. loc is the register's
// zone, Europe/Oslo. The portal's pages show times with it too (site.OsloTime).
func FormatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("02.01.2006 kl. 15:04") + OsloZone
}

// Atom is the feed of notices (Rule AA-20), newest first as given. base is
// the site's absolute URL without a trailing slash, e.g.
// https://deling.example.no; now is the feed's updated time when there are no
// notices. Times in entry text are shown in loc.
func Atom(notices []Notice, base string, now time.Time, loc *time.Location) ([]byte, error) {
	f := AtomFeed{
		ID:       base + "/driftsmeldinger",
		Title:    "Driftsmeldinger fra Aa-registeret",
		Subtitle: "Nyheter, planlagt nedetid, endringer og nye vilkår for konsumentene",
		Updated:  atomTime(now),
		Links: []AtomLink{
			{Href: base + "/driftsmeldinger.atom", Rel: "self", Type: "application/atom+xml"},
			{Href: base + "/driftsmeldinger", Rel: "alternate", Type: "text/html"},
		},
		Author: &AtomPerson{Name: "Aa-registeret", URI: base + "/"},
	}
	var updated time.Time
	for _, n := range notices {
		if n.PublishedAt.After(updated) {
			updated = n.PublishedAt
		}
		f.Entries = append(f.Entries, AtomEntry{
			ID:        "urn:uuid:" + n.ID,
			Title:     n.Title,
			Updated:   atomTime(n.PublishedAt),
			Published: atomTime(n.PublishedAt),
			Links:     []AtomLink{{Href: base + "/driftsmeldinger#" + n.ID, Rel: "alternate", Type: "text/html"}},
			Category:  &AtomCategory{Term: string(n.Kind), Label: n.Kind.Label()},
			Content:   AtomText{Type: "text", Body: n.Text(loc)},
		})
	}
	if !updated.IsZero() {
		f.Updated = atomTime(updated)
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
