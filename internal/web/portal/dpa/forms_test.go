package dpa

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/dpa"
)

// FuzzReadContent feeds the agreement's form any body: reading it never
// fails hard, and each side's form changes only that side's part (Rule
// DPA-01: the processor's save never touches the controller's text, nor the
// controller's the processor's annexes).
func FuzzReadContent(f *testing.F) {
	f.Add("hovedavtale=Avtale&kanal=api&pakke=grunnopplysninger%401&varslingsfrist_timer=24&behandlingssted=Norge%2C+Sverige")
	f.Add("underdatabehandler_navn_0=Drift+AS&underdatabehandler_orgnr_0=310000001&underdatabehandler_land_0=Norge&kryptering=TLS")
	f.Add("overforing_land_0=USA&overforing_grunnlag_0=dpf&overforing_scc_modul_0=x&slettefrist_dager=-1")
	f.Add("%zz=&&=")
	f.Fuzz(func(t *testing.T, body string) {
		start := dpa.Content{MainAgreement: "Hovedavtale", Annex2: dpa.Annex2{Encryption: "TLS"},
			Annex3: []dpa.SubProcessorEntry{{Navn: "Drift AS"}}, Channels: []access.Channel{access.ChannelWeb}}
		for _, side := range []dpa.Side{dpa.Controller, dpa.Processor} {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			f := newForm()
			c := readContent(r, side, start, f)
			switch side {
			case dpa.Controller:
				if c.Annex2 != start.Annex2 || len(c.Annex3) != 1 || c.Annex3[0] != start.Annex3[0] {
					t.Fatalf("the controller's form changed the processor's part: %+v", c)
				}
			case dpa.Processor:
				if c.MainAgreement != start.MainAgreement || len(c.Channels) != 1 || c.Channels[0] != access.ChannelWeb {
					t.Fatalf("the processor's form changed the controller's part: %+v", c)
				}
			}
			for _, e := range c.Annex3 {
				if e.Orgnr != "" && e.ForeignID != "" {
					t.Fatalf("both an orgnr and a foreign id: %+v", e)
				}
			}
		}
	})
}
