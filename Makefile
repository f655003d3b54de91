# deling: `make test` runs everything CI runs.
GO ?= go
# Fuzz targets run for this long each in `make fuzz`.
FUZZTIME ?= 30s

.PHONY: test vet unit fuzz-seeds fuzz build bench clean

test: vet unit
	@echo "make test: all passed"

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

# Every test, with the race detector, on SQLite and on a throwaway PostgreSQL
# (internal/pgtest starts one; with CI set, a missing PostgreSQL fails the run).
# Fuzz targets run their seed corpora as part of this.
# -timeout: the web package's browser and PostgreSQL tests take minutes on a
# loaded two-core machine; the default of 10 minutes a package is too tight there.
# -p 4: test binaries run four at a time, not one a core (go list order puts
# cmd/deling first and internal/web late: with two at a time on two cores the
# web package waited for a slot, and the run took cmd/deling's time plus the
# web package's). The big three start at once; their waits (fsync, PostgreSQL,
# Chromium) overlap each other's work.
unit:
	$(GO) test -race -count=1 -p 4 -timeout 25m ./...

# Run each fuzz target for $(FUZZTIME).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

build:
	$(GO) build -o deling ./cmd/deling

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf deling deling-data
