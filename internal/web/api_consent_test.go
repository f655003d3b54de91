package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/lookup"
)

// consentGrant is an API grant resting on the data subjects' consent (Rules SK-01, SK-08).
func consentGrant(packages []string, purpose string, kinds ...access.QueryKind) access.Grant {
	g := grant(packages, kinds...)
	g.Consent, g.Purpose, g.LegalBasis = true, purpose, "den registrertes samtykke"
	return g
}

// lastRecord is the consumer's latest lookup record.
func (h *harness) lastRecord(org string) audit.Record {
	h.t.Helper()
	recs := h.records(org)
	if len(recs) == 0 {
		h.t.Fatal("no lookup records")
	}
	return recs[len(recs)-1]
}

// Rule SK-08: where the grant rests on consent, a person's data is delivered
// only under the person's valid consent for that consumer and purpose; without
// it the answer is the one for an unknown person, and the log says no-consent.
func TestConsentGatesTheAPI(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	org, _ := h.consumer("Samtykkebanken", consentGrant(detailed, "kredittvurdering", access.ByArbeidstaker, access.ByArbeidssted))
	tok := h.token(h.client(org))
	p := h.employed(1)[0]
	unknown, _ := ident.SyntheticPerson(time.Date(1961, 4, 4, 0, 0, 0, 0, time.UTC), 301, ident.SyntheticTenor, false)

	withheld := func(when string) {
		t.Helper()
		a := h.person(tok, p.Ident, "")
		ua := h.person(tok, unknown.String(), "")
		if a.status != http.StatusOK || string(a.body) != "[]" || ua.status != a.status || string(ua.body) != string(a.body) {
			t.Fatalf("%s: %d %s, unknown person %d %s", when, a.status, a.body, ua.status, ua.body)
		}
		recs := h.records(org)
		rec := recs[len(recs)-2] // the person's, before the unknown person's
		if rec.Decision != audit.Deny || rec.Reason != lookup.ReasonNoConsent || len(rec.Returned) != 0 || rec.ResultCount != 0 {
			t.Fatalf("%s: log %s/%s returned %v", when, rec.Decision, rec.Reason, rec.Returned)
		}
		// The search by arbeidstaker answers as for an unknown person too.
		s := h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{"arbeidstakerId": p.Ident,
			"arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses})
		if s.status != http.StatusOK || string(s.body) != `{"arbeidsforhold":[]}` {
			t.Fatalf("%s: search %d %s", when, s.status, s.body)
		}
		if rec := h.lastRecord(org); rec.Reason != lookup.ReasonNoConsent {
			t.Fatalf("%s: search logged %q", when, rec.Reason)
		}
	}
	withheld("before consent")

	// Consent is given person by person: searches not keyed on one person, and
	// uuid lookups, get nothing — with consents or without, so that paging or
	// counting never reaches a person who did not consent.
	af := h.afsOf(p.Ident)[0]
	notKeyed := func(when string) {
		t.Helper()
		if a := h.do("POST", tok, "/api/v2/arbeidsforhold/sok", map[string]any{"arbeidsstedId": af.ArbeidsstedIdent(),
			"arbeidsforholdtype": allTypes, "rapporteringsordning": allOrdninger, "arbeidsforholdstatus": allStatuses}); a.status != http.StatusForbidden ||
			a.problem().Detail != lookup.Deny(access.DenyConsentPerPerson).Text {
			t.Fatalf("%s: employer search on consent: %d %s", when, a.status, a.body)
		}
		if rec := h.lastRecord(org); rec.Reason != string(access.DenyConsentPerPerson) || len(rec.Returned) != 0 {
			t.Fatalf("%s: employer search logged %s %v", when, rec.Reason, rec.Returned)
		}
		if a := h.do("GET", tok, "/api/v2/arbeidsforhold/"+af.UUID, nil); a.status != http.StatusForbidden {
			t.Fatalf("%s: uuid lookup on consent: %d", when, a.status)
		}
	}
	notKeyed("without consent")

	// The person gives consent in the portal.
	b := h.signIn(h.account(governance.Person, "", p.Ident))
	page := b.get("/portal/samtykker")
	if page.status != http.StatusOK || !page.has("Samtykkebanken: kredittvurdering") || page.has(p.Ident) {
		t.Fatalf("consent page: %d", page.status)
	}
	expiry := time.Now().In(lifeOslo(t)).AddDate(0, 0, 30).Format(time.DateOnly)
	page = b.post("/portal/samtykker", url.Values{"foresporsel": {org + "|kredittvurdering"}, "utloper": {expiry}})
	if page.status != http.StatusOK || !page.has("Samtykket er gitt til Samtykkebanken") {
		t.Fatalf("give: %d %s", page.status, page.body)
	}
	a := h.person(tok, p.Ident, "")
	var list []map[string]any
	if a.status != http.StatusOK || json.Unmarshal(a.body, &list) != nil || len(list) == 0 {
		t.Fatalf("with consent: %d %s", a.status, a.body)
	}
	if rec := h.lastRecord(org); rec.Decision != audit.Permit || len(rec.Returned) == 0 {
		t.Fatalf("with consent, log %s/%s", rec.Decision, rec.Reason)
	}
	notKeyed("with consent")
	// The consent is for this consumer: another consumer on consent for the same purpose gets nothing.
	org2, _ := h.consumer("Annen bank", consentGrant(basic, "kredittvurdering", access.ByArbeidstaker))
	if a := h.person(h.token(h.client(org2)), p.Ident, ""); string(a.body) != "[]" {
		t.Fatalf("another consumer: %s", a.body)
	}

	// Withdrawn: nothing again.
	cs, err := h.db.Consents(ctx, p.Ident)
	if err != nil || len(cs) != 1 {
		t.Fatalf("consents %v %v", cs, err)
	}
	if page := b.post("/portal/samtykker/"+cs[0].ID+"/trekk", nil); page.status != http.StatusOK || !page.has("trukket tilbake") {
		t.Fatalf("withdraw: %d", page.status)
	}
	withheld("after withdrawal")

	// Given again, it delivers until it expires.
	if page := b.post("/portal/samtykker", url.Values{"foresporsel": {org + "|kredittvurdering"}, "utloper": {time.Now().In(lifeOslo(t)).Format(time.DateOnly)}}); page.status != http.StatusOK {
		t.Fatalf("give again: %d", page.status)
	}
	if a := h.person(tok, p.Ident, ""); string(a.body) == "[]" {
		t.Fatal("renewed consent delivers nothing")
	}
	h.clock.advance(48 * time.Hour)
	withheld("after expiry")
}

// Rule SK-08: a grant on statute beside one on consent needs no consent for
// what the statute grant gives; what only the consent grant adds is delivered
// under consent alone.
func TestConsentBesideStatute(t *testing.T) {
	h := newHarness(t)
	org, _ := h.consumer("Blandet", grant(basic, access.ByArbeidstaker), consentGrant(detailed, "rådgivning", access.ByArbeidstaker))
	same, _ := h.consumer("Samme pakker", grant(basic, access.ByArbeidstaker), consentGrant(basic, "rådgivning", access.ByArbeidstaker))
	tok := h.token(h.client(org))
	p := h.employed(1)[0]

	a := h.person(tok, p.Ident, "")
	if a.status != http.StatusOK || string(a.body) == "[]" || strings.Contains(string(a.body), "ansettelsesdetaljer") {
		t.Fatalf("without consent: %d %s", a.status, a.body)
	}
	if rec := h.lastRecord(org); rec.Decision != audit.Permit || len(rec.Grants) != 1 || rec.Grants[0].LegalBasis == "den registrertes samtykke" {
		t.Fatalf("without consent, log %s %+v", rec.Decision, rec.Grants)
	}
	if a := h.person(h.token(h.client(same)), p.Ident, ""); a.status != http.StatusOK || string(a.body) == "[]" {
		t.Fatalf("statute and consent alike: %d %s", a.status, a.body)
	}

	b := h.signIn(h.account(governance.Person, "", p.Ident))
	expiry := time.Now().In(lifeOslo(t)).AddDate(0, 1, 0).Format(time.DateOnly)
	if page := b.post("/portal/samtykker", url.Values{"foresporsel": {org + "|rådgivning"}, "utloper": {expiry}}); page.status != http.StatusOK {
		t.Fatalf("give: %d", page.status)
	}
	if a := h.person(tok, p.Ident, ""); !strings.Contains(string(a.body), "ansettelsesdetaljer") {
		t.Fatalf("with consent: %s", a.body)
	}
	if rec := h.lastRecord(org); len(rec.Grants) != 2 {
		t.Fatalf("with consent, grants logged %+v", rec.Grants)
	}
}

func lifeOslo(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
