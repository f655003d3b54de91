package main

// The docs test: every shell command in README.md and docs/*.md runs as
// written (the house rule "every command they show runs as written").
//
// How blocks are found: each fenced code block opened with ```sh (or ```bash,
// ```shell) is a block to run; blocks in other languages (```json, the
// indented package maps) are not. A block holding the line
//
//	# not run in the docs test: REASON
//
// is shown to readers but skipped, with the reason in the block itself. A
// command-looking line in an indented block (deling, ./deling, curl, go,
// make) fails the test: commands belong in a ```sh block.
//
// How they run: the blocks of one document, in order, as one bash script
// with `set -eo pipefail` in a fresh working directory (so ./deling-data is a
// fresh data directory), with background jobs (`deling serve &`) killed when
// the script ends and the process group killed by the test after that. The
// test binary itself is `deling` on PATH (TestMain runs main when invoked
// under that name), so nothing is compiled for it; small `go` and `make`
// scripts first on PATH map `go run ./cmd/deling …` and `go build -o X
// ./cmd/deling` to that binary and fail for anything else. On Linux each script runs in a network
// namespace of its own, so the documented ports (8080, 9090, 7380) are the
// script's alone; where that is not possible the documented ports must be
// free, or the test is skipped (and fails with CI set).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "deling":
		main()
		os.Exit(0)
	case "docs-loopback-up":
		if err := loopbackUp(); err != nil {
			fmt.Fprintln(os.Stderr, "docs-loopback-up:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// docBlock is one fenced shell block of a document.
type docBlock struct {
	line int    // line of the opening fence
	text string // the commands
	skip string // the reason it is not run, or ""
}

var (
	notRun      = regexp.MustCompile(`(?m)^\s*# not run in the docs test: (.+)$`)
	indentedCmd = regexp.MustCompile(`^(    |\t)+(deling|\./deling|curl|go|make) `)
)

// shellBlocks returns the ```sh blocks of a Markdown file, and an error for a
// command outside one.
func shellBlocks(file string) ([]docBlock, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var (
		out   []docBlock
		cur   *docBlock
		lang  string
		inFnc bool
		body  strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inFnc && strings.HasPrefix(trimmed, "```"):
			inFnc, lang = true, strings.TrimPrefix(trimmed, "```")
			if lang == "sh" || lang == "bash" || lang == "shell" {
				cur = &docBlock{line: n}
				body.Reset()
			}
		case inFnc && trimmed == "```":
			inFnc = false
			if cur != nil {
				cur.text = body.String()
				if m := notRun.FindStringSubmatch(cur.text); m != nil {
					cur.skip = m[1]
				}
				out = append(out, *cur)
				cur = nil
			}
		case inFnc:
			if cur != nil {
				body.WriteString(line + "\n")
			}
		case indentedCmd.MatchString(line):
			return nil, fmt.Errorf("%s:%d: a command outside a ```sh block (it would not be run by the docs test): %s", file, n, trimmed)
		}
	}
	if inFnc {
		return nil, fmt.Errorf("%s: an unclosed code block", file)
	}
	return out, sc.Err()
}

// docsPrelude comes before a document's blocks.
const docsPrelude = `set -eo pipefail
stop_jobs() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop_jobs EXIT
`

// docsShims are the go and make the scripts find on PATH: 'go run
// ./cmd/deling' and 'go build -o X ./cmd/deling' map to the deling under
// test; anything else fails. 'go run' runs deling as a child, as the real
// one does, so a document that stops a 'go run' job with 'kill %1' leaves
// deling running here too, and the next step that needs its port fails.
var docsShims = map[string]string{
	"go": `#!/usr/bin/env bash
if [ "$1 $2" = "run ./cmd/deling" ]; then shift 2; deling "$@"; exit $?; fi
if [ "$1 $2" = "build -o" ] && [ "$4" = ./cmd/deling ] && [ $# = 4 ]; then exec ln -sf "$(command -v deling)" "$3"; fi
echo "docs test: 'go $*' is not run here; mark its block as not run" >&2
exit 1
`,
	"make": `#!/usr/bin/env bash
echo "docs test: 'make $*' is not run here; mark its block as not run" >&2
exit 1
`,
}

// docsPorts are the ports the documents use; without a network namespace they must be free.
var docsPorts = []string{"8080", "9090", "7380"}

func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("the docs test starts servers; not in -short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, name := range []string{"deling", "docs-loopback-up"} {
		if err := os.Symlink(exe, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range docsShims {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append([]string{"../../README.md"}, docs...)
	isolated := netnsWorks(t)
	if !isolated {
		for _, p := range docsPorts {
			ln, err := net.Listen("tcp", "127.0.0.1:"+p)
			if err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("port %s is taken and no network namespace is possible: %v", p, err)
				}
				t.Skipf("port %s is taken and no network namespace is possible", p)
			}
			ln.Close()
		}
	}
	for _, doc := range docs {
		name := filepath.Base(doc)
		t.Run(name, func(t *testing.T) {
			if isolated {
				t.Parallel() // each script has a network of its own
			}
			blocks, err := shellBlocks(doc)
			if err != nil {
				t.Fatal(err)
			}
			var script strings.Builder
			script.WriteString(docsPrelude)
			if isolated {
				script.WriteString("docs-loopback-up\n")
			}
			script.WriteString("set -x\n")
			run := 0
			for _, b := range blocks {
				if b.skip != "" {
					t.Logf("%s:%d not run: %s", name, b.line, b.skip)
					continue
				}
				run++
				fmt.Fprintf(&script, "\n: '== %s:%d'\n%s", name, b.line, b.text)
			}
			if run == 0 {
				return
			}
			start := time.Now()
			out, err := runDocScript(t, bin, script.String(), isolated)
			t.Logf("%s: %d blocks in %s", name, run, time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatalf("%s: the documented commands failed: %v\n%s", name, err, out)
			}
			if testing.Verbose() {
				t.Logf("%s: the script's output:\n%s", name, out)
			}
		})
	}
}

// runDocScript runs script with bash in a fresh directory, with bin first on
// PATH, and kills whatever it leaves behind.
func runDocScript(t *testing.T, bin, script string, isolated bool) (string, error) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DELING_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setProcAttr(cmd, isolated)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: anything still running
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out)", err)
	}
	return out.String(), err
}

// netnsWorks reports whether a script can run in a network namespace of its own.
func netnsWorks(t *testing.T) bool {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if runtime.GOOS != "linux" {
		return false
	}
	cmd := exec.Command("bash", "-c", "true")
	setProcAttr(cmd, true)
	return cmd.Run() == nil
}

// TestDocsBlocks checks the block finder on a small document.
func TestDocsBlocks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.md")
	os.WriteFile(file, []byte("# x\n\n```sh\necho a\n```\n\n```json\n{}\n```\n\n```sh\n# not run in the docs test: needs an SMTP server\ndeling serve --smtp x:25\n```\n"), 0o600)
	bs, err := shellBlocks(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].text != "echo a\n" || bs[0].line != 3 || bs[0].skip != "" || bs[1].skip != "needs an SMTP server" {
		t.Fatalf("got %+v", bs)
	}
	os.WriteFile(file, []byte("text\n\n    deling serve\n"), 0o600)
	if _, err := shellBlocks(file); err == nil {
		t.Fatal("an indented command was accepted")
	}
}

// TestREADMEServeFlags: every flag of `deling serve -h` is in the README's
// configuration table, so the table stays the whole list.
func TestREADMEServeFlags(t *testing.T) {
	help, _, err := runCmd(t, nil, "serve", "-h")
	if err != nil {
		t.Fatalf("serve -h: %v", err)
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start, end := strings.Index(readme, "\n## Configuration"), strings.Index(readme, "\n## Running with PostgreSQL")
	if start < 0 || end < start {
		t.Fatal("README: no Configuration section followed by Running with PostgreSQL")
	}
	table := readme[start:end]
	flags := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(help, -1)
	if len(flags) < 30 {
		t.Fatalf("serve -h lists %d flags:\n%s", len(flags), help)
	}
	for _, f := range flags {
		if !regexp.MustCompile("`(serve )?--" + regexp.QuoteMeta(f[1]) + "[ `]").MatchString(table) {
			t.Errorf("README's configuration table lacks serve's flag --%s", f[1])
		}
	}
}

// TestDocsStayInside: README and docs point only at files in the repository,
// and every rule ID they name is explained in docs/RULES.md.
func TestDocsStayInside(t *testing.T) {
	rules, err := os.ReadFile("../../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append([]string{"../../README.md"}, docs...)
	link := regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`)
	ruleID := regexp.MustCompile(`\b(AA|SK|DPA|DPV|AV)-[0-9]{2}\b`)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, outside := range []string{"../shared", "research/", "DESIGN.md", "/work/", "shared/RULES.md"} {
			if strings.Contains(text, outside) {
				t.Errorf("%s points outside the repository: %q", doc, outside)
			}
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", doc, target)
			}
		}
		for _, id := range ruleID.FindAllString(text, -1) {
			if !regexp.MustCompile(`\*\*` + id + `\*\*`).Match(rules) {
				t.Errorf("%s names rule %s, which docs/RULES.md does not explain", doc, id)
			}
		}
	}
}
