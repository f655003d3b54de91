package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
	"deling/internal/job"
	"deling/internal/register"
	"deling/internal/store"
)

// DefaultLogOrigin names the lookup log in its checkpoints.
const DefaultLogOrigin = "deling.local/lookup-log"

// logKeys loads the lookup log's checkpoint signing key: from $DELING_LOG_KEY
// (the note key text), or from FILE, made on first use. Several nodes on one
// PostgreSQL must share it.
func logKeys(getenv func(string) string, file, origin string) (note.Signer, string, error) {
	skey := strings.TrimSpace(getenv("DELING_LOG_KEY"))
	if skey == "" {
		b, err := os.ReadFile(file)
		switch {
		case errors.Is(err, os.ErrNotExist):
			s, v, err := audit.NewKey(origin)
			if err != nil {
				return nil, "", err
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				return nil, "", err
			}
			if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
				return nil, "", err
			}
			if err := os.WriteFile(file+".pub", []byte(v+"\n"), 0o644); err != nil {
				return nil, "", err
			}
			skey = s
		case err != nil:
			return nil, "", err
		default:
			skey = strings.TrimSpace(string(b))
		}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("lookup log key: %w", err)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, "", err
	}
	return signer, vkey, nil
}

// checkSharedLogKey refuses to start a node on a PostgreSQL database whose
// lookup log already has a key (store.PinLogKey) when this node has neither
// $DELING_LOG_KEY nor the key file: logKeys would make a new key at that
// path, which the database then refuses, and the new file would stay in the
// way. Nodes 2..N must be given the first node's key.
func checkSharedLogKey(ctx context.Context, db *store.DB, getenv func(string) string, file string) error {
	if db.Engine() != store.Postgres || strings.TrimSpace(getenv("DELING_LOG_KEY")) != "" {
		return nil
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pinned, err := db.LogKey(ctx)
	if err != nil || pinned == "" {
		return err
	}
	return fmt.Errorf("lookup log key: %s does not exist, and the lookup log in this database is signed with the key %s: "+
		"copy the first node's key file to %s (or --log-key FILE), or give its text in $DELING_LOG_KEY; a new key would sign checkpoints no one can verify", file, pinned, file)
}

// verifierKey derives the public note key from a private one ("PRIVATE+KEY+name+hash+key").
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("lookup log key: not a note private key")
	}
	// The private key text holds the Ed25519 seed after a type byte; the public key follows from it.
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("lookup log key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// verifierKeyFor finds the log's public key without ever making one: a new
// key would make every stored checkpoint look foreign.
func verifierKeyFor(getenv func(string) string, key, file, defaultFile string) (string, error) {
	switch {
	case key != "":
		return key, nil
	case file != "":
	case getenv("DELING_LOG_KEY") != "":
		return verifierKey(strings.TrimSpace(getenv("DELING_LOG_KEY")))
	default:
		file = defaultFile
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("the log's verifier key: %w (give --key or --key-file)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// checkpointJob signs a checkpoint when the log has grown since the last one.
func checkpointJob(db *store.DB, signer note.Signer, origin string, every time.Duration) job.Job {
	return job.Job{Name: "sign lookup-log checkpoints", Interval: every, Run: func(ctx context.Context) error {
		_, err := makeCheckpoint(ctx, db, signer, origin)
		return err
	}}
}

// integrateJob adds the records appended since its last run to the log's
// tree (store.Integrate) and observes how long they waited. It runs on the
// leading node only, every store.IntegrateEvery.
func integrateJob(db *store.DB, delay prometheus.Observer) job.Job {
	return job.Job{Name: "integrate the lookup log", Interval: store.IntegrateEvery, Single: true, Run: func(ctx context.Context) error {
		in, err := db.Integrate(ctx)
		if in.Records > 0 {
			delay.Observe(in.Delay.Seconds())
		}
		return err
	}}
}

// logCollector exposes the lookup log's progress at each scrape, from one
// query of the database (every node sees the same): records not yet in the
// tree, records not yet under a signed checkpoint, and the newest
// checkpoint's age.
type logCollector struct {
	db                                  *store.DB
	now                                 func() time.Time
	unintegrated, uncovered, checkpoint *prometheus.Desc
}

func newLogCollector(db *store.DB) *logCollector {
	return &logCollector{db: db, now: time.Now,
		unintegrated: prometheus.NewDesc("deling_log_unintegrated_records", "Records of the lookup log written but not yet in its tree.", nil, nil),
		uncovered:    prometheus.NewDesc("deling_log_uncovered_records", "Records of the lookup log not yet under a signed checkpoint (no receipt for them yet).", nil, nil),
		checkpoint:   prometheus.NewDesc("deling_log_checkpoint_age_seconds", "Seconds since the newest signed checkpoint of the lookup log was stored (a checkpoint is signed only when the tree has grown).", nil, nil),
	}
}

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.unintegrated
	ch <- c.uncovered
	ch <- c.checkpoint
}

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.db.LogStatus(ctx)
	if err != nil {
		return // a scrape without these: the database's own error shows elsewhere
	}
	ch <- prometheus.MustNewConstMetric(c.unintegrated, prometheus.GaugeValue, float64(st.Records)-float64(st.Tree))
	ch <- prometheus.MustNewConstMetric(c.uncovered, prometheus.GaugeValue, float64(st.Records)-float64(st.Checkpoint))
	if !st.CheckpointAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.checkpoint, prometheus.GaugeValue, c.now().Sub(st.CheckpointAt).Seconds())
	}
}

// makeCheckpoint integrates what was appended, then signs and stores a
// checkpoint of the tree, unless one of that size exists.
func makeCheckpoint(ctx context.Context, db *store.DB, signer note.Signer, origin string) ([]byte, error) {
	if _, err := db.Integrate(ctx); err != nil {
		return nil, err
	}
	size, root, err := db.LogRoot(ctx)
	if err != nil {
		return nil, err
	}
	if last, signed, err := db.LatestCheckpoint(ctx); err == nil && last == size {
		return signed, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	signed, err := audit.Checkpoint{Origin: origin, Size: size, Root: root}.Sign(signer)
	if err != nil {
		return nil, err
	}
	return signed, db.AddCheckpoint(ctx, size, root, signed)
}

// DefaultLogMinRetention is how long a lookup-log record's content is kept at
// least (Rules AA-16, AA-17: a person's insight covers at least the last
// year): `audit erase` refuses a date inside it, and `serve --log-retention`
// may not be shorter. --log-min-retention changes it, down to
// LogRetentionFloor.
const DefaultLogMinRetention = 365 * 24 * time.Hour

// LogRetentionFloor is the shortest minimum retention deling takes, whatever
// --log-min-retention says; no setting lowers it. Rule AA-16 wants every
// lookup traceable afterwards: a person who learns of a lookup, or a
// supervisory authority that is told of a misuse, must still find its record
// when they ask, which takes weeks (a request for insight is answered within
// a month, GDPR Art. 12(3)). A retention of a day, or of a second, would let
// a lookup vanish before anyone could ask about it.
const LogRetentionFloor = 30 * 24 * time.Hour

// forever is the retention of a log whose records are never erased.
const forever = time.Duration(math.MaxInt64)

// retentionJob erases the content of records older than keep (Rule AA-16 keeps the
// trace; the leaf hashes keep every proof valid). Each erasure is recorded in the log.
func retentionJob(db *store.DB, keep time.Duration) job.Job {
	return job.Job{Name: "lookup-log retention", Interval: time.Hour, Run: func(ctx context.Context) error {
		_, err := db.EraseRecordsBefore(ctx, time.Now().Add(-keep), "retention")
		return err
	}}
}

// checkRetention is the one check of both `serve` (--log-retention) and
// `audit erase` (--before): minKeep (--log-min-retention) must be at least
// LogRetentionFloor, and keep, the age from which records would be erased
// (forever for none), at least minKeep.
func checkRetention(keep, minKeep time.Duration) error {
	if minKeep < LogRetentionFloor {
		return fmt.Errorf("--log-min-retention %s is under the floor of %s (30 days), which no setting lowers: Rule AA-16 keeps every lookup traceable afterwards",
			minKeep, LogRetentionFloor)
	}
	if keep < minKeep {
		return fmt.Errorf("a retention of %s is inside the minimum retention of %s (--log-min-retention)", keep, minKeep)
	}
	return nil
}

// adminToken loads the staff token for the insight endpoints from
// $DELING_ADMIN_TOKEN, or from FILE, made on first use.
func adminToken(getenv func(string) string, file string) (string, error) {
	if t := strings.TrimSpace(getenv("DELING_ADMIN_TOKEN")); t != "" {
		return t, nil
	}
	b, err := os.ReadFile(file)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	t := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	return t, os.WriteFile(file, []byte(t+"\n"), 0o600)
}

func runAudit(ctx context.Context, g *globals, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	keyFile := func() string { return filepath.Join(g.data, "lookup-log.key") }
	return sub("audit", args, stderr, map[string]func([]string) error{
		"verify": func(args []string) error {
			fs := newFlagSet("audit verify", "audit verify [--json] [--key VERIFIER-KEY | --key-file FILE] [--trusted FILE [--witness-key VKEY …]]", g, stderr)
			asJSON := fs.Bool("json", false, "print the report as JSON")
			trusted := fs.String("trusted", "", "a checkpoint kept outside the data directory (saved earlier, or a witness's): prove the log extends it, not truncated or forked")
			var witnessKeys witnessKeyFlags
			fs.Var(&witnessKeys, "witness-key", "a witness's key whose cosignature the --trusted checkpoint must carry (repeatable)")
			key := fs.String("key", "", "the log's verifier key (default: from $DELING_LOG_KEY, or DATA/lookup-log.key.pub)")
			keyFileFlag := fs.String("key-file", "", "file holding the verifier key")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, _ register.Env) error {
				vkey, err := verifierKeyFor(getenv, *key, *keyFileFlag, keyFile()+".pub")
				if err != nil {
					return err
				}
				v, err := note.NewVerifier(vkey)
				if err != nil {
					return err
				}
				// One consistent snapshot: appends go on while a live log is verified.
				snap, err := db.LogSnapshot(ctx)
				if err != nil {
					return err
				}
				defer snap.Close()
				size, err := snap.Size(ctx)
				if err != nil {
					return err
				}
				bar := newProgress(stderr, "verifying the lookup log", int64(size))
				start := time.Now()
				var last uint64
				rep, err := audit.Verify(ctx, snap, v, func(done, total uint64) {
					bar.Add(int64(done - last))
					last = done
				})
				bar.Finish()
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					enc.Encode(rep)
				} else {
					fmt.Fprintf(stdout, "%s (%s erased by retention), %s, verified in %s\n",
						count(rep.Records, "record", "records"), thousands(int64(rep.Erased)), count(rep.Checkpoints, "checkpoint", "checkpoints"), time.Since(start).Round(time.Millisecond))
					for _, p := range rep.Problems {
						where := fmt.Sprintf("record %d", p.Index)
						switch p.Kind {
						case audit.ProblemNode:
							where = fmt.Sprintf("tree node %d/%d", p.Level, p.Index)
						case audit.ProblemCheckpoint:
							where = fmt.Sprintf("checkpoint at size %d", p.Index)
						}
						fmt.Fprintf(stdout, "  %s: %s: %s\n", p.Kind, where, p.Detail)
					}
					if rep.Omitted > 0 {
						fmt.Fprintf(stdout, "  … and %d more\n", rep.Omitted)
					}
					// A live log: the records written after the snapshot's tree wait for integration (store.Integrate).
					if all, err := db.LogSize(ctx); err == nil && all > rep.Size {
						fmt.Fprintf(stdout, "%s written since wait for the tree (integrated within a second by a running deling serve)\n", count(all-rep.Size, "record", "records"))
					}
				}
				if *trusted != "" {
					if err := checkTrusted(ctx, db, v, *trusted, witnessKeys, stdout); err != nil {
						return err
					}
				}
				if !rep.OK() {
					return fmt.Errorf("the lookup log has been tampered with: %v", rep.Counts)
				}
				if !*asJSON {
					fmt.Fprintln(stdout, "the lookup log is intact")
				}
				return nil
			})
		},
		"checkpoint": func(args []string) error {
			fs := newFlagSet("audit checkpoint", "audit checkpoint", g, stderr)
			origin := fs.String("log-origin", DefaultLogOrigin, "the log's origin")
			logKey := fs.String("log-key", "", "file with the log's signing key (default DATA/lookup-log.key; or $DELING_LOG_KEY)")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				if *logKey == "" {
					*logKey = keyFile()
				}
				if err := checkLogKeyPlace(env, getenv, *logKey, g.data); err != nil {
					return err
				}
				signer, _, err := logKeys(getenv, *logKey, *origin)
				if err != nil {
					return err
				}
				signed, err := makeCheckpoint(ctx, db, signer, *origin)
				if err != nil {
					return err
				}
				stdout.Write(signed)
				return nil
			})
		},
		"prove": func(args []string) error {
			fs := newFlagSet("audit prove", "audit prove --receipt FILE --key VERIFIER-KEY|--key-file FILE", g, stderr)
			file := fs.String("receipt", "", "a receipt (JSON) from the portal's insight page, or a whole answer of the insight API (GET /api/innsyn/person), whose receipts are all checked")
			key := fs.String("key", "", "the log's verifier key (GET /audit/key)")
			keyFileFlag := fs.String("key-file", "", "file holding the verifier key")
			if err := parse(fs, args); err != nil {
				return err
			}
			if *file == "" {
				return errors.New("give --receipt, and --key or --key-file")
			}
			vkey, err := verifierKeyFor(getenv, *key, *keyFileFlag, keyFile()+".pub")
			if err != nil {
				return err
			}
			*key = vkey
			b, err := os.ReadFile(*file)
			if err != nil {
				return err
			}
			receipts, err := readReceipts(b)
			if err != nil {
				return err
			}
			v, err := note.NewVerifier(*key)
			if err != nil {
				return fmt.Errorf("verifier key: %w", err)
			}
			for _, rc := range receipts {
				cp, err := audit.VerifyReceipt(rc, v)
				if err != nil {
					return fmt.Errorf("the receipt of record %d does not verify: %w", rc.Index, err)
				}
				var rec audit.Record
				json.Unmarshal(rc.Record, &rec)
				fmt.Fprintf(stdout, "verified: record %d (%s, %s by %s) is in %s under its signed checkpoint of size %d\n",
					rc.Index, rec.Kind, rec.Time.Format(time.RFC3339), rec.Consumer, cp.Origin, cp.Size)
				// Rule AA-17: a person's receipt proves their own appearance (by their commitment in a version-2 record).
				if rc.Subject != nil {
					a, _ := audit.AppearanceOf(rc.Record, rc.Subject.Ident, rc.Subject.Salt)
					how := "named in its request"
					if a.Returned {
						how = "returned by it"
					}
					fmt.Fprintf(stdout, "verified: the receipt's person is %s (record version %d)\n", how, rec.V)
				}
			}
			return nil
		},
		"erase": func(args []string) error {
			fs := newFlagSet("audit erase", "audit erase --before yyyy-MM-dd [--yes] [--log-min-retention D]", g, stderr)
			before := fs.String("before", "", "erase the content of records older than this day")
			yes := fs.Bool("yes", false, "erase without asking for confirmation")
			minKeep := fs.Duration("log-min-retention", DefaultLogMinRetention, "refuse to erase records younger than this (at least 720h, 30 days)")
			if err := parse(fs, args); err != nil {
				return err
			}
			t, err := parseDate("before", *before)
			if err != nil {
				return err
			}
			now := time.Now()
			if err := checkRetention(now.Sub(t), *minKeep); err != nil {
				return fmt.Errorf("--before %s: %w; the latest date that may be erased is %s",
					t.Format(time.DateOnly), err, now.Add(-max(*minKeep, LogRetentionFloor)).Format(time.DateOnly))
			}
			return openExistingWith(ctx, g, func(db *store.DB, _ register.Env) error {
				if !*yes {
					fmt.Fprintf(stderr, "Erase the content of every lookup-log record before %s? The erasure cannot be undone. Type yes to go on: ", t.Format(time.DateOnly))
					answer, _ := bufio.NewReader(orEmpty(stdin)).ReadString('\n')
					if strings.TrimSpace(answer) != "yes" {
						return errors.New("not confirmed: nothing was erased (give --yes to erase without asking)")
					}
				}
				actor := "operator"
				if u := getenv("USER"); u != "" {
					actor += ":" + u
				}
				n, err := db.EraseRecordsBefore(ctx, t, actor)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "erased the content of %s; their leaf hashes keep every proof valid\n", count(n, "record", "records"))
				if n > 0 {
					fmt.Fprint(stdout, "; the erasure is recorded in the log")
				}
				fmt.Fprintln(stdout)
				return nil
			})
		},
	}, map[string]string{
		"verify":     "check every record, the tree and the signed checkpoints of the lookup log",
		"checkpoint": "sign and print a checkpoint of the lookup log now",
		"prove":      "check a person's receipt against the log's key",
		"erase":      "erase the identifiers of records past their retention (the log stays verifiable)",
	})
}

// orEmpty is r, or an empty reader for none.
func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

// receiptError says in a line what is wrong with a receipt file, without
// Go's type names.
func receiptError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("not a receipt: not JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return errors.New("not a receipt: want a JSON object")
	case errors.As(err, &typ):
		return fmt.Errorf("not a receipt: the field %q holds a value it cannot take (%s)", typ.Field, typ.Value)
	case errors.As(err, &b64):
		return fmt.Errorf("not a receipt: a base64 field is broken at byte %d", int64(b64))
	}
	return errors.New("not a receipt: the JSON does not hold one")
}

// readReceipts reads a receipt, or every receipt in an answer of the insight
// API (GET /api/innsyn/person: "oppslag", each with its "kvittering").
func readReceipts(b []byte) ([]audit.Receipt, error) {
	var insight struct {
		Oppslag *[]struct {
			Kvittering *audit.Receipt `json:"kvittering"`
		} `json:"oppslag"`
	}
	if err := json.Unmarshal(b, &insight); err != nil {
		return nil, receiptError(err)
	}
	if insight.Oppslag == nil {
		var rc audit.Receipt
		if err := json.Unmarshal(b, &rc); err != nil {
			return nil, receiptError(err)
		}
		if len(rc.Record) == 0 || rc.Proof == "" {
			return nil, errors.New("not a receipt: it has no \"record\" and \"tlogProof\" (save the receipt from the portal's insight page, or the insight API's answer)")
		}
		return []audit.Receipt{rc}, nil
	}
	var out []audit.Receipt
	for _, l := range *insight.Oppslag {
		if l.Kvittering != nil {
			out = append(out, *l.Kvittering)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the insight answer holds no receipt (no lookups shown, or none under a signed checkpoint yet: try again in a few seconds)")
	}
	return out, nil
}
