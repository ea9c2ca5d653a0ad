# Needs only Node 20, Go and make: everything else is installed by scripts/ensure-tools.sh.
SHELL := bash
.DEFAULT_GOAL := help
BIN := node_modules/.bin
# Extra jest arguments, e.g. `make test JEST_ARGS="test/unit -t reduce"` (then no second pass).
JEST_ARGS ?=
# The Temporal engine of `make start`: dev (the CLI's dev server) or server (temporal-server on
# PostgreSQL, TEMPORAL_SHARDS history shards); docs/temporal.md.
TEMPORAL ?= dev
# What `prettier --check` covers: the whole tree but what .prettierignore leaves alone.
FORMAT_CHECK := .

# The static checks of `make lint` and `make test`: type-aware lint, unused files/exports/dependencies,
# import cycles (type-only ones too), format.
define STATIC_CHECKS
$(BIN)/eslint --max-warnings 0 .
$(BIN)/knip --no-progress
node --import tsx scripts/check-cycles.ts
$(BIN)/prettier --check $(FORMAT_CHECK)
endef

.PHONY: help start test test-faults tools build typecheck lint format bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

start: ## run everything locally: Temporal, FerretDB over PostgreSQL, Mailpit, worker, receiver (Ctrl-C stops)
	@TEMPORAL=$(TEMPORAL) bash scripts/ensure-tools.sh start
	@# node with tsx loaded in-process (not the tsx wrapper), so Ctrl-C reaches start.ts once
	@TEMPORAL=$(TEMPORAL) node --import tsx scripts/start.ts

test: ## install/build what is missing, type-check, jest on fresh test servers, then the e2e subset on temporal-server
	@bash scripts/ensure-tools.sh test
	$(BIN)/tsc --noEmit -p tsconfig.json
	$(STATIC_CHECKS)
	bash scripts/test-passes.sh $(JEST_ARGS)

test-faults: ## the fault tests alone: Temporal, the database and a receiver stopped mid-burst (about 5 min)
	@bash scripts/ensure-tools.sh test
	FAULT_TESTS=1 $(BIN)/jest test/e2e/faults.test.ts

tools: ## install npm packages and every local server (temporal, ferretdb, postgres, mailpit, tctl)
	@bash scripts/ensure-tools.sh all

typecheck: ## tsc --noEmit
	@bash scripts/ensure-tools.sh npm
	$(BIN)/tsc --noEmit -p tsconfig.json

lint: ## eslint (type-checked; no Node built-ins or I/O in workflow code), knip, import cycles, prettier --check
	@bash scripts/ensure-tools.sh npm
	$(STATIC_CHECKS)

format: ## prettier --write over the tree (.prettierignore says what it leaves alone)
	@bash scripts/ensure-tools.sh npm
	$(BIN)/prettier --write .

bench: ## webhook benchmark, then the campaign and analytics benchmarks (CAMPAIGN_CALLS=..., see README)
	@bash scripts/ensure-tools.sh test
	@node --import tsx bench/webhook.ts
	@node --import tsx bench/campaign.ts
	@node --import tsx bench/analytics.ts
	@node --import tsx bench/temporalSetups.ts

.PHONY: bench-temporal
bench-temporal: ## the campaign on the dev server, temporal-server with 1 and with 4 history shards (TEMPORAL_BENCH_CALLS=...)
	@bash scripts/ensure-tools.sh test
	@node --import tsx bench/temporalSetups.ts

.PHONY: bench-analytics
bench-analytics: ## analytics benchmark alone: 100,000 calls over 90 days, rollups, p50/p95/p99 of the analytics routes
	@bash scripts/ensure-tools.sh test
	@node --import tsx bench/analytics.ts

.PHONY: bench-campaign
bench-campaign: ## campaign benchmark alone: N calls × 3 events, drain, loss check, history
	@bash scripts/ensure-tools.sh test
	@node --import tsx bench/campaign.ts

build: ## compile TypeScript to dist/
	@bash scripts/ensure-tools.sh npm
	$(BIN)/tsc -p tsconfig.json

clean: ## delete local data (.data/, .test-data/) and dist/; keeps .tools/
	@if [ -f .data/pids.json ] && node -e 'process.kill(require("./.data/pids.json").owner, 0)' 2>/dev/null; then \
	  echo "make start is running; stop it before make clean" >&2; exit 1; fi
	rm -rf .data .test-data dist
