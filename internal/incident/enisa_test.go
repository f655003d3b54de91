package incident

import "testing"

func TestENISAScore_AV04(t *testing.T) {
	simple := func(delta int) []DataScore {
		d := DataScore{Category: DataSimple, Reason: "navn og adresse"}
		if delta != 0 {
			d.Adjustments = []Adjustment{{Delta: delta, Reason: "konteksten"}}
		}
		return []DataScore{d}
	}
	for _, tc := range []struct {
		name string
		a    Assessment
		dpc  int
		cb   float64
		se   float64
		band Band
	}{
		// Research §2.1's worked DPC examples, each scored with EI and CB.
		{"supermarket customer list: DPC 1 × EI 1 + CB 0.25 (known recipients) = 1.25 low",
			Assessment{Data: simple(0), EI: EIMaximum, Confidentiality: Circumstance{Level: CB1}}, 1, 0.25, 1.25, BandLow},
		{"luxury-goods customer list: DPC 1+1 = 2 × EI 1 + 0 = 2.0 medium (boundary)",
			Assessment{Data: simple(+1), EI: EIMaximum}, 2, 0, 2.0, BandMedium},
		{"adult-book-store addresses: DPC 1+2 = 3 × EI 0.75 + CB 0.5 (unknown recipients) = 2.75 medium",
			Assessment{Data: simple(+2), EI: EISignificant, Confidentiality: Circumstance{Level: CB2}}, 3, 0.5, 2.75, BandMedium},
		{"undercover officers: DPC 1+3 = 4 × EI 1 + CB 0.5 + malicious 0.5 = 5.0 very high",
			Assessment{Data: simple(+3), EI: EIMaximum, Confidentiality: Circumstance{Level: CB2}, Malicious: true}, 4, 1.0, 5.0, BandVeryHigh},
		{"sensitive 4 × negligible 0.25 + CB max 2.0 = 3.0 high",
			Assessment{Data: []DataScore{{Category: DataSensitive}}, EI: EINegligible,
				Confidentiality: Circumstance{Level: CB2}, Integrity: Circumstance{Level: CB2}, Availability: Circumstance{Level: CB2}, Malicious: true},
			4, 2.0, 3.0, BandHigh},
		{"financial 3 × limited 0.5 + temporary unavailability 0.25 = 1.75 low",
			Assessment{Data: []DataScore{{Category: DataFinancial}}, EI: EILimited, Availability: Circumstance{Level: CB1}}, 3, 0.25, 1.75, BandLow},
		{"behavioural 2 × maximum 1 + integrity recoverable 0.25 + availability temporary 0.25 + malicious 0.5 = 3.0 high",
			Assessment{Data: []DataScore{{Category: DataBehavioral}}, EI: EIMaximum,
				Integrity: Circumstance{Level: CB1}, Availability: Circumstance{Level: CB1}, Malicious: true}, 2, 1.0, 3.0, BandHigh},
		{"financial 3 × significant 0.75 + 0.5 + 0.25 = 3.0 high",
			Assessment{Data: []DataScore{{Category: DataFinancial}}, EI: EISignificant,
				Confidentiality: Circumstance{Level: CB2}, Integrity: Circumstance{Level: CB1}}, 3, 0.75, 3.0, BandHigh},
		{"several categories: the highest counts (simple 1, financial 3−1 = 2, behavioural 2) → 2 × 0.5 = 1.0 low",
			Assessment{Data: []DataScore{{Category: DataSimple}, {Category: DataFinancial, Adjustments: []Adjustment{{Delta: -1}}}, {Category: DataBehavioral}},
				EI: EILimited}, 2, 0, 1.0, BandLow},
		{"public, outdated data: financial 3−3 = 0 clamps to 1 × 1 + 0 = 1.0 low",
			Assessment{Data: []DataScore{{Category: DataFinancial, Adjustments: []Adjustment{{Delta: -3}}}}, EI: EIMaximum}, 1, 0, 1.0, BandLow},
		{"sensitive 4+1 clamps to 4 × 1 = 4.0 very high (boundary)",
			Assessment{Data: []DataScore{{Category: DataSensitive, Adjustments: []Adjustment{{Delta: +1}}}}, EI: EIMaximum}, 4, 0, 4.0, BandVeryHigh},
		{"CB 1.5 without malice: DPC 3 × 0.75 = 2.25 + 1.5 = 3.75 high",
			Assessment{Data: []DataScore{{Category: DataFinancial}}, EI: EISignificant,
				Confidentiality: Circumstance{Level: CB2}, Integrity: Circumstance{Level: CB2}, Availability: Circumstance{Level: CB2}}, 3, 1.5, 3.75, BandHigh},
	} {
		a := tc.a
		if got := a.DPC(); got != tc.dpc {
			t.Errorf("%s: DPC %d, want %d", tc.name, got, tc.dpc)
		}
		if got := a.CB(); got != tc.cb {
			t.Errorf("%s: CB %v, want %v", tc.name, got, tc.cb)
		}
		if got := a.Score(); got != tc.se {
			t.Errorf("%s: SE %v, want %v", tc.name, got, tc.se)
		}
		if got := a.Band(); got != tc.band {
			t.Errorf("%s: band %s, want %s", tc.name, got, tc.band)
		}
	}
}

func TestENISAValues_AV04(t *testing.T) {
	for c, want := range map[DataCategory]int{DataSimple: 1, DataBehavioral: 2, DataFinancial: 3, DataSensitive: 4, "x": 0} {
		if got := c.Base(); got != want {
			t.Errorf("%s: base %d, want %d", c, got, want)
		}
	}
	for e, want := range map[EI]float64{EINegligible: 0.25, EILimited: 0.5, EISignificant: 0.75, EIMaximum: 1, "x": 0} {
		if got := e.Value(); got != want {
			t.Errorf("%s: EI %v, want %v", e, got, want)
		}
	}
	for se, want := range map[float64]Band{0: BandLow, 1.99: BandLow, 2: BandMedium, 2.99: BandMedium, 3: BandHigh, 3.99: BandHigh, 4: BandVeryHigh, 6: BandVeryHigh} {
		if got := BandOf(se); got != want {
			t.Errorf("BandOf(%v) = %s, want %s", se, got, want)
		}
	}
	for b, want := range map[Band]Suggestion{BandLow: {}, BandMedium: {NotifyDT: true},
		BandHigh: {NotifyDT: true, ConsiderPersons: true}, BandVeryHigh: {NotifyDT: true, ConsiderPersons: true}} {
		if got := b.Suggest(); got != want {
			t.Errorf("%s: suggest %+v, want %+v", b, got, want)
		}
	}
}

func validAssessment() Assessment {
	why := Factor{Reason: "vurdert"}
	return Assessment{
		Data:            []DataScore{{Category: DataSimple, Reason: "navn og arbeidsgiver", Adjustments: []Adjustment{{Delta: 1, Reason: "inntekt kan utledes"}}}},
		EI:              EIMaximum,
		EIReason:        "fødselsnummer er med",
		Confidentiality: Circumstance{Level: CB1, Reason: "sendt til én kjent mottaker"},
		Factors: Factors{SpecialCategories: why, Persons: Exact(120), ReputationalLoss: why, IdentityTheft: why,
			FinancialLoss: why, Security: why, NeedsMeasures: why, Unintelligible: why,
			CauseNote: "feil i tilgangsstyring", WhoGotAccess: "en konsument uten hjemmel"},
	}
}

func TestAssessmentValidate_AV04(t *testing.T) {
	a := validAssessment()
	if bad := a.Validate(); len(bad) != 0 {
		t.Fatalf("valid assessment: got %v, want none", bad)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Assessment)
		field string
	}{
		{"no data category", func(a *Assessment) { a.Data = nil }, FieldData},
		{"unknown category", func(a *Assessment) { a.Data[0].Category = "x" }, FieldData},
		{"category without reason", func(a *Assessment) { a.Data[0].Reason = " " }, FieldDataReason(0)},
		{"adjustment without reason", func(a *Assessment) { a.Data[0].Adjustments[0].Reason = "" }, FieldAdjustment(0, 0)},
		{"adjustment beyond 3", func(a *Assessment) { a.Data[0].Adjustments[0].Delta = 4 }, FieldAdjustment(0, 0)},
		{"no EI", func(a *Assessment) { a.EI = "" }, FieldEI},
		{"EI without reason", func(a *Assessment) { a.EIReason = "" }, FieldEI},
		{"CB level without reason", func(a *Assessment) { a.Confidentiality.Reason = "" }, FieldConfidentiality},
		{"CB level out of range", func(a *Assessment) { a.Integrity.Level = 3 }, FieldIntegrity},
		{"malicious without reason", func(a *Assessment) { a.Malicious = true }, FieldMalicious},
		{"seed factor without reason", func(a *Assessment) { a.Factors.IdentityTheft.Reason = "" }, FieldIdentityTheft},
		{"bad number of persons", func(a *Assessment) { a.Factors.Persons = Approx{Min: 5, Max: 2} }, FieldPersonsCount},
		{"who got access missing", func(a *Assessment) { a.Factors.WhoGotAccess = "" }, FieldWhoGotAccess},
		{"cause missing", func(a *Assessment) { a.Factors.CauseNote = "" }, FieldCauseNote},
	} {
		a := validAssessment()
		tc.edit(&a)
		if bad := a.Validate(); bad[tc.field] == "" {
			t.Errorf("%s: no message for %s in %v", tc.name, tc.field, bad)
		}
	}
}

func TestFactorsFlags_AV04(t *testing.T) {
	if got := (Factors{Persons: Exact(100)}).Flags(); len(got) != 0 {
		t.Errorf("100 persons: got %v, want no flags", got)
	}
	if got := (Factors{Persons: Exact(101)}).Flags(); len(got) != 1 {
		t.Errorf("101 persons: got %v, want one flag", got)
	}
	if got := (Factors{Persons: Approx{Unknown: true}, Unintelligible: Factor{Present: true}, SpecialCategories: Factor{Present: true}}).Flags(); len(got) != 3 {
		t.Errorf("unknown, unintelligible, special: got %v, want three flags", got)
	}
}
