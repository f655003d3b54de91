package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/governance"
)

// Rule AA-20: a notice is published with one letter per subscribed contact of an active consumer, in one transaction.
func TestPublishNotice(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		termsConsumer(t, db, "310000001")
		termsContact(t, db, "310000001", "a1@a.example", true)
		termsContact(t, db, "310000001", "a2@a.example", false)
		termsConsumer(t, db, "310000002")
		termsContact(t, db, "310000002", "b1@b.example", true)
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: "310000003", Navn: "Opphørt", Status: access.Ceased}, "test"); err != nil {
			t.Fatal(err)
		}
		termsContact(t, db, "310000003", "c1@c.example", true)

		start, end := fixedNow().Add(8*24*time.Hour), fixedNow().Add(8*24*time.Hour+time.Hour)
		n, err := db.PublishNotice(ctx, governance.Notice{Kind: governance.NoticeDowntime, Title: "Vedlikehold", Body: "Tekst.", Start: &start, End: &end},
			governance.Letter{Subject: "Planlagt nedetid", Body: "..."}, "user:forvalter")
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == "" || !n.PublishedAt.Equal(fixedNow()) || n.PublishedBy != "user:forvalter" {
			t.Fatalf("notice: %+v", n)
		}
		ms := outbox(t, db)
		if got := addresses(ms, governance.LetterNotice); !slices.Equal(got, []string{"a1@a.example", "b1@b.example"}) {
			t.Fatalf("letters to %v", got)
		}
		for _, m := range ms {
			if (m.To == "a1@a.example" && m.Consumer != "310000001") || m.Subject != "Planlagt nedetid" {
				t.Fatalf("letter: %+v", m)
			}
		}
		got, err := db.Notice(ctx, n.ID)
		if err != nil || got.Start == nil || !got.Start.Equal(start) || !got.End.Equal(end) || got.Title != "Vedlikehold" || got.Kind != governance.NoticeDowntime {
			t.Fatalf("stored: %v %+v", err, got)
		}
		if ev := events(t, db, "", audit.KindNotice); len(ev) != 1 || ev[0]["notice"] != n.ID || ev[0]["letters"] != float64(2) {
			t.Fatalf("events: %v", ev)
		}

		// Rule AA-23: normal changes whose old version still lives.
		sunset, gone := fixedNow().AddDate(0, 4, 0), fixedNow().Add(-time.Hour)
		live, err := db.PublishNotice(ctx, governance.Notice{Kind: governance.NoticeNormal, Title: "v3", Body: ".", APIPrefix: "/api/v2", Sunset: &sunset}, governance.Letter{}, "user:forvalter")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishNotice(ctx, governance.Notice{Kind: governance.NoticeNormal, Title: "v2", Body: ".", APIPrefix: "/api/v1", Sunset: &gone,
			PublishedAt: fixedNow().AddDate(-1, 0, 0)}, governance.Letter{}, "user:forvalter"); err != nil {
			t.Fatal(err)
		}
		deps, err := db.DeprecationNotices(ctx)
		if err != nil || len(deps) != 1 || deps[0].ID != live.ID || deps[0].APIPrefix != "/api/v2" || !deps[0].Sunset.Equal(sunset) {
			t.Fatalf("deprecations: %v %+v", err, deps)
		}
		all, err := db.Notices(ctx, 10)
		if err != nil || len(all) != 3 || all[2].Title != "v2" {
			t.Fatalf("notices newest first: %v %+v", err, all)
		}
		if _, err := db.Notice(ctx, "nope"); err == nil {
			t.Fatal("unknown notice found")
		}
	})
}

// Rule AA-20: a consumer with access but no subscription is reminded, at most once per interval, until it subscribes.
func TestRemindToSubscribe(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		termsConsumer(t, db, "310000001") // no contacts: its administrators are reminded
		if _, err := db.CreateUser(ctx, governance.User{Email: "admin@a.example", Navn: "Admin"}, "x",
			[]governance.Membership{{Org: "310000001", Role: governance.Administrator}}, "test"); err != nil {
			t.Fatal(err)
		}
		termsConsumer(t, db, "310000002")
		termsContact(t, db, "310000002", "b@b.example", false) // a contact who does not subscribe is reminded
		termsConsumer(t, db, "310000003")
		termsContact(t, db, "310000003", "c@c.example", true) // subscribes: not reminded
		if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: "310000004", Navn: "Uten tilgang", Status: access.Active}, "test"); err != nil {
			t.Fatal(err)
		}

		us, err := db.UnsubscribedConsumers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var orgs []string
		for _, u := range us {
			orgs = append(orgs, u.Consumer.Orgnr)
			if u.LastReminded != nil {
				t.Fatalf("reminded already: %+v", u)
			}
		}
		if !slices.Equal(orgs, []string{"310000001", "310000002"}) {
			t.Fatalf("unsubscribed: %v", orgs)
		}
		letter := governance.Letter{Subject: "Abonner på driftsmeldinger", Body: "..."}
		for _, org := range orgs {
			if ok, err := db.RemindToSubscribe(ctx, org, 7*24*time.Hour, letter); err != nil || !ok {
				t.Fatalf("remind %s: %v %v", org, ok, err)
			}
		}
		if got := addresses(outbox(t, db), governance.LetterRemindSubscribe); !slices.Equal(got, []string{"admin@a.example", "b@b.example"}) {
			t.Fatalf("reminders to %v", got)
		}
		// Not again within the interval.
		if ok, err := db.RemindToSubscribe(ctx, "310000001", 7*24*time.Hour, letter); err != nil || ok {
			t.Fatalf("again: %v %v", ok, err)
		}
		if us, _ := db.UnsubscribedConsumers(ctx); len(us) != 2 || us[0].LastReminded == nil || !us[0].LastReminded.Equal(fixedNow()) {
			t.Fatalf("last reminded: %+v", us)
		}
		// Once it subscribes, never.
		termsContact(t, db, "310000001", "ny@a.example", true)
		if ok, err := db.RemindToSubscribe(ctx, "310000001", 0, letter); err != nil || ok {
			t.Fatalf("subscribed: %v %v", ok, err)
		}
		if us, _ := db.UnsubscribedConsumers(ctx); len(us) != 1 || us[0].Consumer.Orgnr != "310000002" {
			t.Fatalf("after subscribing: %+v", us)
		}
	})
}
