package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"deling/internal/job"
	"deling/internal/register"
	"deling/internal/store"
)

// Rule AA-26: when a consumer's organisation ceases in Enhetsregisteret, its
// access ends without undue delay. The status comes from Brønnøysund's open
// data, a file or its URL (the bulk download
// https://data.brreg.no/enhetsregisteret/api/enheter/lastned is a
// gzip-compressed JSON array of every enhet); what counts as ceased is
// decided in internal/governance/enhetsregisteret.go.

// enhetsregisteretOptions say where the daily organisation status comes from (Rule AA-26).
type enhetsregisteretOptions struct {
	source  string        // FILE or http(s) URL; "" turns the daily import off
	timeout time.Duration // for a download, start to end
}

func (o *enhetsregisteretOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.source, "enhetsregisteret", "", "Enhetsregisteret's open data to import daily, FILE or http(s) URL (JSON, or gzip JSON such as https://data.brreg.no/enhetsregisteret/api/enheter/lastned); ceased consumers lose their access (AA-26)")
	fs.DurationVar(&o.timeout, "enhetsregisteret-timeout", 30*time.Minute, "longest time one download of --enhetsregisteret may take")
}

// enhetsregisteretDaily is how often the import runs. The job wakes every
// hour and imports when the last successful import is this old, so a restart
// neither skips a day nor imports twice.
const enhetsregisteretDaily = 24 * time.Hour

// enhetsregisteretJobs import organisation status daily and end the access of ceased organisations.
func enhetsregisteretJobs(db *store.DB, log *slog.Logger, o enhetsregisteretOptions) []job.Job {
	if o.source == "" {
		return nil
	}
	return []job.Job{{Name: "enhetsregisteret import", Interval: time.Hour, Run: func(ctx context.Context) error {
		last, err := db.LastEnhetsregisteretImport(ctx)
		if err != nil {
			return err
		}
		if !last.IsZero() && time.Since(last) < enhetsregisteretDaily-time.Minute {
			return nil
		}
		run, err := importEnhetsregisteret(ctx, db, o, "enhetsregisteret", nil)
		if err != nil {
			return fmt.Errorf("enhetsregisteret: %w", err)
		}
		log.Info("enhetsregisteret imported", "entries", run.Entries, "ceased", len(run.Ceased), "winding_up", len(run.WindingUp))
		for _, orgnr := range run.Ceased {
			log.Warn("organisation ceased in Enhetsregisteret: all its access has ended (AA-26)", "orgnr", orgnr)
		}
		return nil
	}}}
}

// importEnhetsregisteret streams the source into the store, showing progress on progressTo when it is not nil.
func importEnhetsregisteret(ctx context.Context, db *store.DB, o enhetsregisteretOptions, actor string, progressTo io.Writer) (store.EnhetsregisteretRun, error) {
	if o.timeout <= 0 {
		o.timeout = 30 * time.Minute
	}
	src, size, err := openEnhetsregisteret(ctx, o.source, o.timeout)
	if err != nil {
		return store.EnhetsregisteretRun{}, err
	}
	defer src.Close()
	var r io.Reader = src
	if progressTo != nil {
		bar := newProgress(progressTo, "reading "+o.source, size)
		defer bar.Finish()
		r = &countingReader{r: src, add: bar.Add}
	}
	return db.ImportEnhetsregisteret(ctx, r, o.source, actor)
}

// openEnhetsregisteret opens a file, or GETs a URL (streamed, never held in
// memory whole), and says its size when known.
func openEnhetsregisteret(ctx context.Context, source string, timeout time.Duration) (io.ReadCloser, int64, error) {
	if !strings.HasPrefix(source, "http://") && !strings.HasPrefix(source, "https://") {
		f, err := os.Open(source)
		if err != nil {
			return nil, 0, err
		}
		var size int64
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		return f, size, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json, application/gzip, */*")
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, 0, fmt.Errorf("GET %s: %s", source, resp.Status)
	}
	return &cancelBody{ReadCloser: resp.Body, cancel: cancel}, max(resp.ContentLength, 0), nil
}

// cancelBody ends the download's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// countingReader reports the bytes read.
type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}

// runEnhetsregisteret is "deling enhetsregisteret import FILE|URL".
func runEnhetsregisteret(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return sub("enhetsregisteret", args, stderr, map[string]func([]string) error{
		"import": func(args []string) error {
			fs := newFlagSet("enhetsregisteret import", "enhetsregisteret import [--timeout D] FILE|URL", g, stderr)
			timeout := fs.Duration("timeout", 30*time.Minute, "longest time a download may take")
			if err := parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() != 1 {
				fs.Usage()
				return errors.New("enhetsregisteret import: name one file or URL")
			}
			o := enhetsregisteretOptions{source: fs.Arg(0), timeout: *timeout}
			return openExistingWith(ctx, g, func(db *store.DB, _ register.Env) error {
				run, err := importEnhetsregisteret(ctx, db, o, actor(getenv), stderr)
				if err != nil {
					return fmt.Errorf("enhetsregisteret import (nothing was changed): %w", err)
				}
				fmt.Fprintf(stdout, "read %s; %s ceased, all their access ended (AA-26)\n",
					count(run.Entries, "entry", "entries"), count(len(run.Ceased), "consumer or data processor", "consumers or data processors"))
				for _, o := range run.Ceased {
					fmt.Fprintf(stdout, "  ceased: %s\n", o)
				}
				if len(run.WindingUp) > 0 {
					fmt.Fprintf(stdout, "%s winding up (access kept, for a case worker to follow): %s\n",
						count(len(run.WindingUp), "consumer is", "consumers are"), strings.Join(run.WindingUp, ", "))
				}
				return nil
			})
		},
	}, map[string]string{
		"import": "read organisation statuses from a file or URL; ends the access of ceased consumers",
	})
}
