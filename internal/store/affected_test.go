package store

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"deling/internal/access"
	"deling/internal/audit"
	"deling/internal/incident"
)

// affectedIdents are the identities of a list.
func affectedIdents(l audit.AffectedList) []string {
	var out []string
	for _, p := range l.Persons {
		out = append(out, p.Ident)
	}
	return out
}

// Rules AV-05, AA-16, AA-22 (issue 12 item 6): who was affected is exactly the
// set of persons whose data the log's lookups returned for the chosen consumer
// (client, web user) and window, as of a checkpoint: persons looked up before
// or after the window, by another consumer, by a denied or screened lookup,
// read by the register (insight), or after the checkpoint are not in it. The
// same checkpoint gives the same list after more lookups; counts by channel;
// the scan agrees with the pure selection over every record.
func TestAffectedFromLog(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const a, b = "310000031", "310000049"
		t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		p := func(i int) string { return "0101010" + strings.Repeat("0", 4-len(itoaTest(i))) + itoaTest(i) }
		add := func(r audit.Record) {
			t.Helper()
			if err := db.Append(ctx, &r); err != nil {
				t.Fatal(err)
			}
		}
		lookup := func(cons string, ch access.Channel, at time.Time, idents ...string) audit.Record {
			return audit.Record{Kind: audit.KindLookup, Channel: string(ch), Consumer: cons, Time: at, Decision: audit.Permit,
				Returned: idents, ResultCount: 2 * len(idents)}
		}
		add(lookup(a, access.ChannelAPI, t0, p(1))) // before the window
		r := lookup(a, access.ChannelAPI, t0.Add(time.Hour), p(2), p(3))
		r.ClientID = "klient-1"
		add(r)
		r = lookup(a, access.ChannelWeb, t0.Add(2*time.Hour), p(3), p(4))
		r.EndUser = "user:u1"
		add(r)
		add(audit.Record{Kind: audit.KindLookup, Channel: "api", Consumer: a, Time: t0.Add(2 * time.Hour), Decision: audit.Deny,
			Request: json.RawMessage(`{"ident":"` + p(5) + `"}`)}) // denied: nothing returned
		add(audit.Record{Kind: audit.KindLookup, Channel: "api", Consumer: a, Time: t0.Add(2 * time.Hour), Decision: audit.Screened,
			Request: json.RawMessage(`{"ident":"` + p(11) + `"}`)}) // screened: nothing returned
		add(lookup(b, access.ChannelAPI, t0.Add(2*time.Hour), p(6))) // another consumer
		add(lookup(a, access.ChannelAPI, t0.Add(3*time.Hour), p(7))) // at the window's end: after it
		add(lookup(a, access.ChannelExtract, t0.Add(150*time.Minute), p(8), p(2)))
		add(audit.Record{Kind: audit.KindInsight, Channel: "portal", Consumer: a, Time: t0.Add(2 * time.Hour), Decision: audit.Permit, Returned: []string{p(9)}})
		if _, err := db.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		size, root, err := db.LogRoot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddCheckpoint(ctx, size, root, []byte("test checkpoint\n")); err != nil {
			t.Fatal(err)
		}
		gotSize, gotRoot, err := db.LatestCheckpointRoot(ctx)
		if err != nil || gotSize != size || string(gotRoot) != string(root) {
			t.Fatalf("latest checkpoint %d %x, want %d %x (%v)", gotSize, gotRoot, size, root, err)
		}
		// After the checkpoint: the same consumer, inside the window.
		add(lookup(a, access.ChannelAPI, t0.Add(90*time.Minute), p(10)))

		scope := audit.Scope{Consumer: a, From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour), Size: size}
		l, err := db.Affected(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := affectedIdents(l), []string{p(2), p(3), p(4), p(8)}; !slices.Equal(got, want) {
			t.Fatalf("affected %v, want %v", got, want)
		}
		if l.Records != 3 || l.Items != 12 || !slices.Equal(l.Consumers, []string{a}) {
			t.Fatalf("counts: %d records, %d items, consumers %v", l.Records, l.Items, l.Consumers)
		}
		wantCh := []audit.ChannelCount{{Channel: "api", Persons: 2, Records: 1}, {Channel: "extract", Persons: 2, Records: 1}, {Channel: "web", Persons: 2, Records: 1}}
		if !reflect.DeepEqual(l.ByChannel, wantCh) {
			t.Fatalf("by channel %+v", l.ByChannel)
		}
		if pp := l.Persons[0]; pp.Ident != p(2) || !slices.Equal(pp.Channels, []string{"api", "extract"}) || len(pp.Records) != 2 {
			t.Fatalf("person 2: %+v", pp)
		}
		// The scan equals the pure selection over every record of the log.
		all, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		recs := map[uint64]audit.Record{}
		for _, sr := range all {
			recs[sr.Seq] = sr.Record
		}
		if ref := audit.AffectedIn(scope, recs); !reflect.DeepEqual(ref, l) {
			t.Fatalf("scan %+v\npure %+v", l, ref)
		}
		// Reproducible: more lookups later change nothing at the same checkpoint; the newest log has the later one.
		add(lookup(a, access.ChannelWeb, t0.Add(2*time.Hour), p(12)))
		if again, _ := db.Affected(ctx, scope); !reflect.DeepEqual(again, l) {
			t.Fatalf("same checkpoint, another list: %+v", again)
		}
		now, _ := db.LogSize(ctx)
		later := scope
		later.Size = now
		if l2, _ := db.Affected(ctx, later); !slices.Equal(affectedIdents(l2), []string{p(2), p(3), p(4), p(8), p(10), p(12)}) {
			t.Fatalf("at the log's size: %v", affectedIdents(l2))
		}
		// By client key, by web user, by window alone (every consumer).
		for _, c := range []struct {
			scope audit.Scope
			want  []string
		}{
			{audit.Scope{ClientID: "klient-1", Size: size}, []string{p(2), p(3)}},
			{audit.Scope{EndUser: "user:u1", Size: size}, []string{p(3), p(4)}},
			{audit.Scope{From: t0.Add(2 * time.Hour), To: t0.Add(2*time.Hour + time.Minute), Size: size}, []string{p(3), p(4), p(6)}},
			{audit.Scope{Consumer: b, Size: size}, []string{p(6)}},
		} {
			got, err := db.Affected(ctx, c.scope)
			if err != nil || !slices.Equal(affectedIdents(got), c.want) {
				t.Fatalf("%+v: %v, want %v (%v)", c.scope, affectedIdents(got), c.want, err)
			}
		}
		// Records retention erased are counted as such: the list cannot say whom they returned.
		if _, err := db.EraseRecordsBefore(ctx, t0.Add(time.Minute), "test"); err != nil {
			t.Fatal(err)
		}
		if e, _ := db.Affected(ctx, audit.Scope{Consumer: a, Size: size}); e.Erased != 1 || slices.Contains(affectedIdents(e), p(1)) {
			t.Fatalf("erased %d, %v", e.Erased, affectedIdents(e))
		}
		if _, err := db.CheckpointRoot(ctx, size+100); err == nil {
			t.Fatal("a checkpoint that does not exist")
		}
	})
}

// Rule AV-07: a computation of who was affected is a step on the case, kept
// with its counts and checkpoint, its event in the log without identities.
func TestAffectedSavedOnCase(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := fixedNow()
		rep := incident.Report{What: "Feil", DiscoveredAt: now.Add(-time.Hour), ReportedBy: incident.Actor{UserID: "u1", Name: "U"}, ReportedAt: now}
		id, err := db.ReportIncident(ctx, rep, "", nil, "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := db.Incident(ctx, id)
		ac := incident.AffectedCount{Consumer: "310000031", EndUser: "01010100001", CheckpointSize: 7, CheckpointRoot: "cm9vdA==", Persons: 4, Records: 3,
			ByChannel: []incident.ChannelCount{{Channel: "api", Persons: 2, Records: 1}}, At: now}
		if _, err := db.ChangeIncident(ctx, id, c.Version, IncidentChange{Step: StepAffected, Status: c.Status, Affected: &ac, By: "S"}, "user:s"); err != nil {
			t.Fatal(err)
		}
		c, _ = db.Incident(ctx, id)
		if got := c.LatestAffected(); got == nil || got.Persons != 4 || got.CheckpointSize != 7 || got.ID == "" || !maps.Equal(map[string]int{"api": 2}, map[string]int{got.ByChannel[0].Channel: got.ByChannel[0].Persons}) {
			t.Fatalf("saved %+v", c.Affected)
		}
		evs := incidentEvents(t, db, id)
		if last := evs[len(evs)-1]; last["step"] != StepAffected {
			t.Fatalf("event %v", last)
		}
		recs, _ := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 100})
		for _, sr := range recs {
			if strings.Contains(string(sr.Canonical), "01010100001") || strings.Contains(string(sr.Canonical), "310000031") {
				t.Fatalf("the event names the scope: %s", sr.Canonical)
			}
		}
	})
}

func itoaTest(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
