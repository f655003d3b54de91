package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deling/internal/audit"
)

// Rules AA-16, AA-17 (issue 11, item 1): a record is stored as version 2 —
// the leaf's record holds commitments only, the subjects' salts and the kept
// response lie beside it — and reading it back opens it whole; a person's
// insight finds it, and their opening fits their commitment only.
func TestRecordVersion2Storage(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mine, other, unit := "01010100003", "02020200005", "03030300007"
		units := `{"jobbid":"j1","kriterier":{"enheter":["` + unit + `","` + mine + `"]}}`
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit, Request: json.RawMessage(units)}); err != nil {
			t.Fatal(err)
		}
		resp := audit.Compress([]byte(`[{"arbeidstaker":"` + other + `"}]`))
		if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit,
			Request: json.RawMessage(`{"arbeidsstedId":"910000001"}`), Returned: []string{mine, other}, ResultCount: 2, ResponseHash: "ab", Response: resp}); err != nil {
			t.Fatal(err)
		}
		rows, err := db.write.QueryContext(ctx, `SELECT stored FROM audit_log ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			b, err := audit.UnpackRecord(b)
			if err != nil || len(b) == 0 {
				t.Fatalf("stored record: %q, %v", b, err)
			}
			for _, id := range []string{mine, other, unit} {
				if bytes.Contains(b, []byte(id)) {
					t.Errorf("identity %s… in a stored leaf record: %s", id[:4], b)
				}
			}
			if bytes.Contains(b, []byte("responseDeflate")) {
				t.Errorf("kept response in the leaf record: %s", b)
			}
		}
		rows.Close()
		recs, err := db.StoredRecords(ctx, RecordQuery{All: true, Limit: 10})
		if err != nil || len(recs) != 2 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		if string(recs[0].Record.Request) != units || !slices.Equal(recs[1].Record.Returned, []string{mine, other}) || !bytes.Equal(recs[1].Record.Response, resp) {
			t.Fatalf("not opened whole: %s %v %v", recs[0].Record.Request, recs[1].Record.Returned, recs[1].Record.Response != nil)
		}
		// The insight index holds the persons returned, not those only named.
		if got, _ := db.StoredRecords(ctx, RecordQuery{Subject: mine}); len(got) != 1 || got[0].Seq != 1 {
			t.Fatalf("insight for the returned person: %d", len(got))
		}
		if got, _ := db.StoredRecords(ctx, RecordQuery{Subject: unit}); len(got) != 0 {
			t.Fatalf("a person only named is in the insight index: %d", len(got))
		}
		o := recs[1].SubjectOpening(mine)
		if o == nil {
			t.Fatal("no opening for the person")
		}
		if a, err := audit.AppearanceOf(recs[1].Canonical, mine, o.Salt); err != nil || !a.Returned {
			t.Fatalf("opening: %+v %v", a, err)
		}
		if a, _ := audit.AppearanceOf(recs[1].Canonical, other, o.Salt); a.Returned || a.Named {
			t.Fatal("one person's salt opens another's commitment")
		}
	})
}

// Issue 11, item 5: verifying while appends go on reads one snapshot and
// finds the log intact (it reported "inserted" records and "a node beyond the
// tree" before).
func TestVerifyWhileAppending(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, 50, 4)
		checkpoint(t, db, s)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ { // bounded
				select {
				case <-stop:
					return
				default:
				}
				if err := db.Append(ctx, &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Returned: []string{fmt.Sprintf("0101010%04d", i%50)}}); err != nil {
					errs <- err
					return
				}
				if i%100 == 99 {
					checkpoint(t, db, s)
				}
			}
		}()
		for k := 0; k < 8; k++ {
			rep, err := verifyLog(ctx, db, v)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("verify %d of a live log: %+v %+v", k, rep.Counts, rep.Problems[:min(5, len(rep.Problems))])
			}
		}
		close(stop)
		wg.Wait()
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	})
}

// Issue 11, item 5: problems in log order, the same on every run, those
// beyond the cap counted; a changed leaf hash is a bad node, not a changed
// record; a checkpoint whose signature fails is named by its stored size.
func TestVerifyReportsInLogOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		appendN(t, db, audit.MaxProblems+201, 8)
		checkpoint(t, db, s)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// A leaf hash changed apart from its record (index 6, and the last, unpaired leaf).
		last := audit.MaxProblems + 200
		setLeafHash(t, db, 6, bytes.Repeat([]byte{7}, 32))
		setLeafHash(t, db, uint64(last), bytes.Repeat([]byte{7}, 32))
		rep, err := verifyLog(ctx, db, v)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts[audit.ProblemChanged] != 0 || rep.Counts[audit.ProblemCheckpoint] != 0 || len(rep.Problems) != 2 ||
			rep.Problems[0].Kind != audit.ProblemNode || rep.Problems[0].Index != 6 || rep.Problems[0].Level != 0 || rep.Problems[1].Index != uint64(last) {
			t.Fatalf("a changed leaf hash: %+v %+v", rep.Counts, rep.Problems)
		}
		// Every record changed: more problems than the cap, in log order, the rest counted.
		exec(`UPDATE audit_log SET stored = $1`, []byte(`{"v":2,"kind":"lookup","decision":"deny"}`))
		other, _ := logKey(t)
		signed, _ := audit.Checkpoint{Origin: "test.deling/log", Size: 10, Root: make([]byte, 32)}.Sign(other)
		db.AddCheckpoint(ctx, 10, make([]byte, 32), signed)
		rep, _ = verifyLog(ctx, db, v)
		again, _ := verifyLog(ctx, db, v)
		if len(rep.Problems) != audit.MaxProblems || rep.Omitted != rep.Counts[audit.ProblemChanged]+rep.Counts[audit.ProblemNode]+rep.Counts[audit.ProblemCheckpoint]-audit.MaxProblems {
			t.Fatalf("%d problems listed, %d omitted, counts %v", len(rep.Problems), rep.Omitted, rep.Counts)
		}
		pos := func(p audit.Problem) uint64 {
			if p.Kind == audit.ProblemNode {
				return p.Index << p.Level
			}
			return p.Index
		}
		for i := 1; i < len(rep.Problems); i++ {
			if pos(rep.Problems[i]) < pos(rep.Problems[i-1]) {
				t.Fatalf("not in log order at %d: %+v then %+v", i, rep.Problems[i-1], rep.Problems[i])
			}
		}
		if fmt.Sprint(rep.Problems) != fmt.Sprint(again.Problems) {
			t.Fatal("two runs report differently")
		}
		found := false
		for _, p := range rep.Problems {
			if p.Kind == audit.ProblemCheckpoint && p.Index == 10 && strings.Contains(p.Detail, "signature") {
				found = true
			}
		}
		if !found {
			t.Fatal("the foreign checkpoint is not named by its stored size 10")
		}
	})
}

// Security review, item 1 (Rules AA-16, AA-17): what is kept beside a
// version-2 record — the subjects blob and the insight index — is checked
// against its commitments. Deleting a person's index entry or their subject,
// adding one, or dropping the blob makes the person's lookups vanish from
// their insight (or show others'), and verify names each such record by its
// index, never by the person.
func TestVerifySubjectsBesideRecords(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s, v := logKey(t)
		mine, other, unit := "01010100003", "02020200005", "03030300007"
		req := json.RawMessage(`{"enheter":["` + unit + `"],"ident":"` + mine + `"}`)
		for i := 0; i < 8; i++ {
			r := &audit.Record{Kind: audit.KindLookup, Consumer: "310000001", Decision: audit.Permit, Request: req, Returned: []string{mine, other}}
			if i == 7 {
				r = &audit.Record{Kind: audit.KindConsent, Actor: "x", Event: json.RawMessage(`{"person":"` + mine + `"}`)}
			}
			if err := db.Append(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		checkpoint(t, db, s)
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() {
			t.Fatalf("untouched: %v %+v", err, rep)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// without returns record seq's subjects blob less the subject ident, or with extra added.
		blob := func(seq int, drop string, extra ...audit.Subject) []byte {
			t.Helper()
			var b []byte
			if err := db.write.QueryRowContext(ctx, `SELECT subjects FROM audit_log WHERE seq = $1`, seq).Scan(&b); err != nil {
				t.Fatal(err)
			}
			subs, err := audit.DecodeSubjects(b)
			if err != nil {
				t.Fatal(err)
			}
			subs = slices.DeleteFunc(subs, func(s audit.Subject) bool { return s.Ident == drop })
			return audit.EncodeSubjects(append(subs, extra...))
		}
		salt := bytes.Repeat([]byte{9}, audit.SubjectSaltSize)
		// 0: the person's insight index entry deleted.
		exec(`DELETE FROM audit_subjects WHERE seq = 0 AND ident = $1`, mine)
		// 1: the person's subject deleted from the blob (index entry kept).
		exec(`UPDATE audit_log SET subjects = $1 WHERE seq = 1`, blob(1, mine))
		// 2: both: the person vanishes from the record and from their insight.
		exec(`UPDATE audit_log SET subjects = $1 WHERE seq = 2`, blob(2, mine))
		exec(`DELETE FROM audit_subjects WHERE seq = 2 AND ident = $1`, mine)
		// 3: a person only named in the request removed from the blob.
		exec(`UPDATE audit_log SET subjects = $1 WHERE seq = 3`, blob(3, unit))
		// 4: an extra subject, and an index entry for someone the record did not return.
		exec(`UPDATE audit_log SET subjects = $1 WHERE seq = 4`, blob(4, "", audit.Subject{Ident: "04040400001", Salt: salt, Returned: true}))
		exec(`INSERT INTO audit_subjects (ident, seq) VALUES ($1, 5)`, "04040400001")
		// 6: the whole blob gone; 7: the event's person's subject gone.
		exec(`UPDATE audit_log SET subjects = NULL WHERE seq = 6`)
		exec(`UPDATE audit_log SET subjects = $1 WHERE seq = 7`, blob(7, mine))
		rep, err := verifyLog(ctx, db, v)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, p := range rep.Problems {
			if p.Kind != audit.ProblemSubjects {
				t.Errorf("other problem: %+v", p)
			}
			for _, id := range []string{mine, other, unit, "04040400001"} {
				if strings.Contains(p.Detail, id) {
					t.Errorf("a problem names a person: %+v", p)
				}
			}
			got = append(got, p.Index)
		}
		if want := []uint64{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
			t.Fatalf("subjects problems at %v, want %v: %+v", got, want, rep.Problems)
		}
		// Retention erases the records with what lies beside them: nothing left to check.
		if _, err := db.EraseRecordsBefore(ctx, fixedNow().Add(time.Hour), "test"); err != nil {
			t.Fatal(err)
		}
		exec(`DELETE FROM audit_subjects WHERE seq = 5`) // left by the tampering above: not the record's
		if rep, err := verifyLog(ctx, db, v); err != nil || !rep.OK() || rep.Erased != 8 {
			t.Fatalf("after retention: %v %+v", err, rep)
		}
	})
}
