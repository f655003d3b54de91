package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	"deling/internal/access"
)

const enheterFile = `[
{"organisasjonsnummer":"310000031","navn":"SLETTET KOMMUNE","slettedato":"2026-11-01","naeringskode1":{"kode":"84.110"}},
{"organisasjonsnummer":"310000032","navn":"AKTIV","konkurs":false},
{"organisasjonsnummer":"310000033","navn":"KONKURS LEVERANDØR AS","konkurs":true},
{"organisasjonsnummer":"310000034","navn":"AVVIKLES AS","underAvvikling":true},
{"organisasjonsnummer":"399999999","navn":"IKKE KONSUMENT AS","slettedato":"2020-01-01"}
]`

// Rule AA-26: an organisation ceased in Enhetsregisteret loses its access: as consumer and as data processor.
func TestImportEnhetsregisteret(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		lifeConsumer(t, db, "310000031", "", "a@x.test")
		lifeConsumer(t, db, "310000032", "310000033", "b@x.test") // its processor goes bankrupt
		lifeConsumer(t, db, "310000034", "", "c@x.test")

		// A truncated file changes nothing, and the failed run is recorded.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(enheterFile))
		zw.Close()
		if _, err := db.ImportEnhetsregisteret(ctx, bytes.NewReader(gz.Bytes()[:gz.Len()-8]), "trunc.json.gz", "enhetsregisteret"); err == nil {
			t.Fatal("a truncated file was accepted")
		}
		if c, _ := db.Consumer(ctx, "310000031"); c.Status != access.Active {
			t.Fatal("a failed import changed a consumer")
		}
		if last, _ := db.LastEnhetsregisteretImport(ctx); !last.IsZero() {
			t.Fatal("a failed import counts as the last one")
		}

		run, err := db.ImportEnhetsregisteret(ctx, bytes.NewReader(gz.Bytes()), "enheter.json.gz", "enhetsregisteret")
		if err != nil {
			t.Fatal(err)
		}
		if run.Entries != 5 || strings.Join(run.Ceased, ",") != "310000031,310000033" || strings.Join(run.WindingUp, ",") != "310000034" {
			t.Fatalf("run %+v", run)
		}
		if c, _ := db.Consumer(ctx, "310000031"); c.Status != access.Ceased {
			t.Fatalf("deleted consumer: %s", c.Status)
		}
		if d := lifeDecide(t, db, "310000031", ""); d.Permit || d.Reason != access.DenyConsumerCeased {
			t.Fatalf("deleted consumer decision: %v", d.Reason)
		}
		grants, _ := db.Grants(ctx, "310000031")
		for _, g := range grants {
			if g.Status != access.Ended || g.StatusReason != ReasonCeased {
				t.Fatalf("grant %s %q", g.Status, g.StatusReason)
			}
		}
		// The consumer whose processor went bankrupt keeps its own access; the processor loses its delegation.
		if d := lifeDecide(t, db, "310000032", ""); !d.Permit {
			t.Fatalf("the processor's bankruptcy ended the consumer's own access: %v", d.Reason)
		}
		if d := lifeDecide(t, db, "310000032", "310000033"); d.Permit {
			t.Fatal("a bankrupt processor still acts")
		}
		// Winding up keeps access.
		if d := lifeDecide(t, db, "310000034", ""); !d.Permit {
			t.Fatalf("winding-up ended access: %v", d.Reason)
		}
		runs, err := db.EnhetsregisteretRuns(ctx, 10)
		if err != nil || len(runs) != 2 || runs[0].Error != "" || runs[1].Error == "" || runs[0].Entries != 5 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		if last, _ := db.LastEnhetsregisteretImport(ctx); !last.Equal(fixedNow()) {
			t.Fatalf("last import %v", last)
		}
		// The next day's file ceases nobody anew: the ceased are no longer watched.
		run, err = db.ImportEnhetsregisteret(ctx, strings.NewReader(enheterFile), "enheter.json", "enhetsregisteret")
		if err != nil || len(run.Ceased) != 0 {
			t.Fatalf("second run %+v %v", run, err)
		}
	})
}
