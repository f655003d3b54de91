package dpa

import (
	"testing"
)

func TestTransferValidate_DPA06(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tr    Transfer
		field string // "" valid
	}{
		{"adequacy country", Transfer{Country: "Japan", Basis: BasisAdequacy}, ""},
		{"adequacy country, list spelling", Transfer{Country: "storbritannia", Basis: BasisAdequacy}, ""},
		{"adequacy country under SCC", Transfer{Country: "Sveits", Basis: BasisSCC, SCCModule: 3}, ""},
		{"SCC without module", Transfer{Country: "Sveits", Basis: BasisSCC}, FieldTransferSCC},
		{"SCC module 5", Transfer{Country: "Sveits", Basis: BasisSCC, SCCModule: 5}, FieldTransferSCC},
		{"module without SCC", Transfer{Country: "Japan", Basis: BasisAdequacy, SCCModule: 2}, FieldTransferSCC},
		{"USA under DPF", Transfer{Country: "USA", Recipient: "Sky Inc", Basis: BasisDPF}, ""},
		{"USA on adequacy alone", Transfer{Country: "USA", Basis: BasisAdequacy}, FieldTransferBasis},
		{"USA on SCC without DPF (AA-09)", Transfer{Country: "USA", Basis: BasisSCC, SCCModule: 2}, FieldTransferBasis},
		{"DPF outside the USA", Transfer{Country: "Japan", Basis: BasisDPF}, FieldTransferBasis},
		{"country off the list", Transfer{Country: "India", Basis: BasisSCC, SCCModule: 2}, FieldTransferCountry},
		{"EEA needs no instruction", Transfer{Country: "Sverige", Basis: BasisAdequacy}, FieldTransferCountry},
		{"no country", Transfer{Basis: BasisAdequacy}, FieldTransferCountry},
		{"no basis", Transfer{Country: "Japan"}, FieldTransferBasis},
		{"unknown basis", Transfer{Country: "Japan", Basis: "bcr"}, FieldTransferBasis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.tr.Validate()
			if tc.field == "" && len(bad) > 0 {
				t.Fatalf("want valid, got %v", bad)
			}
			if tc.field != "" && bad[tc.field] == "" {
				t.Fatalf("want a message for %s, got %v", tc.field, bad)
			}
		})
	}
}

func TestCheckTransfer_DPA06(t *testing.T) {
	ts := []Transfer{
		{Country: "Japan", Basis: BasisAdequacy},                   // the processor itself
		{Country: "USA", Recipient: "Sky Inc", Basis: BasisDPF},    // a sub-processor
		{Country: "Canada", Recipient: "Ugyldig", Basis: BasisDPF}, // an invalid instruction counts for nothing
		{Country: "Sveits", Recipient: "Alp AG", Basis: BasisSCC, SCCModule: 3},
	}
	for _, tc := range []struct {
		name, country, recipient string
		ok                       bool
	}{
		{"Norway", "Norge", "", true},
		{"EEA sub-processor without instruction", "Tyskland", "Berlin GmbH", true},
		{"processor in Japan on instruction", "Japan", "", true},
		{"sub-processor in Japan without its own instruction", "Japan", "Tokyo KK", false},
		{"sub-processor in the USA under DPF", "USA", "sky inc", true},
		{"processor in the USA without instruction", "USA", "", false},
		{"invalid instruction", "Canada", "Ugyldig", false},
		{"SCC module 3 to a sub-processor", "Sveits", "Alp AG", true},
		{"country off the list, never", "India", "", false},
		{"no country", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := CheckTransfer(tc.country, tc.recipient, ts)
			if (msg == "") != tc.ok {
				t.Errorf("CheckTransfer = %q, want ok %v", msg, tc.ok)
			}
		})
	}
	if !TransferNeeded("Japan") || TransferNeeded("Norge") || TransferNeeded("Island") || TransferNeeded("India") {
		t.Error("TransferNeeded: Japan needs one; Norway and Iceland (EEA) do not; India is off the list")
	}
}
