package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"deling/internal/governance"
	"deling/internal/incident"
)

// Rules AA-18, AA-19: a fault reported to support becomes a service
// incident without a priority, seen by its reporter's organisation; a
// change request does not; the register sets the priority; the first
// status update is the first notice, published as an operational notice; the reaction and resolution are recorded once; a stale
// change is refused and changes nothing.
func TestSupportAndServiceIncidents(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, other = "310000102", "310000110"
		lifeConsumer(t, db, org, "", "drift@kommune.test")
		fault, err := db.ReportSupport(ctx, SupportCase{Kind: SupportFault, Title: "API svarer 500", Description: "Siden kl. 09",
			ReporterUser: "u1", ReporterName: "Una", ReporterOrg: org}, "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ReportSupport(ctx, SupportCase{Kind: SupportChange, Title: "Nytt felt", Description: "Ønsker yrkeskode",
			ReporterUser: "u1", ReporterName: "Una", ReporterOrg: org}, "user:u1"); err != nil {
			t.Fatal(err)
		}
		cases, err := db.SupportCases(ctx, org)
		if err != nil || len(cases) != 2 {
			t.Fatalf("cases %d %v", len(cases), err)
		}
		var svcID string
		for _, c := range cases {
			if c.ID == fault {
				svcID = c.ServiceIncident
			} else if c.ServiceIncident != "" {
				t.Fatal("a change request became a service incident")
			}
		}
		if others, _ := db.SupportCases(ctx, other); len(others) != 0 {
			t.Fatal("another organisation sees the cases")
		}
		s, err := db.ServiceIncident(ctx, svcID)
		if err != nil || s.Priority != "" || !s.VisibleTo(org) || s.VisibleTo(other) || s.VisibleTo("") {
			t.Fatalf("service incident %+v %v", s, err)
		}
		// The register sets priority A and posts the first update.
		if err := db.ChangeServiceIncident(ctx, svcID, s.Version, ServiceChange{Priority: incident.PriorityA}, "user:sb"); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeServiceIncident(ctx, svcID, s.Version, ServiceChange{Priority: incident.PriorityC}, "user:sb"); !errors.Is(err, ErrConflict) {
			t.Fatalf("a stale change: %v", err)
		}
		s, _ = db.ServiceIncident(ctx, svcID)
		if s.Priority != incident.PriorityA || !s.FirstNoticeAt.IsZero() {
			t.Fatalf("after priority: %+v", s.ServiceIncident)
		}
		n := governance.Notice{Kind: governance.NoticeNews, Title: "Driftshendelse: API svarer 500", Body: "Vi undersøker."}
		if err := db.ChangeServiceIncident(ctx, svcID, s.Version, ServiceChange{Notice: &n, Reacted: true, By: "Sara"}, "user:sb"); err != nil {
			t.Fatal(err)
		}
		s, _ = db.ServiceIncident(ctx, svcID)
		first, reacted := s.FirstNoticeAt, s.ReactedAt
		if first.IsZero() || reacted.IsZero() || len(s.Updates) != 1 || s.Updates[0].Body != "Vi undersøker." || s.Updates[0].By != "Sara" {
			t.Fatalf("after the first update: %+v", s)
		}
		// Rule AA-19: a consumer's fault is not public: no operational notice;
		// its update goes by letter to the consumers it affects.
		if ns, _ := db.Notices(ctx, 10); len(ns) != 0 || s.Updates[0].Notice != "" {
			t.Fatalf("notices %+v", ns)
		}
		if ls, _ := db.MailTo(ctx, org, 10); !slices.ContainsFunc(ls, func(l governance.Letter) bool {
			return l.Kind == governance.LetterServiceIncident && l.To == "drift@kommune.test"
		}) {
			t.Fatalf("letters %+v", ls)
		}
		n2 := governance.Notice{Kind: governance.NoticeNews, Title: "Driftshendelse: løst", Body: "Rettet."}
		if err := db.ChangeServiceIncident(ctx, svcID, s.Version, ServiceChange{Notice: &n2, Reacted: true, Resolved: true}, "user:sb"); err != nil {
			t.Fatal(err)
		}
		s, _ = db.ServiceIncident(ctx, svcID)
		if !s.FirstNoticeAt.Equal(first) || !s.ReactedAt.Equal(reacted) || s.ResolvedAt.IsZero() || len(s.Updates) != 2 {
			t.Fatalf("after resolving: %+v", s.ServiceIncident)
		}
		// The register's own, for every consumer.
		id, err := db.RecordServiceIncident(ctx, ServiceIncidentRecord{ServiceIncident: incident.ServiceIncident{Title: "Treg respons", Description: "…",
			Priority: incident.PriorityB, ReportedBy: incident.Actor{UserID: "sb", Name: "Sara", Org: incident.ControllerOrg}}}, "user:sb")
		if err != nil {
			t.Fatal(err)
		}
		all, _ := db.ServiceIncidents(ctx)
		if len(all) != 2 || all[0].ID != id || !all[0].VisibleTo(other) || all[0].Priority != incident.PriorityB {
			t.Fatalf("all %+v", all)
		}
		if err := db.AnswerSupport(ctx, "finnes-ikke", "x", "", "user:sb"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("answering nothing: %v", err)
		}
	})
}
