# The two commands of README.md's quick start: `make run` and `make test`.
# bash with pipefail: a fuzzer crash piped through `tail` must still fail the target.
SHELL      := /bin/bash
.SHELLFLAGS := -o pipefail -c
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
FUZZ_DIR   ?= build-fuzz
FUZZ_TIME  ?= 20
BUILD_TYPE ?= Release
LISTEN     ?= 127.0.0.1:8080
CMAKE_ARGS ?=

.PHONY: all deps browser-deps configure build run test test-asan fuzz deb test-package test-debian13 test-debian13-unit deb-arm64 deb-armhf clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR)

# Simulated board, car and site; state under build/ so no root is needed.
run: configure
	@cmake --build $(BUILD_DIR) --target evsed
	@mkdir -p $(BUILD_DIR)/state
	@echo "evsed: the dashboard and REST API on http://$(LISTEN)/ (Ctrl-C stops; the board is left safe)"
	$(BUILD_DIR)/evsed --simulate --listen $(LISTEN) --state-dir $(BUILD_DIR)/state

# The browser tests' npm packages, as the lockfile pins them (again when it changes).
BROWSER_DIR := tests/browser
$(BROWSER_DIR)/node_modules/.package-lock.json: $(BROWSER_DIR)/package-lock.json $(BROWSER_DIR)/package.json
	@cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error
browser-deps: deps $(BROWSER_DIR)/node_modules/.package-lock.json

# Every test, then the unit tests again under the sanitizers.
test: build browser-deps
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j2 --timeout 300
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEVSED_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_DIR) --target evsed_unit_tests
	@ctest --test-dir $(ASAN_DIR) --output-on-failure -j2 -L unit

# The REST parser and router under libFuzzer for FUZZ_TIME seconds, the other
# input parsers (MQTT /Set, meter replies, state files) for half that; new inputs
# go to $(FUZZ_DIR)/corpus-*, the seeds in tests/fuzz/corpus stay as they are.
fuzz: deps
	@cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DEVSED_FUZZ=ON -DEVSED_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(FUZZ_DIR) --target evsed_fuzz_rest evsed_fuzz_inputs
	@mkdir -p $(FUZZ_DIR)/corpus-rest $(FUZZ_DIR)/corpus-inputs
	@$(FUZZ_DIR)/evsed_fuzz_rest -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	  $(FUZZ_DIR)/corpus-rest tests/fuzz/corpus/rest 2>&1 | tail -n 8
	@$(FUZZ_DIR)/evsed_fuzz_inputs -max_total_time=$$(( $(FUZZ_TIME) / 2 )) -print_final_stats=1 \
	  $(FUZZ_DIR)/corpus-inputs tests/fuzz/corpus/inputs 2>&1 | tail -n 8

# The Debian package: build-deb/evsed_<version>_<arch>.deb
deb:
	@scripts/build-deb build-deb

# The package on a booted systemd (systemd-nspawn --boot) of Debian 12 and 13:
# install, reload, kill -9, watchdog, config typo, upgrade from 0.1, remove, purge.
test-package:
	@scripts/package-test

# The same test suite on Debian 13 (trixie), in a debootstrap chroot (root needed).
test-debian13:
	@scripts/debian13 test

# Only the Debian 13 build and its unit tests: the part CI runs.
test-debian13-unit:
	@scripts/debian13 unit

# An arm64 .deb, cross-built in the Debian 13 chroot; its unit tests run under qemu.
deb-arm64:
	@scripts/debian13 deb-arm64

# The armhf .deb (32-bit Raspberry Pi OS), the same way.
deb-armhf:
	@scripts/debian13 deb-armhf

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) build-deb build-deb-arm64 build-deb-armhf build-trixie*
