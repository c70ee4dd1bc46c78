# K-AI programme portal. `make run` starts the portal on its embedded
# default (SQLite under ./data, demo data, demo sign-in); `make test` runs
# every test (PostgreSQL ones when TEST_DATABASE_URL is set, browser ones
# when chromium is installed).

GO       ?= go
PKGS     := ./...
BIN      := bin/portal

# Builds leave the checkout's path out of what they compile (-trimpath), so
# that the build cache serves any clone of the same sources: CI's clean
# clone compiles only what changed, as a developer's checkout does
# (BENCHMARKS.md). A GOFLAGS of your own replaces this.
export GOFLAGS ?= -trimpath

.PHONY: run build test test-short check generate generated-check fmt-check vet vendor bench clean

run:
	$(GO) run ./cmd/portal serve

build:
	$(GO) build -o $(BIN) ./cmd/portal

# Tests that wait on a database or a browser run 4 at a time per package
# (t.Parallel), not just one per core. The test processes run Go's garbage
# collector at 400 % (as the portal does) unless GOGC is set: 6 % less CPU
# for the handler tests (BENCHMARKS.md). check has run all of go vet on the
# tests already, so go test does not run its subset again (-vet=off).
test: check
	GOGC=$${GOGC:-400} $(GO) test -count=1 -vet=off -parallel 4 -timeout 45m $(PKGS)

test-short:
	$(GO) test -count=1 -short $(PKGS)

# Static checks CI runs before the tests.
check: generated-check fmt-check vet

# The templ output, and the part of KRDS's stylesheet the pages can use
# (cmd/krdscss: a class no template, script or handler names is dropped).
generate:
	$(GO) tool templ generate
	$(GO) run ./cmd/krdscss

# Regenerates the templ output and fails if that changed any file: the
# committed *_templ.go must be what the committed *.templ generate; and
# the committed KRDS subset must be what cmd/krdscss writes from them.
generated-check:
	@before=$$(cat $$(find . -name '*_templ.go' -not -path './node_modules/*' | sort) | sha256sum); \
	$(GO) tool templ generate >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	after=$$(cat $$(find . -name '*_templ.go' -not -path './node_modules/*' | sort) | sha256sum); \
	test "$$before" = "$$after" || { echo "generated templ files were out of date: they are regenerated now; commit them"; exit 1; }
	@$(GO) tool templ fmt -fail views >/dev/null 2>&1 || { echo "templ fmt would change views/*.templ: run 'go tool templ fmt views'"; exit 1; }
	@$(GO) run ./cmd/krdscss -check

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt would change:"; echo "$$out"; exit 1; }

vet:
	$(GO) vet $(PKGS)

# Refresh the vendored front-end assets from the npm registry (versions
# pinned in the script), then the KRDS subset the pages load.
vendor:
	static/vendor/refresh.sh

# Go benchmarks and an HTTP load test (wrk), each printed as ratios to a
# baseline measured in the same run; the usage verification of a team-month
# of 1,000 GPUs (models/bench_usage_test.go) also as a ratio to its 100 ms
# limit (x-100ms). Results go in BENCHMARKS.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./models ./handlers ./dcgm | $(GO) run ./cmd/benchratio
	$(GO) run ./cmd/benchratio -load -portal $(BIN)
	@# Telemetry at scale (models/scale_test.go): 10,000 GPUs written every minute
	@# beside appeal filings, a team-month over 6 months x 7,500 GPUs (PostgreSQL:
	@# set TEST_DATABASE_URL; about 13 GB of disk while it runs, in its own schema)
	@# and the growth on disk per 1,000 GPUs a year. Each figure is printed as a
	@# ratio to its limit.
	PORTAL_SCALE=1 $(GO) test -count=1 -run 'TestScale' -v -timeout 90m ./models | grep -E '^(SCALE|--- |ok|FAIL)'

clean:
	rm -rf bin
