package extract

import (
	"slices"
	"testing"
)

func TestCSVRow(t *testing.T) {
	c := newCSVColumns([]string{"uuid", "type", "ansettelsesdetaljer.yrke", "ansettelsesdetaljer.avtaltStillingsprosent", "permisjoner.prosent", "sluttdato"})
	rec := `{"uuid":"u1","type":{"kode":"ordinaertArbeidsforhold","beskrivelse":"Ordinært"},` +
		`"ansettelsesdetaljer":[{"yrke":{"kode":"1234567"},"avtaltStillingsprosent":100.5},{"avtaltStillingsprosent":50}],"permisjoner":[],"ok":true}`
	got, err := c.row([]byte(rec), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"u1", `{"beskrivelse":"Ordinært","kode":"ordinaertArbeidsforhold"}`, `{"kode":"1234567"}`, `[100.5,50]`, "", ""}
	if !slices.Equal(got, want) {
		t.Fatalf("row:\n got %q\nwant %q", got, want)
	}
	if _, err := c.row([]byte(`[1]`), nil); err == nil {
		t.Fatal("a non-object was accepted")
	}
}
