# nsrun — the front door.  `sudo make demo` and `sudo make test` do all set-up
# on a fresh Debian machine: packages (deps), build, the lab rootfs.
BUILD  ?= build
JOBS   ?= $(shell nproc)
CMAKE_FLAGS ?=
STEPS  := $(sort $(notdir $(wildcard steps/[0-9][0-9]-*)))
ROOTFS := rootfs/lab

.PHONY: all deps bench-deps configure build rootfs test test-vm unit-test check-steps sync-steps grade demo docs docs-check docs-shots bench clean help diff-final nsrun
.DEFAULT_GOAL := help

help: ## list the targets
	@echo "nsrun — a container runtime in nine steps.  Targets:"
	@grep -E '^[a-zA-Z0-9%_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'

all: build rootfs ## build everything and the lab rootfs

deps: ## install the Debian packages nsrun needs (only the missing ones)
	@scripts/deps.sh

bench-deps: ## install what make bench needs: hyperfine, runc, crun, bubblewrap, jq, perf, strace
	@scripts/bench-deps.sh

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure ## build every step, the probe and the tests
	@cmake --build $(BUILD) -j $(JOBS)

step-%: configure ## build one step: make step-4
	@cmake --build $(BUILD) -j $(JOBS) --target $(addprefix step,$(filter $(shell printf '%02d' $*)-%,$(STEPS)))

rootfs: build ## build the lab root filesystem (rootfs/lab) from busybox-static
	@if [ -f $(ROOTFS).built ] && cmp -s $(BUILD)/bin/lab-probe $(ROOTFS)/usr/bin/lab-probe \
	    && [ "$$(sha1sum < rootfs/build.sh)" = "$$(cat $(ROOTFS).built)" ]; then \
	  echo "rootfs: $(ROOTFS) is up to date"; \
	else \
	  rootfs/build.sh $(ROOTFS) $(BUILD)/bin/lab-probe && sha1sum < rootfs/build.sh > $(ROOTFS).built; \
	fi

test: deps build rootfs ## every test (kernel tests need root: sudo make test)
	@scripts/check-steps.sh
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

test-vm: deps build rootfs ## every step's suite on a cgroup-v2-only kernel under qemu (sudo make test-vm)
	@BUILD=$(BUILD) scripts/test-vm.sh

unit-test: build ## only the unit tests of common/
	@cd $(BUILD) && ctest --output-on-failure -L unit

test-step-%: build rootfs ## the cumulative tests of step N: make test-step-4
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L '^step-$(shell printf '%02d' $*)$$'

diff-step-%: ## what step N adds to step N-1: make diff-step-4
	@scripts/diff-step.sh $*

diff-final: ## how step 09's primitives changed in final/ (the complete runtime)
	@scripts/diff-final.sh

nsrun: configure ## build the complete runtime, build/bin/nsrun
	@cmake --build $(BUILD) -j $(JOBS) --target nsrun

check-steps: ## check that each step = previous step + its primitive
	@scripts/check-steps.sh

sync-steps: ## carry a fix forward to later steps: make sync-steps FILE=steps/03-mount/mount.cpp
	@scripts/sync-steps.sh $(if $(NEW),--new) $(FILE)

grade: build rootfs ## grade any runtime: make grade STEP=3 BIN=build/bin/step02-pid
	@scripts/grade.sh "$(STEP)" "$(BIN)"

run-step-%: step-% rootfs ## open a shell in step N's container: make run-step-4
	@$(BUILD)/bin/step$(filter $(shell printf '%02d' $*)-%,$(STEPS)) sh

demo: deps build rootfs ## a guided tour of every finished step
	@scripts/demo.sh $(BUILD)

bench: bench-deps build rootfs ## time container starts vs runc, crun, bwrap, unshare; writes docs/bench.md
	@scripts/bench.sh $(BUILD) $(ROOTFS) docs/bench.md

docs: configure ## the Doxygen site (build/docs/html/index.html)
	@cmake --build $(BUILD) --target docs

docs-check: configure ## build the site and check its every local link and image (part of make test)
	@scripts/check-docs-links.sh $(BUILD)

docs-shots: docs ## screenshots of the site in headless chromium (installs chromium)
	@command -v chromium >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get update -qq && apt-get install -y chromium; } \
	  || { echo "docs-shots: chromium is missing: sudo make docs-shots installs it"; exit 1; }
	@scripts/docs-shots.sh $(BUILD)

clean: ## remove the build tree and the lab rootfs
	rm -rf $(BUILD) $(ROOTFS)
