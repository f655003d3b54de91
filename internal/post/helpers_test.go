package post

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"deling/internal/ident"
	"deling/internal/incident"
)

func oslo(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func norway(t testing.TB) *incident.Calendar {
	t.Helper()
	c, err := incident.NewCalendar(oslo(t), incident.DefaultWorkStart, incident.DefaultWorkEnd)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	orgA = ident.SyntheticOrgnr(1)
	orgB = ident.SyntheticOrgnr(2)
	orgC = ident.SyntheticOrgnr(3)
)

func hist(ss ...Status) []StatusEvent {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	out := make([]StatusEvent, len(ss))
	for i, s := range ss {
		out[i] = StatusEvent{Status: s, Changed: t0.Add(time.Duration(i) * time.Hour)}
	}
	return out
}

func validRequest() *InitializeRequest {
	due := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	return &InitializeRequest{
		Correspondence: Correspondence{
			ResourceID:       CatAdministration.ResourceID(),
			SendersReference: "sak-2026/1",
			Content: &Content{Language: "nb", MessageTitle: "Vedtak om tilgang",
				MessageBody: "Hei.\n\nSe [vedtaket](https://example.no/v).", Attachments: []Attachment{
					{FileName: "vedtak.pdf", SendersReference: "v1", Checksum: strings.Repeat("a", 32)}}},
			DueDateTime:          &due,
			IsConfirmationNeeded: true,
		},
		Recipients: []string{RecipientURN(orgA)},
	}
}

func hasCode(ps Problems, code int) bool { return slices.Contains(ps.Codes(), code) }

func syntheticOrg(n int) ident.Orgnr { return ident.SyntheticOrgnr(n) }

func orgFrom(s string) ident.Orgnr { return ident.Orgnr(s) }

func validFnr(t *testing.T) string {
	t.Helper()
	p, err := ident.SyntheticPerson(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), 1, ident.SyntheticTenor, false)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}
