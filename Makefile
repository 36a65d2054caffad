# hookd — `make help` lists the targets.

GO      ?= go
BIN     ?= bin/hookd
PG_DSN  ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: help run dev build test test-short vet fmt services topology faults compose-check bench bench-smoke clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

dev: run
# hookd is built, then exec'd: Ctrl-C reaches it directly, it exits 0 after a
# clean shutdown and make reports no error (`go run` turned the signal into
# exit 1: "make: *** [run] Error 1").
# -v lists the packages as they compile: the first build takes minutes.
run: ## build bin/hookd and run hookd dev: embedded Temporal + UI, worker, API, SQLite under ./data
	$(GO) build -v -o $(BIN) ./cmd/hookd
	exec $(abspath $(BIN)) dev

build: ## build bin/hookd
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/hookd

test: services ## run every test (needs Node.js, a local PostgreSQL and helm; installs/starts them if missing)
	@bash scripts/tools.sh helm
	HOOKD_TEST_POSTGRES_DSN='$(PG_DSN)' $(GO) test -count=1 -timeout 30m ./...

test-short: ## unit tests only: no embedded server, no PostgreSQL
	$(GO) test -count=1 -short ./workflows/ ./config/ ./profile/ ./activities/ ./tracing/

vet: ## gofmt, go vet, golangci-lint (.golangci.yml), workflowcheck (the SDK's determinism analyzer) and helm lint of deploy/helm; tools installed into bin/tools
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@bash scripts/tools.sh
	bin/tools/golangci-lint run ./...
	bin/tools/workflowcheck ./...
	bin/tools/helm lint --strict deploy/helm/hookd

services: ## make sure the test services are there: PostgreSQL on 127.0.0.1:5432, Node.js
	@bash scripts/test-services.sh

topology: ## the production topology from real processes, on free ports: 2 own PostgreSQL instances (initdb under .topology), Temporal, 1 api, 2 workers
	bash scripts/topology.sh up

faults: ## fault test on that topology (its own PostgreSQL): kill -9 worker, api, Temporal; 3-min database outages; hostile receivers; 0 losses or it fails (~12 min)
	bash scripts/topology.sh setup
	$(GO) run ./cmd/hookd-faults

bench: ## the benchmark: network limit vs engine floor vs hookd, scenarios a-d (see BENCHMARKS.md); minutes
	$(GO) run ./cmd/hookd-bench

bench-smoke: ## the benchmark for a few seconds with small counts (CI runs it as a smoke check)
	$(GO) run ./cmd/hookd-bench -smoke

compose-check: ## validate docker-compose.yml (installs Debian's docker-compose if missing; there is no Docker engine here)
	@command -v docker-compose >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
	HOOKD_API_KEY=compose-check-key-0123 docker-compose -f docker-compose.yml config -q
	@echo "docker-compose.yml is valid"

clean: ## remove build output, dev data and the topology dir
	rm -rf bin data .topology
