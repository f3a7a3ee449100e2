# Freezer in Go. Small, hand-written targets; see README.rst.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
LDFLAGS := -s -w -X freezer.dev/freezer/internal/version.Version=$(VERSION)
BUILD := build
# Every package main under a program's cmd/ folder becomes build/<name>,
# and so do the bench and load tools (tools/), which `make bench` runs.
CMDS := $(wildcard freezer/cmd/* freezer_api/cmd/* freezer_scheduler/cmd/*)
TOOLS := tools/bench/freezer-api-bench tools/loadpoll/cmd/freezer-loadpoll
TESTENV := tools/testenv
# Integration packages run one at a time: they share one set of services.
INTEGRATION_FLAGS ?= -count=1 -p 1 -timeout 40m
# `make cross` builds every program for each of these GOOS/GOARCH pairs.
CROSS_PLATFORMS ?= linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64
# staticcheck, pinned: `make lint` installs this version from the module
# proxy into build/tools (a newer Go may need a newer one).
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BUILD)/tools/staticcheck-$(STATICCHECK_VERSION)

.PHONY: all build cross test integration bench lint run testenv-up testenv-down testenv-purge clean releasenotes fuzz samples bench-memory bench-api-compare

all: build

build:
	@mkdir -p $(BUILD)
	@for c in $(CMDS) $(TOOLS); do \
		echo "go build $$c -> $(BUILD)/$$(basename $$c)"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BUILD)/$$(basename $$c) ./$$c || exit 1; \
	done

# Every program for every platform upstream names (Linux, Windows, macOS,
# FreeBSD), into build/cross/<os>-<arch>/. Pure Go, so no C toolchains.
cross:
	@for p in $(CROSS_PLATFORMS); do \
		echo "GOOS=$${p%/*} GOARCH=$${p#*/} go build -> $(BUILD)/cross/$${p%/*}-$${p#*/}/"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o $(BUILD)/cross/$${p%/*}-$${p#*/}/ $(addprefix ./,$(CMDS)) || exit 1; \
	done

# Unit tests: no services needed (SQLite, temp dirs), race detector on.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Integration tests: need `make testenv-up` (real Keystone, Swift, S3,
# MariaDB, sshd, vsftpd on loopback). They fail, never skip, without it.
# tools/integcheck reads the JSON stream (kept in build/integration.json)
# and fails the run when a test of an integration-tagged file did not run
# or when any test skipped outside tools/integcheck/allowed-skips.txt.
integration: build
	set -o pipefail; FREEZER_BUILD_DIR=$(CURDIR)/$(BUILD) $(GO) test -tags integration -json $(INTEGRATION_FLAGS) ./... 2>&1 \
		| tee $(BUILD)/integration.json | $(GO) run ./tools/integcheck

bench: build
	bash tools/bench/run.sh

# Peak RSS of the agent at 0.5 and 4 GiB (flat, bounded by segments in flight).
bench-memory: build
	bash tools/bench/memflat.sh

# BASE=<git revision>: our freezer-api now against as built at BASE, one run.
bench-api-compare: build
	bash tools/bench/api-compare.sh "$(BASE)"

fuzz:
	bash tools/fuzz.sh

lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	shellcheck -x .ci/run devstack/plugin.sh devstack/settings devstack/lib/freezer devstack/tests/*.sh tools/*.sh tools/testenv/*.sh
	shellcheck -x -P tools/bench tools/bench/*.sh
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration ./...
	GOOS=windows $(GO) vet ./freezer_scheduler/...

$(STATICCHECK):
	@mkdir -p $(BUILD)/tools
	GOBIN=$(CURDIR)/$(BUILD)/tools $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BUILD)/tools/staticcheck $@

# Quick start on embedded defaults: SQLite, local storage, no auth.
run: build
	bash tools/quickstart.sh

testenv-up:
	bash $(TESTENV)/up.sh all

testenv-down:
	bash $(TESTENV)/down.sh all

testenv-purge:
	bash $(TESTENV)/down.sh all --purge

# etc/freezer/*.sample are generated from the programs' option schemas;
# `make test` fails when the committed ones drift.
samples:
	$(GO) run ./tools/gensamples

releasenotes:
	bash tools/releasenotes.sh

clean:
	rm -rf $(BUILD)
