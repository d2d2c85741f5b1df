# orderbus — every command a user or CI needs. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
SERVICES := order email sms inventory gdpr console
# Test timeouts are ceilings, not expectations: the suite takes minutes.
GOTEST_FLAGS ?= -count=1 -timeout=15m

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: tools
tools: ## Build the pinned nats-server and Mailpit (with its web UI when npm is installed) into .tools/bin.
	$(GO) run ./e2e/cmd/orderbus-tools nats-server mailpit

.PHONY: build
build: ## Build every service binary into bin/.
	@mkdir -p bin
	for s in $(SERVICES); do $(GO) build -trimpath -o bin/$$s ./services/$$s; done

.PHONY: tools-jaeger
tools-jaeger: ## Build the pinned Jaeger (v1.76.0 = v2.13.0) into .tools/bin for `make run RUN_FLAGS=-jaeger` (~6 min, 120 MB, once).
	$(GO) run ./e2e/cmd/orderbus-tools jaeger

.PHONY: run
run: tools ## Run the whole system locally (NATS, PostgreSQL, Mailpit, services); RUN_FLAGS=-help for options.
	$(GO) build -o .tools/bin/orderbus-run ./e2e/cmd/orderbus-run
	exec .tools/bin/orderbus-run $(RUN_FLAGS)

# ARGS are orderbus-dlq's: list, show SEQ, redrive SEQ...|-consumer NAME|-filter F,
# purge -filter F|-consumer NAME|-all -yes; NATS_URL picks another server.
# It connects as the development admin unless NATS_USER/NATS_PASSWORD say
# otherwise (reader suffices for list and show).
.PHONY: dlq
dlq: ## Dead letters of a running system: make dlq ARGS="list" (ARGS=-help for every command).
	@mkdir -p .tools/bin
	$(GO) build -o .tools/bin/orderbus-dlq ./e2e/cmd/orderbus-dlq
	NATS_USER=$${NATS_USER:-admin} NATS_PASSWORD=$${NATS_PASSWORD:-orderbus-dev-nats-admin} .tools/bin/orderbus-dlq $(ARGS)

.PHONY: chaos
chaos: tools ## Orders through crashes, restarts and network faults, then a checker reconciles every effect (minutes); CHAOS_FLAGS=-help for options.
	$(GO) build -o .tools/bin/orderbus-chaos ./e2e/cmd/orderbus-chaos
	.tools/bin/orderbus-chaos $(CHAOS_FLAGS)

# The same system in Docker (docker-compose.yml); needs nothing but Docker
# with Compose v2. MAIL_CATCHER_IMAGE=axllent/mailpit:v1.33.1 on arm64.
COMPOSE ?= docker compose

.PHONY: up
up: ## Build and start the system in Docker, wait until every service is healthy, print the URLs.
	$(COMPOSE) up --build --detach --wait
	@echo "orders     http://127.0.0.1:8080/v1/orders   (scripts/place-order.sh)"
	@echo "inventory  http://127.0.0.1:8081/v1/stock"
	@echo "gdpr       http://127.0.0.1:8082/v1/erasures"
	@echo "email      http://127.0.0.1:8083/v1/mails?order_id=<id>"
	@echo "sms        http://127.0.0.1:8084/v1/messages?to=<E.164>"
	@echo "console    http://127.0.0.1:8085   (live orders, consumers, dead letters)"
	@echo "mail UI    http://127.0.0.1:8025"
	@echo "traces     http://127.0.0.1:16686   (Jaeger: service order, one trace per order)"
	@echo "NATS       nats://127.0.0.1:4222 (users: admin / orderbus-dev-nats-admin, reader / orderbus-dev-nats-reader), monitoring http://127.0.0.1:8222/jsz?consumers=true"
	@echo "logs: $(COMPOSE) logs -f [service]; stop: make down"

.PHONY: down
down: ## Stop the Docker system and delete its volumes (databases, streams, mails).
	$(COMPOSE) down --volumes

.PHONY: test
test: tools browser lint test-packages k8s-check fuzz e2e ## Everything CI runs: lint, unit + integration, Kubernetes manifests, fuzzing (briefly), end-to-end (browser tests included).

# The browser tests (e2e/browser) drive Debian's chromium headless. Run as
# root (CI), this installs it when it is missing; otherwise it says how.
CHROMIUM ?= /usr/bin/chromium

.PHONY: browser
browser: ## Make sure headless Chromium is there for the browser tests (apt-get install chromium as root).
	@if [[ -x $(CHROMIUM) ]]; then exit 0; fi; \
	if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "no $(CHROMIUM): the browser tests skip locally (and fail with CI=true); install Debian's chromium package"; \
	fi

.PHONY: test-packages
test-packages: ## Unit and integration tests of pkg and the services (race detector on).
	$(GO) test -race $(GOTEST_FLAGS) ./pkg/... $(addprefix ./services/,$(addsuffix /...,$(SERVICES)))
	cd deploy/docker/healthcheck && GOWORK=off $(GO) test $(GOTEST_FLAGS) ./...

.PHONY: k8s-check
k8s-check: ## Render each deploy/k8s overlay (kustomize, in-process) and validate every object strictly; no cluster needed.
	cd deploy/k8s/validate && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) test $(GOTEST_FLAGS) ./... && GOWORK=off $(GO) run .

# Each fuzz target, as package:target; the checked-in seed corpora are in
# <package>/testdata/fuzz/<target>/ (and run with every go test). A crash
# the fuzzer finds lands there too: commit it with the fix, as the
# regression test.
FUZZ_TARGETS := ./pkg/events:FuzzParse ./pkg/dlq:FuzzParseFilter \
	./services/order:FuzzCreateOrderRequest ./services/inventory:FuzzSetStockRequest \
	./services/gdpr:FuzzCreateErasureRequest
FUZZTIME ?= 3s

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 3s): HTTP bodies, events.Parse, the DLQ filter.
	for t in $(FUZZ_TARGETS); do $(GO) test -run='^$$' -fuzz="^$${t#*:}$$" -fuzztime=$(FUZZTIME) "$${t%%:*}"; done

.PHONY: token
token: ## Print a development token: make -s token [ARGS="-customer <id>" | ARGS="-roles operator:read"].
	@mkdir -p .tools/bin
	@$(GO) build -o .tools/bin/orderbus-token ./e2e/cmd/orderbus-token
	@.tools/bin/orderbus-token $(ARGS)

.PHONY: e2e
e2e: tools browser ## End-to-end tests against the real system, started by the launcher (browser tests included).
	$(GO) test $(GOTEST_FLAGS) ./e2e/...

# BENCH_FLAGS are orderbus-bench's: -quick (under two minutes), -orders N,
# -latency-rate R, -smtp-delay D... (BENCH_FLAGS=-help lists them all).
.PHONY: bench
bench: tools ## Go benchmarks of the hot paths, then orderbus-bench: one table (pgbench limit, order service, whole system, latency, slow SMTP, footprint) and bench-results/<time>/ (figures, not assertions).
	$(GO) test -run='^$$' -bench=. -benchtime=2000x ./pkg/...
	$(GO) build -o .tools/bin/orderbus-bench ./e2e/cmd/orderbus-bench
	.tools/bin/orderbus-bench $(BENCH_FLAGS)

.PHONY: lint
lint: ## gofmt and go vet over every module; GOWORK=off builds of each service.
	@out=$$(gofmt -l pkg services e2e deploy); if [[ -n $$out ]]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./pkg/... ./e2e/... $(addprefix ./services/,$(addsuffix /...,$(SERVICES)))
	for s in $(SERVICES); do (cd services/$$s && GOWORK=off $(GO) build -o /dev/null ./...); done

.PHONY: clean
clean: ## Remove built binaries (keeps the tools folder).
	rm -rf bin
