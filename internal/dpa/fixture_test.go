package dpa

import (
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/register"
)

var (
	ctrl  = string(ident.SyntheticOrgnr(1001))
	proc  = string(ident.SyntheticOrgnr(2002))
	other = string(ident.SyntheticOrgnr(3003))
	t0    = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
)

func catalogue(t *testing.T) *access.Catalogue {
	t.Helper()
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// pkg is a package ref from the default catalogue.
func pkg(t *testing.T, i int) string {
	t.Helper()
	ps := catalogue(t).Packages()
	if len(ps) <= i {
		t.Fatalf("catalogue has %d packages", len(ps))
	}
	return ps[i].Ref()
}

// complete is content that may be signed in the test environment.
func complete(t *testing.T) Content {
	return Content{
		Controller: Party{Orgnr: ctrl, Navn: "Testkommune"}, Processor: Party{Orgnr: proc, Navn: "Systemleverandør AS"},
		MainAgreement: "Avtale om saksbehandlingssystem", MainAgreementDate: "2025-01-15",
		ControllerContact: Contact{Navn: "Ada Admin", Stilling: "Personvernrådgiver", Epost: "ada@kommune.example"},
		ProcessorContact:  Contact{Navn: "Per Prosess", Stilling: "Sikkerhetsleder", Epost: "per@leverandor.example"},
		Channels:          []access.Channel{access.ChannelAPI, access.ChannelWeb},
		Packages:          []string{pkg(t, 0)},
		BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: Annex1{Purpose: "Saksbehandling av sosialhjelp.", Nature: "Drift av fagsystem.", SubjectCategories: "Søkere",
			DataTypes: "Arbeidsforhold", Locations: []string{"Norge"}},
		Annex2: Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS 1.3 og kryptert lagring", Confidentiality: "Tilgangsstyring",
			Integrity: "Endringslogg", Availability: "Daglig backup", Resilience: "To datasentre", Physical: "Adgangskontroll",
			Other: "ikke relevant"},
		Annex3: []SubProcessorEntry{{Navn: "Drift AS", Orgnr: other, Country: "Norge", Task: "Drift av servere"}},
	}
}

func ms(org string, roles ...governance.Role) []governance.Membership {
	var out []governance.Membership
	for _, r := range roles {
		out = append(out, governance.Membership{UserID: "u", Org: org, Role: r})
	}
	return out
}

// active is an agreement in force since t0 with content c.
func active(c Content) Agreement {
	h := Hash(c)
	return Agreement{ID: "a1", Controller: c.Controller.Orgnr, Processor: c.Processor.Orgnr, Status: StatusActive,
		CreatedAt: t0.Add(-time.Hour),
		Versions: []Version{{Number: 1, Content: c, Status: VersionSigned, InForceAt: t0,
			ControllerSig: &Signature{Actor: "user:c", At: t0.Add(-time.Minute), Hash: h},
			ProcessorSig:  &Signature{Actor: "user:p", At: t0, Hash: h}}}}
}

const env = register.EnvTest
