# MyChat — the two commands that matter: `make run` and `make test`.

CARGO   ?= cargo
ADDR    ?= 0.0.0.0:8000
DATA    ?= ./data
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN     := target/release/mychat
# The load generator; it starts the `mychat` binary beside it.
BENCH   := $(or $(CARGO_TARGET_DIR),target)/release/mychat-bench

.PHONY: run release test lint test-rust test-browser browser-deps bench fuzz pi pi32 test-pi clean

## Build the release binary and serve on $(ADDR) with data in $(DATA).
run: release
	mkdir -p $(DATA)
	$(BIN) --addr $(ADDR) --data-dir $(DATA)

release:
	$(CARGO) build --release --locked --bins

## Every test, from a fresh clone: formatting, lints, Rust unit and integration tests
## (real server, real sockets), and the browser tests in headless Chromium.
test: lint test-rust test-browser

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --locked

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)

test-browser: release browser-deps
	cd tests/browser && MYCHAT_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 --test-reporter=spec

## Benchmarks (figures, never pass/fail): build the release binaries, start a fresh server on
## a temp data dir, run every scenario against it, stop it, print one JSON line per scenario
## and a table. Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS="room --room-rate 200"`;
## `$(BENCH) --help` lists them.
bench: release
	$(BENCH) $(BENCH_ARGS)

## Fuzz the HTTP parser and the WebSocket frame decoder, FUZZ_SECONDS each (cargo-fuzz on
## the stable toolchain via RUSTC_BOOTSTRAP). A crash leaves its input in
## tests/fuzz/artifacts/; copy it to tests/fuzz/regressions/<target>/ so `cargo test` replays it.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@for target in http_request ws_frames; do \
	  mkdir -p tests/fuzz/corpus/$$target; \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --fuzz-dir tests/fuzz $$target \
	    tests/fuzz/corpus/$$target tests/fuzz/seeds/$$target \
	    -- -max_total_time=$(FUZZ_SECONDS) -max_len=8192 || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf tests/browser/node_modules tests/browser/artifacts
