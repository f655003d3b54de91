package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Help that was asked for goes to standard output and succeeds; every group
// lists its commands with a line each, and each listed command's own help
// names it.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		stdout, stderr, err := runCmd(t, nil, args...)
		if err != nil || !strings.Contains(stdout, "Commands:") || stderr != "" {
			t.Fatalf("deling %v: err %v, stdout %q, stderr %q", args, err, stdout, stderr)
		}
	}
	line := regexp.MustCompile(`(?m)^  ([a-z]+)  +(\S.*)$`)
	for _, noun := range []string{"consumer", "client", "grant", "delegation", "user", "audit", "enhetsregisteret", "keys", "package"} {
		stdout, stderr, err := runCmd(t, nil, noun, "--help")
		if err != nil || stderr != "" {
			t.Fatalf("deling %s --help: err %v, stderr %q", noun, err, stderr)
		}
		verbs := line.FindAllStringSubmatch(stdout, -1)
		if len(verbs) == 0 {
			t.Fatalf("deling %s --help lists no commands:\n%s", noun, stdout)
		}
		for _, v := range verbs {
			out, errOut, err := runCmd(t, nil, noun, v[1], "--help")
			// package list reads no database: it lists no --data (TestHelpListsHonouredFlags).
			if err != nil || errOut != "" || !strings.HasPrefix(out, "Usage: deling "+noun+" "+v[1]) || strings.Contains(out, "-data") != (noun != "package") {
				t.Errorf("deling %s %s --help: err %v, stdout %q, stderr %q", noun, v[1], err, out, errOut)
			}
		}
	}
	// deling help CMD is CMD's help.
	if stdout, _, err := runCmd(t, nil, "help", "serve"); err != nil || !strings.HasPrefix(stdout, "Usage: deling serve") {
		t.Fatalf("deling help serve: %v %q", err, stdout)
	}
	// The top-level list keeps its column.
	top, _, _ := runCmd(t, nil, "--help")
	for _, l := range regexp.MustCompile(`(?m)^  [a-z]+ +\S.*$`).FindAllString(top, -1) {
		if l[19] != ' ' || l[20] == ' ' {
			t.Errorf("out of column: %q", l)
		}
	}
	// A wrong flag is a usage error on standard error.
	stdout, stderr, err := runCmd(t, nil, "consumer", "list", "--no-such-flag")
	if !errors.Is(err, errUsage) || stdout != "" || !strings.Contains(stderr, "no-such-flag") || !strings.Contains(stderr, "Usage: deling consumer list") {
		t.Fatalf("wrong flag: err %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	// An unknown verb says so, and lists the verbs.
	if _, stderr, err := runCmd(t, nil, "audit", "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "verify") {
		t.Fatalf("unknown verb: err %v, stderr %q", err, stderr)
	}
}

// user add's help matches its flags: a person's fødselsnummer comes on
// standard input, not from a flag that does not exist.
func TestUserAddHelpMatchesFlags(t *testing.T) {
	stdout, _, err := runCmd(t, nil, "user", "add", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(stdout, -1) {
		if !strings.Contains(stdout, "  -"+m[1]+" ") && !strings.Contains(stdout, "  -"+m[1]+"\n") {
			t.Errorf("user add --help mentions --%s, which is not one of its flags:\n%s", m[1], stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	stdout, _, err := runCmd(t, nil, "version")
	if err != nil || !regexp.MustCompile(`^deling \S+( \(revision [0-9a-f]+[^)]*\))? go1\.\d+`).MatchString(stdout) {
		t.Fatalf("version: err %v, %q", err, stdout)
	}
}

// Commands that read or change what is there refuse a data directory that
// holds no deling database, and make nothing in it.
func TestReadingCommandsRefuseAnEmptyDirectory(t *testing.T) {
	for _, args := range [][]string{
		{"consumer", "list"}, {"client", "list"}, {"grant", "list"}, {"delegation", "list"}, {"user", "list"},
		{"audit", "verify"}, {"audit", "checkpoint"}, {"grant", "suspend", "x"},
	} {
		dir := filepath.Join(t.TempDir(), "nothing-here")
		_, _, err := runCmd(t, nil, append(args, "--data", dir)...)
		if err == nil || !strings.Contains(err.Error(), "holds no deling database") {
			t.Errorf("deling %v on a new directory: got %v", args, err)
		}
		if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
			t.Errorf("deling %v made %s", args, dir)
		}
	}
	// One that adds makes the database, and the reading one then works.
	dir := t.TempDir()
	if _, _, err := runCmd(t, nil, "consumer", "add", "--orgnr", "310000019", "--name", "Test AS", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, nil, "consumer", "list", "--data", dir); err != nil {
		t.Fatalf("consumer list after add: %v", err)
	}
}

func TestFlagsAreChecked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--extract-batch-size", "0"}, "--extract-batch-size 0"},
		// A batch's or an order's record names each unit: within audit.MaxRecordSize.
		{[]string{"serve", "--extract-batch-size", "100001"}, "--extract-batch-size 100001"},
		{[]string{"serve", "--extract-max-units", "100001"}, "--extract-max-units 100001"},
		{[]string{"serve", "--extract-workers", "-1"}, "--extract-workers -1"},
		{[]string{"serve", "--token-lifetime", "0s"}, "--token-lifetime"},
		{[]string{"serve", "--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"consumer", "list", "--log-level", "loud"}, `--log-level "loud"`},
	} {
		_, _, err := runCmd(t, nil, append(c.args, "--data", dir, "--addr", "127.0.0.1:0")...)
		if c.args[0] != "serve" {
			_, _, err = runCmd(t, nil, append(c.args, "--data", dir)...)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("deling %v: got %v, want an error naming %s", c.args, err, c.want)
		}
	}
}

// An unreachable PostgreSQL is one line, saying why, and never shows the
// password, however it is written (an unencoded @ made pgx name part of it
// as the host).
func TestUnreachablePostgresIsOneLine(t *testing.T) {
	for _, u := range []string{
		"postgres://nobody:Hemmelig42@127.0.0.1:1/deling?connect_timeout=5",
		"postgres://nobody:Vinter@2026Hemmelig@127.0.0.1:1/deling?connect_timeout=5",
		"postgres://nobody:p:Hemmelig42@127.0.0.1:1/deling?connect_timeout=5",
		"postgres://nobody:p/Hemmelig42@127.0.0.1:1/deling?connect_timeout=5",
		"postgres://nobody:p#Hemmelig42@127.0.0.1:1/deling?connect_timeout=5",
		"postgres://nobody@127.0.0.1:1/deling?connect_timeout=5&password=Hemmelig42",
	} {
		_, _, err := runCmd(t, nil, "consumer", "list", "--db", u)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "PostgreSQL") ||
			strings.Contains(err.Error(), "Hemmelig") || strings.Contains(err.Error(), "2026") {
			t.Errorf("%s: got %q", u, err)
		}
	}
}

// A broken receipt gets a sentence, not Go's type names.
func TestBadReceiptIsOneSentence(t *testing.T) {
	dir := t.TempDir()
	for _, body := range []string{"garbage", `{"record":123}`, `{"index":-1}`, `{"record":"!!!"}`, `{}`, `[1,2]`} {
		f := filepath.Join(dir, "r.json")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := runCmd(t, nil, "audit", "prove", "--receipt", f, "--key", "deling.local/lookup-log+abcd1234+AQ", "--data", dir)
		if err == nil || !strings.HasPrefix(err.Error(), "not a receipt") || strings.ContainsAny(err.Error(), "\n[]") || strings.Contains(err.Error(), "uint8") {
			t.Errorf("receipt %s: got %q", body, err)
		}
	}
}

func TestCountPlural(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 records"}, {1, "1 record"}, {2, "2 records"}, {1234, "1,234 records"}} {
		if got := count(c.n, "record", "records"); got != c.want {
			t.Errorf("count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// A command's help lists the global flags it honours and no other (the
// first-hour review: token, package and witness listed --data, --log-format
// and the rest, and used none or some of them); a script that passes them
// after any command still runs.
func TestHelpListsHonouredFlags(t *testing.T) {
	for _, c := range []struct {
		args      []string
		has, hasn []string
	}{
		{[]string{"token", "--help"}, []string{"-client"}, []string{"-data", "-db", "-env", "-log-level", "-log-format"}},
		{[]string{"package", "list", "--help"}, []string{"-packages"}, []string{"-data", "-db", "-env", "-log-level", "-log-format"}},
		{[]string{"witness", "run", "--help"}, []string{"-state", "-log-level", "-log-format"}, []string{"-data", "-db", "-env"}},
		{[]string{"consumer", "list", "--help"}, []string{"-data", "-db", "-env", "-log-level", "-log-format"}, nil},
	} {
		out, _, err := runCmd(t, nil, c.args...)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		for _, f := range c.has {
			if !strings.Contains(out, "  "+f+" ") {
				t.Errorf("%v does not list %s:\n%s", c.args, f, out)
			}
		}
		for _, f := range c.hasn {
			if strings.Contains(out, "  "+f+" ") {
				t.Errorf("%v lists %s, which it does not use", c.args, f)
			}
		}
	}
	if out, _, err := runCmd(t, nil, "package", "list", "--data", t.TempDir(), "--log-format", "json"); err != nil || !strings.Contains(out, "grunnopplysninger") {
		t.Fatalf("package list with global flags after it: %v", err)
	}
}

func TestLogFormatJSON(t *testing.T) {
	g := &globals{logLevel: "info", logFormat: "json"}
	var b strings.Builder
	log, err := g.logger(&b)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("extract job started", "job", "x")
	var rec map[string]any
	if err := json.Unmarshal([]byte(b.String()), &rec); err != nil || rec["msg"] != "extract job started" || rec["job"] != "x" {
		t.Fatalf("json log line %q: %v", b.String(), err)
	}
	g.logFormat = "xml"
	if _, err := g.logger(&b); err == nil || !strings.Contains(err.Error(), `--log-format "xml"`) {
		t.Fatalf("unknown format: %v", err)
	}
}
