package dpa

import (
	"errors"
	"strings"
	"testing"

	"deling/internal/access"
	"deling/internal/register"
)

func TestValidate_DPA01(t *testing.T) {
	cat := catalogue(t)
	for _, tc := range []struct {
		name  string
		edit  func(c *Content)
		field string
	}{
		{"complete", func(*Content) {}, ""},
		{"controller orgnr", func(c *Content) { c.Controller.Orgnr = "123" }, FieldControllerOrgnr},
		{"AA-14 real orgnr in test", func(c *Content) { c.Processor.Orgnr = "974760673" }, FieldProcessorOrgnr},
		{"processor is controller", func(c *Content) { c.Processor.Orgnr = c.Controller.Orgnr }, FieldProcessorOrgnr},
		{"main agreement", func(c *Content) { c.MainAgreement = "" }, FieldMainAgreement},
		{"main agreement date", func(c *Content) { c.MainAgreementDate = "" }, FieldMainAgreementDate},
		{"bad date", func(c *Content) { c.MainAgreementDate = "15.01.2025" }, FieldMainAgreementDate},
		{"term before main agreement", func(c *Content) { c.ValidTo = "2024-12-31" }, FieldValidTo},
		{"SK-04 channels", func(c *Content) { c.Channels = nil }, FieldChannels},
		{"SK-04 unknown channel", func(c *Content) { c.Channels = []access.Channel{"fax"} }, FieldChannels},
		{"SK-04 packages", func(c *Content) { c.Packages = nil }, FieldPackages},
		{"SK-04 unknown package", func(c *Content) { c.Packages = []string{"nope@1"} }, FieldPackages},
		{"DPA-07 breach hours", func(c *Content) { c.BreachNoticeHours = 0 }, FieldBreachHours},
		{"DPA-07 breach hours beyond 72", func(c *Content) { c.BreachNoticeHours = 73 }, FieldBreachHours},
		{"DPA-10 deletion days", func(c *Content) { c.DeletionDays = 0 }, FieldDeletionDays},
		{"annex 1 purpose", func(c *Content) { c.Annex1.Purpose = " " }, FieldPurpose},
		{"annex 1 nature", func(c *Content) { c.Annex1.Nature = "" }, FieldNature},
		{"annex 1 subjects", func(c *Content) { c.Annex1.SubjectCategories = "" }, FieldSubjects},
		{"annex 1 data types", func(c *Content) { c.Annex1.DataTypes = "" }, FieldDataTypes},
		{"annex 1 special categories if relevant", func(c *Content) { c.Annex1.SpecialCategories = "" }, ""},
		{"annex 1 too long", func(c *Content) { c.Annex1.DeletionRules = strings.Repeat("x", maxLong+1) }, FieldDeletionRules},
		{"DPA-06 location", func(c *Content) { c.Annex1.Locations = nil }, FieldLocations},
		{"DPA-06 location in a third country", func(c *Content) { c.Annex1.Locations = []string{"Japan"} }, FieldLocations},
		{"DPA-06 location with instruction", func(c *Content) {
			c.Annex1.Locations = []string{"Japan"}
			c.Transfers = []Transfer{{Country: "Japan", Basis: BasisAdequacy}}
		}, ""},
		{"DPA-06 bad instruction", func(c *Content) { c.Transfers = []Transfer{{Country: "Japan"}} }, TransferField(FieldTransferBasis, 0)},
		{"controller contact", func(c *Content) { c.ControllerContact.Epost = "ada" }, ContactField(Controller, "epost")},
		{"annex 2 every measure", func(c *Content) { c.Annex2.Physical = "" }, FieldPhysical},
		{"processor contact", func(c *Content) { c.ProcessorContact.Navn = "" }, ContactField(Processor, "navn")},
		{"DPA-05 sub-processor task", func(c *Content) { c.Annex3[0].Task = "" }, Annex3Field(FieldSubTask, 0)},
		{"DPA-05 sub-processor id", func(c *Content) { c.Annex3[0].Orgnr = "" }, Annex3Field(FieldSubOrgnr, 0)},
		{"DPA-05 sub-processor twice", func(c *Content) { c.Annex3 = append(c.Annex3, c.Annex3[0]) }, Annex3Field(FieldSubName, 1)},
		{"DPA-06 sub-processor off the list", func(c *Content) {
			c.Annex3[0] = SubProcessorEntry{Navn: "X", ForeignID: "1", Country: "India", Task: "y"}
		}, Annex3Field(FieldSubCountry, 0)},
		{"DPA-06 sub-processor in the USA without instruction", func(c *Content) {
			c.Annex3[0] = SubProcessorEntry{Navn: "Sky Inc", ForeignID: "1", Country: "USA", Task: "y"}
		}, Annex3Field(FieldSubCountry, 0)},
		{"DPA-06 sub-processor in the USA under DPF", func(c *Content) {
			c.Annex3[0] = SubProcessorEntry{Navn: "Sky Inc", ForeignID: "1", Country: "USA", Task: "y"}
			c.Transfers = []Transfer{{Country: "USA", Recipient: "Sky Inc", Basis: BasisDPF}}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := complete(t)
			tc.edit(&c)
			bad := c.Validate(register.EnvTest, cat)
			if (tc.field == "" && len(bad) > 0) || (tc.field != "" && (bad[tc.field] == "" || len(bad) != 1)) {
				t.Errorf("got %v, want only %q", bad, tc.field)
			}
		})
	}
	// A draft is saved incomplete, never beyond limits.
	var empty Content
	if bad := empty.ValidateDraft(cat); len(bad) != 0 {
		t.Errorf("empty draft: %v", bad)
	}
}

// TestParts_DPA01: each party edits only its own part.
func TestParts_DPA01(t *testing.T) {
	c := complete(t)
	edit := complete(t)
	edit.Annex1.Purpose, edit.Annex2.Encryption = "Endret formål", "Endret kryptering"
	edit.Annex3 = nil
	if got := c.WithProcessorPart(edit); got.Annex1.Purpose != c.Annex1.Purpose || got.Annex2.Encryption != "Endret kryptering" || len(got.Annex3) != 0 {
		t.Errorf("processor's save: %+v", got)
	}
	if got := c.WithControllerPart(edit); got.Annex1.Purpose != "Endret formål" || got.Annex2.Encryption != c.Annex2.Encryption || len(got.Annex3) != 1 {
		t.Errorf("controller's save: %+v", got)
	}
}

func TestReady_DPA01(t *testing.T) {
	cat := catalogue(t)
	c := complete(t)
	a := &Agreement{Controller: ctrl, Processor: proc, Status: StatusPending, Versions: []Version{{Number: 1, Content: c, Status: VersionToSign}}}
	for _, s := range []Step{StepSend, StepComplete, StepSignController, StepSignProcessor} {
		if err := a.Ready(s, register.EnvTest, cat); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	a.Versions[0].Content.Annex2.Other = ""
	if err := a.Ready(StepComplete, register.EnvTest, cat); !errors.Is(err, ErrNotReady) {
		t.Errorf("complete without annex 2: %v", err)
	}
	if err := a.Ready(StepSend, register.EnvTest, cat); err != nil {
		t.Errorf("the controller's part is still complete: %v", err)
	}
	a.Versions[0].Content = c
	a.Processor = other
	if err := a.Ready(StepSignController, register.EnvTest, cat); !errors.Is(err, ErrNotReady) {
		t.Errorf("version names other parties: %v", err)
	}
	if err := a.Ready(StepConfirmDeletion, register.EnvTest, cat); !errors.Is(err, ErrNotReady) {
		t.Errorf("certificate without an end: %v", err)
	}
}
