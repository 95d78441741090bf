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
STRESS_SEEDS ?= 1000
FAULT_RUNS ?= 3
LIB      := $(BUILD)/lib
PREFIX   ?= /usr/local
DESTDIR  ?=
LIBVER   := 1.0.0
SONAME   := libha_gs.so.1
CC       ?= cc
BENCHBIN := $(BUILD)/bench
# Only ha_gs_* is exported (version script), under the soname libha_gs.so.1.
CAPI_LDFLAGS := -extldflags '-Wl,--version-script=$(CURDIR)/capi/libha_gs.map -Wl,-soname,$(SONAME)'

.PHONY: help build lib install test race lint demo demo-cluster fuzz stress clean bench-tools bench bench-compare

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: lib ## build/bin: hagsd, hagsctl, hagsrmd, hagsrm, the example clients; and the C library (lib)
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./cmd/hagsd ./cmd/hagsctl ./cmd/hagsrmd ./cmd/hagsrm
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./examples/go/gsclient ./examples/go/demo

lib: ## build/lib: libha_gs.so.1.0.0 with the links .so.1, .so and libha_gs_r.so, libha_gs.a, pkgconfig/libha_gs.pc
	@mkdir -p $(LIB)/pkgconfig
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -ldflags "$(CAPI_LDFLAGS)" \
	  -o $(LIB)/libha_gs.so.$(LIBVER) ./capi
	CGO_ENABLED=1 $(GO) build -buildmode=c-archive -trimpath -buildvcs=false -o $(LIB)/libha_gs.a ./capi
	@# cgo writes a header beside each; include/ha_gs.h is the contract, so they go.
	rm -f $(LIB)/*.h
	ln -sfn libha_gs.so.$(LIBVER) $(LIB)/$(SONAME)
	ln -sfn $(SONAME) $(LIB)/libha_gs.so
	ln -sfn $(SONAME) $(LIB)/libha_gs_r.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIBVER)|' capi/libha_gs.pc.in > $(LIB)/pkgconfig/libha_gs.pc

install: build ## install hagsd, hagsctl, ha_gs.h, the libraries and libha_gs.pc under $(DESTDIR)$(PREFIX)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BIN)/hagsd $(BIN)/hagsctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 include/ha_gs.h $(DESTDIR)$(PREFIX)/include/
	install -m 0755 $(LIB)/libha_gs.so.$(LIBVER) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(LIB)/libha_gs.a $(DESTDIR)$(PREFIX)/lib/
	ln -sfn libha_gs.so.$(LIBVER) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(PREFIX)/lib/libha_gs.so
	ln -sfn $(SONAME) $(DESTDIR)$(PREFIX)/lib/libha_gs_r.so
	install -m 0644 $(LIB)/pkgconfig/libha_gs.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

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

demo-cluster: build ## three hagsd on loopback, a provider on each; kill one daemon, the others see the failure leave
	$(GO) run ./examples/go/democluster --bin $(BIN)

fuzz: ## time-boxed fuzzing of every Fuzz target (FUZZTIME each, default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s; \
	  done; done

bench-tools: build ## build/bench: hagsbench and the libha_gs client of scenario (h)
	@mkdir -p $(BENCHBIN)
	$(GO) build -o $(BENCHBIN)/ ./cmd/hagsbench
	$(CC) -O2 -Wall -Wextra -I include -o $(BENCHBIN)/gsbench bench/gsbench.c -L $(LIB) -lha_gs -Wl,-rpath,$(CURDIR)/$(LIB)

bench: bench-tools ## hags alone, quickly (under 2 minutes): bench/results/quick/
	$(BENCHBIN)/hagsbench --quick --out bench/results/quick

bench-compare: bench-tools ## install Debian's corosync and libcpg-dev, run hags and Corosync alternately: bench/results/
	@if command -v corosync >/dev/null && [ -f /usr/include/corosync/cpg.h ]; then \
	  echo "corosync and libcpg-dev are installed"; \
	elif ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y corosync libcpg-dev; }; then \
	  echo "bench-compare: CANNOT INSTALL corosync and libcpg-dev: Corosync will not be measured, hags will"; \
	fi
	@rm -f $(BENCHBIN)/cpgbench
	@if [ -f /usr/include/corosync/cpg.h ]; then \
	  echo "$(CC) -O2 -Wall -Wextra -o $(BENCHBIN)/cpgbench bench/cpgbench.c -lcpg"; \
	  $(CC) -O2 -Wall -Wextra -o $(BENCHBIN)/cpgbench bench/cpgbench.c -lcpg; \
	fi
	$(BENCHBIN)/hagsbench --compare --out bench/results

stress: ## fault injection judged by the checkers: STRESS_SEEDS simulated schedules of Group Services and of the failover managers, the real-process fault runs FAULT_RUNS times (log: build/stress.log)
	@mkdir -p $(BUILD)
	@echo "stress: $(STRESS_SEEDS) simulated seeds of Group Services and $(STRESS_SEEDS) of the failover managers, $(FAULT_RUNS) real-process runs of each fault test; log in $(BUILD)/stress.log"
	@rc=0; HAGS_STRESS_SEEDS=$(STRESS_SEEDS) HAGS_FAULT_RUNS=$(FAULT_RUNS) \
	  $(GO) test -count=1 -timeout 90m -run '^(TestStress|TestFault)' -v ./integration > $(BUILD)/stress.log 2>&1 || rc=$$?; \
	  grep -E '^(--- |ok |FAIL)|seeds \(|histories, |reproduce:' $(BUILD)/stress.log || true; \
	  if [ $$rc -ne 0 ]; then echo "stress: FAILED; see $(BUILD)/stress.log"; exit $$rc; fi

clean: ## remove build outputs
	rm -rf $(BUILD)
