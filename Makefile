# MyChat — the two commands that matter: `make run` and `make test`.

CARGO   ?= cargo
ADDR    ?= 0.0.0.0:8000
DATA    ?= ./data
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN     := target/release/mychat
# The load generator; it starts the `mychat` binary beside it.
BENCH   := $(or $(CARGO_TARGET_DIR),target)/release/mychat-bench

.PHONY: run release test lint test-rust test-browser browser-deps bench abuse fuzz pi pi32 test-pi clean

## Build the release binary and serve on $(ADDR) with data in $(DATA).
run: release
	mkdir -p $(DATA)
	$(BIN) --addr $(ADDR) --data-dir $(DATA)

release:
	$(CARGO) build --release --locked --bins

## Every test, from a fresh clone: formatting, lints, Rust unit and integration tests
## (real server, real sockets), the browser tests in headless Chromium, and the Raspberry Pi
## build under qemu-user.
test: lint test-rust test-browser test-pi

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

# The debug server logs every hub command that takes over 5 ms; the tests collect those lines.
SLOW_LOG = $(or $(CARGO_TARGET_DIR),target)/tmp/slow-hub-commands.log
test-rust:
	rm -f $(SLOW_LOG)
	$(CARGO) test --locked
	@if [ -s $(SLOW_LOG) ]; then echo "hub commands over 5 ms in this run (debug build; a loaded machine adds its own):"; \
	  sed 's/.*slow hub command: \(.*\) took .*/\1/' $(SLOW_LOG) | sort | uniq -c | sort -rn | head -20; \
	else echo "no hub command took over 5 ms"; fi

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v sqlite3 >/dev/null 2>&1 || { \
	  echo "installing Debian's sqlite3 (files.test.mjs claims uploads with it)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq sqlite3 >/dev/null; }
	@[ -d tests/browser/node_modules/playwright-core ] && [ -d tests/browser/node_modules/axe-core ] || \
	  (cd tests/browser && npm ci --no-audit --no-fund)

test-browser: release browser-deps
	cd tests/browser && MYCHAT_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 --test-reporter=spec

## Benchmarks (figures, never pass/fail): build the release binaries, start a fresh server on
## a temp data dir, run every scenario against it, stop it, print one JSON line per scenario
## and a table. Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS="room --room-rate 200"`;
## `$(BENCH) --help` lists them.
bench: release
	$(BENCH) $(BENCH_ARGS)

## Abuse checks (figures, never pass/fail): the attacks of issue 11 — silent connections,
## a login flood with random names, an account's lock-out — each against a fresh release
## server of its own with production limits; prints what bystanders and owners got and the
## server's RSS. About two minutes. Options in ABUSE_ARGS, e.g. ABUSE_ARGS="--abuse-duration 60".
abuse: release
	$(BENCH) abuse $(ABUSE_ARGS)

## Fuzz the HTTP parser, the chunked body decoder and the WebSocket frame decoder, FUZZ_SECONDS each (cargo-fuzz on
## the stable toolchain via RUSTC_BOOTSTRAP). A crash leaves its input in
## tests/fuzz/artifacts/; copy it to tests/fuzz/regressions/<target>/ so `cargo test` replays it.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@for target in http_request chunked_body ws_frames; do \
	  mkdir -p tests/fuzz/corpus/$$target; \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --fuzz-dir tests/fuzz $$target \
	    tests/fuzz/corpus/$$target tests/fuzz/seeds/$$target \
	    -- -max_total_time=$(FUZZ_SECONDS) -max_len=8192 || exit 1; \
	done

## Raspberry Pi: cross-build the release `mychat` for a 64-bit OS (`make pi`: Pi 3, 4, 5,
## aarch64) or a 32-bit Raspberry Pi OS (`make pi32`: armv7), first installing what is
## missing (the Rust target, Debian's cross compiler). The linkers, and the C compiler for the
## bundled SQLite, are set here for these targets only; no global cargo config is touched.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER ?= aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu ?= aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER ?= arm-linux-gnueabihf-gcc
export CC_armv7_unknown_linux_gnueabihf ?= arm-linux-gnueabihf-gcc
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
PI_BIN     := $(abspath $(TARGET_DIR)/aarch64-unknown-linux-gnu/release/mychat)

# $(call apt-install,PACKAGES): Debian packages, without their recommendations.
apt-install = $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $(1) >/dev/null

# $(call cross-build,RUST_TARGET,GNU_TRIPLET,DEBIAN_ARCH)
define cross-build
	@rustup target list --installed | grep -qx '$(1)' || rustup target add $(1)
	@command -v $(2)-gcc >/dev/null 2>&1 && [ -e /usr/$(2)/include/stdio.h ] || { \
	  echo "installing Debian's cross compiler for $(3)"; \
	  $(call apt-install,gcc-$(2) libc6-dev-$(3)-cross); }
	$(CARGO) build --release --locked --bin mychat --target $(1)
	@stat -c '%s %n' $(TARGET_DIR)/$(1)/release/mychat | \
	  awk '{ printf "%s: %.1f MiB (%d bytes, stripped)\n", $$2, $$1 / 1048576, $$1 }'
endef

pi:
	$(call cross-build,aarch64-unknown-linux-gnu,aarch64-linux-gnu,arm64)

pi32:
	$(call cross-build,armv7-unknown-linux-gnueabihf,arm-linux-gnueabihf,armhf)

## The aarch64 build under qemu-user through the integration tests: the path a Pi install
## takes (tests/it/cross.rs: register, log in, a message round trip, /healthz, a clean stop on
## SIGTERM), accounts and the command line; about 10 s under emulation. `PI_TESTS=` runs every
## test, but under emulation the memory-bound one measures qemu's own RSS and fails, and
## rooms::unread_counts_per_room loses a race.
PI_TESTS ?= cross:: accounts:: command_line::
test-pi: pi
	@command -v qemu-aarch64 >/dev/null 2>&1 || { \
	  echo "installing Debian's qemu-user"; \
	  $(call apt-install,qemu-user); }
	MYCHAT_TEST_BIN=$(PI_BIN) MYCHAT_TEST_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
	  $(CARGO) test --locked --test it -- --show-output $(PI_TESTS)

clean:
	$(CARGO) clean
	rm -rf tests/browser/node_modules tests/browser/artifacts
