package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"deling/internal/register"
	"deling/internal/store"
)

// maxLine is the longest import line accepted; an arbeidsforhold with a long
// history is a few kilobytes.
const maxLine = 1 << 20

func runImport(ctx context.Context, g *globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", "import [--batch N] FILE.jsonl|- …", g, stderr)
	batch := fs.Int("batch", 1000, "records written per transaction")
	showErrors := fs.Int("show-errors", 100, "print at most this many rejected lines (all are counted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("import: name at least one file, or - for standard input")
	}
	if *batch < 1 {
		return errors.New("import: --batch must be at least 1")
	}
	return openWith(ctx, g, func(db *store.DB, env register.Env) error {
		im := &importer{db: db, env: env, batch: *batch, showErrors: *showErrors, stderr: stderr}
		for _, name := range fs.Args() {
			if err := im.file(ctx, name, stdin); err != nil {
				return err
			}
		}
		return im.report(stdout)
	})
}

// report prints what the import did; it fails when any line was rejected.
func (im *importer) report(stdout io.Writer) error {
	fmt.Fprintf(stdout, "imported %s (%s, %s, %s arbeidsforhold); %s changed the register; %s rejected\n",
		count(im.accepted(), "record", "records"), count(im.ok["person"], "person", "persons"), count(im.ok["organisation"], "organisation", "organisations"),
		thousands(im.ok["arbeidsforhold"]), thousands(im.changed), count(im.rejected, "line", "lines"))
	if im.rejected > 0 {
		return fmt.Errorf("import: %s rejected (see above); the other lines were imported", count(im.rejected, "line was", "lines were"))
	}
	return nil
}

// importer validates lines and writes them in batches per kind.
type importer struct {
	db         *store.DB
	env        register.Env
	batch      int
	showErrors int
	stderr     io.Writer

	persons []register.Person
	orgs    []register.Organisation
	afs     []register.Arbeidsforhold

	ok       map[string]int64
	changed  int64
	rejected int64
}

func (im *importer) accepted() int64 {
	return im.ok["person"] + im.ok["organisation"] + im.ok["arbeidsforhold"]
}

func (im *importer) reject(name string, line int, reason string) {
	im.rejected++
	if im.rejected <= int64(im.showErrors) {
		fmt.Fprintf(im.stderr, "%s:%d: %s\n", name, line, reason)
	} else if im.rejected == int64(im.showErrors)+1 {
		fmt.Fprintf(im.stderr, "(more rejected lines are counted but not shown; see --show-errors)\n")
	}
}

func (im *importer) file(ctx context.Context, name string, stdin io.Reader) error {
	var r io.Reader
	var size int64
	display := name
	if name == "-" {
		r, display = stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		r = f
	}
	if im.ok == nil {
		im.ok = map[string]int64{}
	}
	bar := newProgress(im.stderr, "importing "+display, size)
	defer bar.Finish()
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for lineNo := 1; ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, n, tooLong, err := readLine(br, &buf)
		bar.Add(int64(n))
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("import %s: %w", display, err)
		}
		if n == 0 && errors.Is(err, io.EOF) {
			break
		}
		switch {
		case tooLong:
			im.reject(display, lineNo, fmt.Sprintf("line longer than %d bytes", maxLine))
		case len(bytes.TrimSpace(line)) == 0:
			// blank lines are allowed
		default:
			if err := im.line(ctx, display, lineNo, line); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return im.flush(ctx)
}

// readLine reads one line without its newline into *buf. It reports the bytes
// consumed, and whether the line was too long (then its content is dropped).
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, n int, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(*buf)+len(chunk) > maxLine+1 {
				tooLong, *buf = true, (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(bytes.TrimSuffix(*buf, []byte("\n")), []byte("\r")), n, tooLong, err
	}
}

func (im *importer) line(ctx context.Context, name string, lineNo int, line []byte) error {
	rec, err := register.DecodeRecord(line)
	if err != nil {
		im.reject(name, lineNo, err.Error())
		return nil
	}
	if err := rec.Validate(im.env); err != nil {
		var ve *register.ValidationError
		reason := err.Error()
		if errors.As(err, &ve) {
			reason = rec.Kind() + ": " + strings.ReplaceAll(reason, "; ", "; ")
		}
		im.reject(name, lineNo, reason)
		return nil
	}
	im.ok[rec.Kind()]++
	switch {
	case rec.Person != nil:
		im.persons = append(im.persons, *rec.Person)
	case rec.Organisation != nil:
		im.orgs = append(im.orgs, *rec.Organisation)
	case rec.Arbeidsforhold != nil:
		im.afs = append(im.afs, *rec.Arbeidsforhold)
	}
	if len(im.persons)+len(im.orgs)+len(im.afs) >= im.batch {
		return im.flush(ctx)
	}
	return nil
}

func (im *importer) flush(ctx context.Context) error {
	for _, w := range []func() (int64, error){
		func() (int64, error) { return im.db.UpsertOrganisations(ctx, im.orgs) },
		func() (int64, error) { return im.db.UpsertPersons(ctx, im.persons) },
		func() (int64, error) { return im.db.UpsertArbeidsforhold(ctx, im.afs) },
	} {
		n, err := w()
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		im.changed += n
	}
	im.persons, im.orgs, im.afs = im.persons[:0], im.orgs[:0], im.afs[:0]
	return nil
}
