package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"deling/internal/audit"
	"deling/internal/job"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/witness"
)

// Witnessing (Rule AA-16). The log's own key lives with the operator, who
// could cut the newest records and re-sign; witnesses run by others (the data
// protection officer, Datatilsynet) cosign only consistent extensions, and a
// cosigned checkpoint kept by them proves any later truncation or fork.

// witnessTarget is a witness that deling asks for cosignatures.
type witnessTarget struct {
	URL  string // its submission prefix
	VKey string // its cosignature verifier key
	v    note.Verifier
}

// witnessTargets is the repeatable serve flag --witness URL=VKEY.
type witnessTargets []witnessTarget

func (w *witnessTargets) String() string { return fmt.Sprint(len(*w), " witnesses") }

func (w *witnessTargets) Set(s string) error {
	// A vkey never holds '=' (an Ed25519 key is 33 bytes: base64 without padding), a URL may.
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return errors.New("want URL=VKEY, e.g. http://127.0.0.1:7380=witness.example+1234abcd+BA…")
	}
	t, err := newWitnessTarget(s[:i], s[i+1:])
	if err != nil {
		return err
	}
	*w = append(*w, t)
	return nil
}

func newWitnessTarget(url, vkey string) (witnessTarget, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return witnessTarget{}, fmt.Errorf("witness URL %q: want http:// or https://", url)
	}
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		return witnessTarget{}, fmt.Errorf("witness key %q: %w", vkey, err)
	}
	return witnessTarget{URL: url, VKey: vkey, v: v}, nil
}

// readWitnessFile reads witnesses from a file in c2sp.org/tlog-policy's
// witness syntax, one a line: "witness NAME VKEY URL". Other lines (log,
// group, quorum), blank lines and # comments are skipped.
func readWitnessFile(file string) (witnessTargets, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out witnessTargets
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "witness" {
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s:%d: want \"witness NAME VKEY URL\"", file, n)
		}
		t, err := newWitnessTarget(fields[3], fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// witnessJob submits the newest checkpoint to each witness. It runs beside
// the lookups and never holds them up; a witness that is down or slow is
// retried at the next tick, each request bounded by a timeout.
func witnessJob(db *store.DB, log *slog.Logger, logVKey string, targets []witnessTarget, every time.Duration) (job.Job, error) {
	logV, err := note.NewVerifier(logVKey)
	if err != nil {
		return job.Job{}, err
	}
	client := &http.Client{Timeout: 15 * time.Second}
	return job.Job{Name: "ask witnesses to cosign", Interval: every, Run: func(ctx context.Context) error {
		errs := make(chan error, len(targets))
		for _, t := range targets {
			go func() { errs <- cosignLatest(ctx, db, client, logV, t) }()
		}
		var all []error
		for range targets {
			if err := <-errs; err != nil {
				all = append(all, err)
			}
		}
		return errors.Join(all...)
	}}, nil
}

// cosignLatest asks one witness to cosign the newest checkpoint, with a
// consistency proof from the size it last cosigned, and stores its
// cosignature. A 409 tells the witness's size; the request is retried from
// it, at most twice more.
func cosignLatest(ctx context.Context, db *store.DB, client *http.Client, logV note.Verifier, t witnessTarget) error {
	size, signed, err := db.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := db.WitnessSize(ctx, t.VKey)
	if err != nil || old == size {
		return err
	}
	for range 3 {
		if old > size {
			return fmt.Errorf("witness %s has cosigned size %d, but the lookup log's newest checkpoint has size %d: the log was truncated or rolled back (AA-16)", t.URL, old, size)
		}
		var proof [][]byte
		if old > 0 && old < size {
			if proof, err = db.ConsistencyProof(ctx, old, size); err != nil {
				return fmt.Errorf("consistency proof %d→%d for witness %s: %w", old, size, t.URL, err)
			}
		}
		answer, err := witness.Submit(ctx, client, t.URL, audit.AddCheckpoint{OldSize: old, Proof: proof, Checkpoint: signed})
		var conflict *audit.ConflictError
		if errors.As(err, &conflict) && conflict.Size != old {
			old = conflict.Size
			continue
		}
		if conflict != nil {
			return fmt.Errorf("witness %s refuses the lookup log's checkpoint of size %d: it holds another tree at that size (a fork, AA-16)", t.URL, size)
		}
		if err != nil {
			return err
		}
		lines, err := audit.CosignatureLines(signed, answer, t.v)
		if err != nil {
			return err
		}
		return db.AddCosignature(ctx, t.VKey, size, lines)
	}
	return fmt.Errorf("witness %s: its size kept changing", t.URL)
}

// checkTrusted proves that the stored log is a consistent extension of a
// trusted checkpoint (saved earlier, or a witness's), whose witness
// cosignatures it checks first when witness keys are given.
func checkTrusted(ctx context.Context, db *store.DB, logV note.Verifier, file string, witnessKeys []string, stdout io.Writer) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--trusted: %w", err)
	}
	var ws []note.Verifier
	for _, k := range witnessKeys {
		v, err := audit.NewCosignatureVerifier(k)
		if err != nil {
			return fmt.Errorf("--witness-key %q: %w", k, err)
		}
		ws = append(ws, v)
	}
	cp, cos, err := audit.OpenCosigned(b, logV, ws...)
	if err != nil {
		return fmt.Errorf("the trusted checkpoint %s does not verify: %w", file, err)
	}
	what := fmt.Sprintf("the trusted checkpoint of size %d", cp.Size)
	for _, c := range cos {
		what += fmt.Sprintf(", cosigned by witness %s at %s", c.Witness, c.Time.UTC().Format(time.RFC3339))
	}
	snap, err := db.LogSnapshot(ctx) // one consistent reading, as audit verify's
	if err != nil {
		return err
	}
	defer snap.Close()
	if err := audit.CheckExtends(ctx, snap, cp); err != nil {
		switch {
		case errors.Is(err, audit.ErrTruncated):
			return fmt.Errorf("TRUNCATED: the lookup log does not extend %s: %w", what, err)
		case errors.Is(err, audit.ErrForked):
			return fmt.Errorf("FORKED: the lookup log does not extend %s: %w", what, err)
		}
		return err
	}
	fmt.Fprintf(stdout, "the lookup log consistently extends %s\n", what)
	return nil
}

// witnessKeyFlags is the repeatable --witness-key VKEY flag.
type witnessKeyFlags []string

func (w *witnessKeyFlags) String() string     { return strings.Join(*w, ",") }
func (w *witnessKeyFlags) Set(v string) error { *w = append(*w, v); return nil }

// checkLogKeyPlace: with --env prod the log's signing key may not live in the
// data directory, where whoever can rewrite the log could also re-sign it.
func checkLogKeyPlace(env register.Env, getenv func(string) string, file, dataDir string) error {
	if env != register.EnvProd || strings.TrimSpace(getenv("DELING_LOG_KEY")) != "" || !inside(file, dataDir) {
		return nil
	}
	return fmt.Errorf("--env prod refuses the lookup log's signing key inside the data directory (%s): whoever can change the log there could re-sign it. Keep the key elsewhere: --log-key FILE outside %s, or the key text in $DELING_LOG_KEY", file, dataDir)
}

// inside reports whether file is within dir, after resolving symbolic links where they exist.
func inside(file, dir string) bool {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if r, err := filepath.EvalSymlinks(a); err == nil {
			return r
		}
		if r, err := filepath.EvalSymlinks(filepath.Dir(a)); err == nil {
			return filepath.Join(r, filepath.Base(a))
		}
		return a
	}
	rel, err := filepath.Rel(abs(dir), abs(file))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// logsFlag is the witness's repeatable --log [ORIGIN=]VKEY flag.
type logsFlag map[string]note.Verifier

func (l logsFlag) String() string { return fmt.Sprint(len(l), " logs") }

func (l logsFlag) Set(s string) error {
	origin, vkey, ok := strings.Cut(s, "=")
	if !ok || strings.Contains(origin, "+") {
		origin, vkey = "", s
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log key %q: %w", vkey, err)
	}
	if origin == "" {
		origin = v.Name() // deling's log key is named by its origin
	}
	l[origin] = v
	return nil
}

// readLogsFile reads logs to witness, one a line: "log VKEY" (c2sp.org/tlog-policy;
// the origin is the key's name) or "log VKEY ORIGIN"; other lines are skipped.
func readLogsFile(file string, logs logsFlag) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for n, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "log" {
			continue
		}
		v := fields[1]
		if len(fields) > 2 && !strings.HasPrefix(fields[2], "http") {
			v = fields[2] + "=" + fields[1]
		}
		if err := logs.Set(v); err != nil {
			return fmt.Errorf("%s:%d: %w", file, n+1, err)
		}
	}
	return nil
}

// witnessKey loads the witness's key from its state directory, making it on first start.
func witnessKey(dir, name string) (note.Signer, string, error) {
	skeyFile, vkeyFile := filepath.Join(dir, "witness.key"), filepath.Join(dir, "witness.vkey")
	b, err := os.ReadFile(skeyFile)
	if errors.Is(err, os.ErrNotExist) {
		skey, vkey, err := audit.NewWitnessKey(name)
		if err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(skeyFile, []byte(skey+"\n"), 0o600); err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(vkeyFile, []byte(vkey+"\n"), 0o644); err != nil {
			return nil, "", err
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, "", err
	}
	s, err := audit.NewCosigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, "", fmt.Errorf("witness key %s: %w", skeyFile, err)
	}
	vkey, err := os.ReadFile(vkeyFile)
	if err != nil {
		return nil, "", err
	}
	return s, strings.TrimSpace(string(vkey)), nil
}

// defaultWitnessName names a witness's key after its host.
func defaultWitnessName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, "+ ") {
		h = "localhost"
	}
	return "witness.deling/" + h
}

const witnessUsage = `witness [run] [--addr 127.0.0.1:7380] [--state DIR] [--name NAME] --log [ORIGIN=]VKEY … | --logs FILE
       witness show [--state DIR] [--origin ORIGIN]
       witness key [--state DIR]`

// runWitness runs a c2sp.org/tlog-witness witness of deling lookup logs (or
// any log with Ed25519 checkpoints), or shows its key and latest checkpoints.
func runWitness(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	fs := flagSetListing("witness "+verb, witnessUsage, g, stderr, "log-level", "log-format") // its own state, no database
	stateDefault := getenv("DELING_WITNESS_STATE")
	if stateDefault == "" {
		stateDefault = "./deling-witness"
	}
	state := fs.String("state", stateDefault, "the witness's own directory: its key and its state (or $DELING_WITNESS_STATE)")
	switch verb {
	case "key":
		if err := parse(fs, args); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(*state, "witness.vkey"))
		if err != nil {
			return fmt.Errorf("no witness key in %s yet (start the witness once): %w", *state, err)
		}
		stdout.Write(b)
		return nil
	case "show":
		origin := fs.String("origin", DefaultLogOrigin, "the log's origin")
		if err := parse(fs, args); err != nil {
			return err
		}
		st, err := witness.OpenState(ctx, *state)
		if err != nil {
			return err
		}
		defer st.Close()
		_, cosigned, ok, err := st.Latest(ctx, *origin)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("this witness has not cosigned a checkpoint of %s", *origin)
		}
		stdout.Write(cosigned)
		return nil
	case "run":
	default:
		fmt.Fprintf(stderr, "Usage: deling %s\n", witnessUsage)
		return errUsage
	}
	addr := fs.String("addr", "127.0.0.1:7380", "address to listen on (loopback by default; put it behind a reverse proxy to reach it from elsewhere)")
	name := fs.String("name", defaultWitnessName(), "the witness key's name, made on first start")
	logs := logsFlag{}
	fs.Var(logs, "log", "a log to witness: its verifier key, whose name is its origin, or ORIGIN=VKEY (repeatable)")
	logsFile := fs.String("logs", "", "file of logs to witness, one a line: log VKEY [ORIGIN]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *logsFile != "" {
		if err := readLogsFile(*logsFile, logs); err != nil {
			return err
		}
	}
	if len(logs) == 0 {
		return errors.New("give the logs to witness: --log VKEY (deling's is at GET /audit/key) or --logs FILE")
	}
	log, err := g.logger(stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*state, 0o700); err != nil {
		return err
	}
	signer, vkey, err := witnessKey(*state, *name)
	if err != nil {
		return err
	}
	st, err := witness.OpenState(ctx, *state)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	hs := &http.Server{
		Handler:           witness.NewServer(logs, signer, st, log).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var origins []string
	for o := range logs {
		origins = append(origins, o)
	}
	fmt.Fprintf(stdout, "deling witness is listening on http://%s (state in %s, witnessing %s)\nwitness key: %s\n",
		ln.Addr(), *state, strings.Join(origins, ", "), vkey)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
