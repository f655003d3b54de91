package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"deling/internal/register"
	"deling/internal/web"
)

func runServe(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--addr :8080] [--demo]", g, stderr)
	addr := fs.String("addr", ":8080", "address to listen on")
	demo := fs.Bool("demo", false, "seed a small synthetic register on first start")
	demoPersons := fs.Int("demo-persons", 2000, "persons in the demo register")
	if err := parse(fs, args); err != nil {
		return err
	}
	env, err := g.environment()
	if err != nil {
		return err
	}
	if *demo && env == register.EnvProd {
		return errors.New("--demo is refused with --env prod: the demo register is synthetic")
	}
	log, err := g.logger(stderr)
	if err != nil {
		return err
	}
	db, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	if *demo {
		counts, err := db.Count(ctx)
		if err != nil {
			return err
		}
		if counts.Persons == 0 {
			res, err := seedPopulation(ctx, db, register.PopulationConfig{Persons: *demoPersons, Seed: 1, AsOf: register.Date(time.Now().Format(time.DateOnly))}, io.Discard)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			fmt.Fprintf(stdout, "demo: seeded %s synthetic persons, %s organisations and %s arbeidsforhold into %s\n",
				thousands(int64(res.persons)), thousands(int64(res.organisations)), thousands(res.arbeidsforhold), g.where())
		} else {
			fmt.Fprintf(stdout, "demo: the register in %s already holds %s persons and %s arbeidsforhold\n",
				g.where(), thousands(counts.Persons), thousands(counts.Arbeidsforhold))
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := web.New(db, log, reg)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	fmt.Fprintf(stdout, "deling %s is listening on http://%s (env %s, data in %s)\n", version, displayAddr(ln.Addr()), env, g.where())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return tcp.String()
}
