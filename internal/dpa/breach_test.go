package dpa

import (
	"testing"
	"time"

	"deling/internal/incident"
)

func TestBreachReport_DPA07(t *testing.T) {
	now := t0
	ok := BreachReport{Nature: "Feilsendt fil", SubjectCategories: "Søkere", Subjects: incident.Approx{Min: 10, Max: 20},
		RecordCategories: "Arbeidsforhold", Records: incident.Exact(40), Contact: "Per, per@leverandor.example",
		Consequences: "Mulig innsyn for uvedkommende", Measures: "Mottaker har slettet filen", AwareAt: now.Add(-time.Hour)}
	for _, tc := range []struct {
		name  string
		edit  func(r *BreachReport)
		field string
	}{
		{"complete", func(*BreachReport) {}, ""},
		{"a nature", func(r *BreachReport) { r.Nature = "" }, FieldBreachNature},
		{"a categories of persons", func(r *BreachReport) { r.SubjectCategories = "" }, FieldBreachSubjectCats},
		{"a number unknown is fine", func(r *BreachReport) { r.Records = incident.Approx{Unknown: true} }, ""},
		{"a bad range", func(r *BreachReport) { r.Subjects = incident.Approx{Min: 5, Max: 1} }, FieldBreachSubjects},
		{"b may follow", func(r *BreachReport) { r.Identities = "" }, ""},
		{"c contact point", func(r *BreachReport) { r.Contact = "" }, FieldBreachContact},
		{"d consequences", func(r *BreachReport) { r.Consequences = "" }, FieldBreachConsequences},
		{"e measures", func(r *BreachReport) { r.Measures = "" }, FieldBreachMeasures},
		{"f may follow", func(r *BreachReport) { r.Other = "" }, ""},
		{"awareness", func(r *BreachReport) { r.AwareAt = time.Time{} }, FieldBreachAwareAt},
		{"awareness in the future", func(r *BreachReport) { r.AwareAt = now.Add(time.Second) }, FieldBreachAwareAt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			bad := r.Validate(now)
			if (tc.field == "" && len(bad) > 0) || (tc.field != "" && (bad[tc.field] == "" || len(bad) != 1)) {
				t.Errorf("got %v, want only %q", bad, tc.field)
			}
		})
	}
}

// TestBreachDeadline_DPA07: 24 hours from the processor's awareness, or the agreed hours.
func TestBreachDeadline_DPA07(t *testing.T) {
	c := complete(t)
	aware := t0
	r := BreachReport{AwareAt: aware, ReportedAt: aware.Add(24 * time.Hour)}
	if got := BreachDeadline(c, aware); !got.Equal(aware.Add(24 * time.Hour)) {
		t.Errorf("deadline = %v", got)
	}
	if r.Late(c) {
		t.Error("at the deadline is on time")
	}
	r.ReportedAt = r.ReportedAt.Add(time.Second)
	if !r.Late(c) {
		t.Error("a second after is late")
	}
	c.BreachNoticeHours = 12
	if got := BreachDeadline(c, aware); !got.Equal(aware.Add(12 * time.Hour)) {
		t.Errorf("agreed 12 hours: %v", got)
	}
	c.BreachNoticeHours = 0
	if got := BreachDeadline(c, aware); !got.Equal(aware.Add(24 * time.Hour)) {
		t.Errorf("none agreed: %v", got)
	}
	// Filed into the breach handling, the clock starts at the processor's awareness (AV-03).
	r.Nature = "Feilsendt fil"
	ir := r.IncidentReport(incident.Actor{Org: proc, Role: incident.Reporter})
	b := incident.Breach{Report: ir}
	if !ir.ByProcessor || !b.Awareness().Equal(aware) {
		t.Errorf("incident report: %+v", ir)
	}
}
