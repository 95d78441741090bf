# hags — the front door. `make help` lists the targets.
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -euc
.DEFAULT_GOAL := help

GO       ?= go
BUILD    := build
BIN      := $(BUILD)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# EXTLDFLAGS: flags for the C linker, e.g. Debian's hardening (make deb);
# with them the programs are linked externally, so that the flags apply.
EXTLDFLAGS ?=
LDFLAGS  := -X github.com/openhags/hags/daemon.Version=$(VERSION) -X main.version=$(VERSION) \
  $(if $(EXTLDFLAGS),-linkmode=external "-extldflags=$(EXTLDFLAGS)")
# BUILDMODE: e.g. -buildmode=pie (make deb does).
BUILDMODE ?=
GOFLAGS_BUILD := -trimpath -buildvcs=false $(BUILDMODE) -ldflags '$(LDFLAGS)'
FUZZTIME ?= 30s
STRESS_SEEDS ?= 1000
FAULT_RUNS ?= 3
LIB      := $(BUILD)/lib
PREFIX   ?= /usr/local
DESTDIR  ?=
# Where make install puts each kind of file (a distribution sets PREFIX=/usr
# and LIBDIR=/usr/lib/<triplet>, as make deb does).
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
MANOUT   := $(BUILD)/man
UNITOUT  := $(BUILD)/systemd
MANPAGES := $(filter-out docs/man/README.md,$(wildcard docs/man/*.md))
# make deb: the version of the packages (from a v* tag when there is one),
# dpkg's view of this machine, and nfpm, pinned.
DEB_VERSION ?= $(shell v=$$( (git describe --tags --match 'v[0-9]*' 2>/dev/null || true) | sed -e 's/^v//' -e 's/-\([0-9]*\)-g/+git\1./'); \
  [ -n "$$v" ] || v=0.0.0~git$$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null).$$(git rev-parse --short HEAD 2>/dev/null); echo "$$v-1")
DEB_ARCH       ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_MULTIARCH  ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
DEB_MAINTAINER ?= hags maintainers <maintainers@openhags.invalid>
NFPM_VERSION := v2.48.0
NFPM     := $(BUILD)/tools/nfpm-$(NFPM_VERSION)
LIBVER   := 1.0.0
SONAME   := libha_gs.so.1
CC       ?= cc
BENCHBIN := $(BUILD)/bench
# Only ha_gs_* is exported (version script), under the soname libha_gs.so.1.
CAPI_LDFLAGS := -extldflags '-Wl,--version-script=$(CURDIR)/capi/libha_gs.map -Wl,-soname,$(SONAME) $(EXTLDFLAGS)'

.PHONY: help build lib man units install deb print-deb-version test-deb test race lint demo demo-cluster demo-failover fuzz stress clean bench-tools bench bench-compare

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
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(LIBVER)|' \
	  capi/libha_gs.pc.in > $(LIB)/pkgconfig/libha_gs.pc

man: ## build/man: the manual pages, docs/man/*.md rendered with go-md2man (docs/man/README.md)
	$(GO) run ./cmd/mangen -out $(MANOUT) $(MANPAGES)

units: ## build/systemd: hagsd.service and hagsrmd.service naming SBINDIR and SYSCONFDIR
	@mkdir -p $(UNITOUT)
	for u in hagsd hagsrmd; do \
	  sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' packaging/systemd/$$u.service.in > $(UNITOUT)/$$u.service; \
	done

install: build man units ## install the daemons, tools, library, header, pkg-config file, units, configuration, man pages and completions under $(DESTDIR)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/hags $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN)/hagsd $(BIN)/hagsrmd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BIN)/hagsctl $(BIN)/hagsrm $(DESTDIR)$(BINDIR)/
	install -m 0644 include/ha_gs.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0755 $(LIB)/libha_gs.so.$(LIBVER) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIB)/libha_gs.a $(DESTDIR)$(LIBDIR)/
	ln -sfn libha_gs.so.$(LIBVER) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libha_gs.so
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libha_gs_r.so
	install -m 0644 $(LIB)/pkgconfig/libha_gs.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 $(UNITOUT)/hagsd.service $(UNITOUT)/hagsrmd.service $(DESTDIR)$(UNITDIR)/
	@# An operator's configuration is never overwritten.
	for c in hagsd.conf hagsrmd.conf; do \
	  [ -e $(DESTDIR)$(SYSCONFDIR)/hags/$$c ] || install -m 0644 packaging/etc/$$c $(DESTDIR)$(SYSCONFDIR)/hags/; \
	done
	install -m 0644 $(MANOUT)/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 $(MANOUT)/man7/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(MANOUT)/man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	for t in hagsctl hagsrm; do \
	  $(BIN)/$$t completion bash > $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	  $(BIN)/$$t completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	done
	@# Into this machine itself, as root: the groups the daemons grant access to,
	@# and systemd told of the units (enabled by nobody but the operator).
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  for g in hagsuser hagsadmin; do getent group $$g >/dev/null || groupadd --system $$g; done; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

$(NFPM):
	@mkdir -p $(BUILD)/tools
	GOBIN=$(CURDIR)/$(BUILD)/tools GOFLAGS= $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
	mv $(BUILD)/tools/nfpm $@

deb: $(NFPM) ## build/deb: hags, libha-gs1 and libha-gs-dev packages (nfpm; needs dpkg-dev)
	rm -rf $(BUILD)/deb
	@# Debian's hardening flags for the C parts and the linker (bindnow, fortify, ...).
	flags() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get $$1; }; \
	CGO_CFLAGS="$$(flags CFLAGS)" CGO_CPPFLAGS="$$(flags CPPFLAGS)" CGO_LDFLAGS="$$(flags LDFLAGS)" \
	$(MAKE) install DESTDIR=$(CURDIR)/$(BUILD)/deb/root PREFIX=/usr LIBDIR=/usr/lib/$(DEB_MULTIARCH) \
	  UNITDIR=/lib/systemd/system SYSCONFDIR=/etc BUILDMODE=-buildmode=pie EXTLDFLAGS="$$(flags LDFLAGS)"
	NFPM=$(NFPM) DEB_VERSION='$(DEB_VERSION)' DEB_ARCH=$(DEB_ARCH) DEB_MULTIARCH=$(DEB_MULTIARCH) \
	  DEB_MAINTAINER='$(DEB_MAINTAINER)' LIBVER=$(LIBVER) packaging/deb/build.sh $(BUILD)/deb/root $(BUILD)/deb

print-deb-version:
	@echo '$(DEB_VERSION)'

test-deb: ## build the packages, check them with lintian and their file lists (packaging/deb_test.go; a few minutes)
	HAGS_TEST_DEB=1 $(GO) test -count=1 -timeout 20m -run TestDebianPackages -v ./packaging

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

demo-failover: build ## three hagsd and hagsrmd: MS-CMRP's "Moving a Group", ApiOnlineResource's rules and recovery, a node killed and its group failed over (root; installs resource-agents)
	@dummy="$${OCF_ROOT:-/usr/lib/ocf}/resource.d/heartbeat/Dummy"; \
	if [ ! -e "$$dummy" ] && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's resource-agents (the OCF agent $$dummy)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq resource-agents; \
	fi
	$(GO) run ./examples/go/demofailover --bin $(BIN)

fuzz: ## time-boxed fuzzing of every Fuzz target (FUZZTIME each, default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s; \
	  done; done

bench-tools: build ## build/bench: hagsbench, the libha_gs client of scenario (h), hagsrm-actlog
	@mkdir -p $(BENCHBIN)
	$(GO) build -o $(BENCHBIN)/ ./cmd/hagsbench ./cmd/hagsrm-actlog
	$(CC) -O2 -Wall -Wextra -I include -o $(BENCHBIN)/gsbench bench/gsbench.c -L $(LIB) -lha_gs -Wl,-rpath,$(CURDIR)/$(LIB)

bench: bench-tools ## hags alone, quickly (under 2 minutes): bench/results/quick/
	$(BENCHBIN)/hagsbench --quick --out bench/results/quick

bench-compare: bench-tools ## install Debian's corosync, libcpg-dev, pacemaker, resource-agents; run hags against Corosync, then Pacemaker: bench/results/
	@if command -v corosync >/dev/null && [ -f /usr/include/corosync/cpg.h ] && command -v pacemakerd >/dev/null \
	    && [ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ]; then \
	  echo "corosync, libcpg-dev, pacemaker and resource-agents are installed"; \
	elif ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y corosync libcpg-dev pacemaker resource-agents; }; then \
	  echo "bench-compare: CANNOT INSTALL corosync, libcpg-dev, pacemaker and resource-agents: what is missing will not be measured, hags will"; \
	fi
	@rm -f $(BENCHBIN)/cpgbench
	@if [ -f /usr/include/corosync/cpg.h ]; then \
	  echo "$(CC) -O2 -Wall -Wextra -o $(BENCHBIN)/cpgbench bench/cpgbench.c -lcpg"; \
	  $(CC) -O2 -Wall -Wextra -o $(BENCHBIN)/cpgbench bench/cpgbench.c -lcpg; \
	fi
	$(BENCHBIN)/hagsbench --compare --out bench/results

stress: ## fault injection judged by the history checker: STRESS_SEEDS simulated schedules, the real-process fault runs FAULT_RUNS times (log: build/stress.log)
	@mkdir -p $(BUILD)
	@echo "stress: $(STRESS_SEEDS) simulated seeds, $(FAULT_RUNS) real-process runs of each fault test; log in $(BUILD)/stress.log"
	@rc=0; HAGS_STRESS_SEEDS=$(STRESS_SEEDS) HAGS_FAULT_RUNS=$(FAULT_RUNS) \
	  $(GO) test -count=1 -timeout 90m -run '^(TestStress|TestFault)' -v ./integration > $(BUILD)/stress.log 2>&1 || rc=$$?; \
	  grep -E '^(--- |ok |FAIL)|seeds \(|histories, |reproduce:' $(BUILD)/stress.log || true; \
	  if [ $$rc -ne 0 ]; then echo "stress: FAILED; see $(BUILD)/stress.log"; exit $$rc; fi

clean: ## remove build outputs
	rm -rf $(BUILD)
