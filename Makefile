# nsrun — the front door.  `sudo make demo` and `sudo make test` do all set-up
# on a fresh Debian machine: packages (deps), build, the lab rootfs.
BUILD  ?= build
JOBS   ?= $(shell nproc)
CMAKE_FLAGS ?=
STEPS  := $(sort $(notdir $(wildcard steps/[0-9][0-9]-*)))
ROOTFS := rootfs/lab
# stepNN-name of step N: $(call step_target,4) = step04-rootfs
step_target = step$(filter $(shell printf '%02d' $(1))-%,$(STEPS))
# A new build directory is generated for Ninja when it is installed (make
# deps installs it): it schedules the whole build as one graph and costs
# about a second of CPU where make's recursive Makefiles cost ~15 s.  An
# existing build directory keeps the generator it was made with.
GENERATOR := $(if $(shell command -v ninja 2>/dev/null),-G Ninja)
# make's own option, only when the build directory uses Makefiles.
native_flags = $$([ -f $(BUILD)/Makefile ] && echo -- --no-print-directory)
# Build the named targets showing only errors (make grade and make test-step-N
# show their report, not pages of compiler progress).
quiet_build = cmake --build $(BUILD) -j $(JOBS) --target $(1) $(native_flags) >$(BUILD)/build.log 2>&1 \
	|| { cat $(BUILD)/build.log; echo "build failed (full log: $(BUILD)/build.log)" >&2; exit 1; }

.PHONY: all doctor deps oci-deps oci-test bench-deps configure build probe rootfs test test-vm unit-test check-steps sync-steps grade demo docs docs-check docs-shots bench code-layout clean help diff-final nsrun
.DEFAULT_GOAL := help

help: ## list the targets
	@echo "nsrun — a container runtime in nine steps.  Targets:"
	@grep -E '^[a-zA-Z0-9%_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'

all: build rootfs ## build everything and the lab rootfs

doctor: ## what of the course works on this machine, and how to fix the rest
	@BUILD=$(BUILD) scripts/doctor.sh

deps: ## install the packages nsrun needs (apt, dnf or pacman; only the missing ones)
	@scripts/deps.sh

oci-deps: ## install the real OCI clients the OCI tests drive nsrun with: podman, containerd (and runc)
	@scripts/oci-deps.sh

bench-deps: ## install what make bench and code-layout need: hyperfine, runc, crun, bubblewrap, jq, perf, strace, python3
	@scripts/bench-deps.sh

configure:
	@if [ -e $(BUILD) ] && { [ ! -w $(BUILD) ] || { [ -e $(BUILD)/CMakeCache.txt ] && [ ! -w $(BUILD)/CMakeCache.txt ]; }; }; then \
	  echo "make: $(BUILD)/ belongs to $$(stat -c %U $(BUILD)) (built with sudo?): run this with sudo too, or remove it with: sudo make clean" >&2; \
	  exit 1; \
	fi
	@cmake -S . -B $(BUILD) $$([ -f $(BUILD)/CMakeCache.txt ] || echo "$(GENERATOR)") $(CMAKE_FLAGS) >/dev/null

build: configure ## build every step, the probe and the tests
	@cmake --build $(BUILD) -j $(JOBS) $(native_flags)

step-%: configure ## build one step: make step-4
	@$(call quiet_build,$(call step_target,$*))
	@echo "built $(BUILD)/bin/$(call step_target,$*)"

probe: configure
	@$(call quiet_build,lab-probe)

rootfs: probe ## build the lab root filesystem (rootfs/lab) from busybox-static, and rootfs/lab.oci.tar
	@if [ -f $(ROOTFS).built ] && [ -f $(ROOTFS).oci.tar ] && cmp -s $(BUILD)/bin/lab-probe $(ROOTFS)/usr/bin/lab-probe \
	    && [ "$$(cat rootfs/build.sh rootfs/oci-archive.sh | sha1sum)" = "$$(cat $(ROOTFS).built)" ]; then \
	  echo "rootfs: $(ROOTFS) and $(ROOTFS).oci.tar are up to date"; \
	else \
	  rootfs/build.sh $(ROOTFS) $(BUILD)/bin/lab-probe && cat rootfs/build.sh rootfs/oci-archive.sh | sha1sum > $(ROOTFS).built; \
	fi

test: deps oci-deps build rootfs ## every test, then every step on a cgroup-v2 kernel in qemu (needs root: sudo make test)
	@scripts/check-steps.sh
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300
	@BUILD=$(BUILD) scripts/test-vm.sh

test-vm: deps build rootfs ## every step's suite on a cgroup-v2-only kernel under qemu (sudo make test-vm)
	@BUILD=$(BUILD) scripts/test-vm.sh

unit-test: build ## only the unit tests of common/
	@cd $(BUILD) && ctest --output-on-failure -L unit

oci-test: oci-deps configure rootfs ## podman and containerd drive runc and nsrun (tests/oci; sudo make oci-test)
	@$(call quiet_build,oci-client-tests nsrun lab-probe)
	@cd $(BUILD) && ctest --output-on-failure -L oci-clients

test-step-%: configure rootfs ## the cumulative tests of step N: make test-step-4
	@$(call quiet_build,$(call step_target,$*) lab-probe step-tests)
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

# make grade builds the step tests, and BIN too when it is one of ours (build/bin/stepNN-name or build/bin/nsrun).
grade_target = $(filter $(addprefix step,$(STEPS)) nsrun,$(notdir $(firstword $(BIN))))
grade: configure rootfs ## grade any runtime: make grade STEP=3 BIN=build/bin/step02-pid
	@$(call quiet_build,step-tests lab-probe $(grade_target))
	@scripts/grade.sh "$(STEP)" "$(BIN)"

run-step-%: step-% rootfs ## open a shell in step N's container: make run-step-4
	@$(BUILD)/bin/$(call step_target,$*) sh

demo: deps build rootfs ## a guided tour of every finished step
	@scripts/demo.sh $(BUILD)

bench: bench-deps build rootfs ## time container starts vs runc, crun, bwrap, unshare, and image import vs tar; writes docs/bench.md
	@scripts/bench.sh $(BUILD) $(ROOTFS) docs/bench.md
	@scripts/bench-images.sh $(BUILD) $(ROOTFS) docs/bench.md

code-layout: bench-deps build rootfs ## regenerate final/nsrun.order: the functions a start and an OCI cycle run, for lld to lay out together
	@scripts/code-layout.py $(BUILD) $(ROOTFS) final/nsrun.order

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
