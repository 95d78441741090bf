# hags — the front door. `make help` lists the targets.
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -euc
.DEFAULT_GOAL := help

GO       ?= go
BUILD    := build
BIN      := $(BUILD)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/openhags/hags/daemon.Version=$(VERSION)
GOFLAGS_BUILD := -trimpath -buildvcs=false -ldflags '$(LDFLAGS)'
FUZZTIME ?= 30s

.PHONY: help build test race lint demo fuzz clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build/bin/hagsd, build/bin/hagsctl and the example clients
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./cmd/hagsd ./cmd/hagsctl
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./examples/go/gsclient ./examples/go/demo

test: build ## vet, lint and every test (engine transcripts, daemon, client, real processes)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...

race: ## the tests under the race detector, several times (flakes hide here)
	$(GO) test -race -count=3 -timeout 30m ./...

lint: ## gofmt, go vet, import boundaries, go.mod tidiness
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./internal/lint
	$(GO) mod tidy -diff

demo: build ## start a one-node hagsd and real client processes; show what each saw
	$(BIN)/demo --bin $(BIN)

fuzz: ## time-boxed fuzzing of every Fuzz target (FUZZTIME each, default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	  done; done

clean: ## remove build outputs
	rm -rf $(BUILD)
