# Relance — the two commands of a fresh machine are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DIR ?= var/demo
DEMO_DAYS ?= 36
RELANCE := target/debug/relance

.PHONY: demo test bench lint fmt build clean-demo emulators emulators-stop browser

build:
	$(CARGO) build -p relance-cli

## demo: sample institution, import, 36 run days in which every stage fires, summary
demo: build
	DEMO_DIR=$(DEMO_DIR) DEMO_DAYS=$(DEMO_DAYS) RELANCE=$(RELANCE) scripts/demo.sh

## browser: Debian's chromium, for the test that opens the preview page (installed when missing)
browser:
	scripts/browser-check.sh

## test: every test of the workspace; the AWS emulators are started first (installed
## on first use) and stopped after, unless they were already running
test: browser
	@if scripts/emulators.sh status >/dev/null 2>&1; then keep=1; else keep=0; fi; \
	scripts/emulators.sh start && \
	$(CARGO) test --workspace --all-targets && $(CARGO) test --workspace --doc; \
	status=$$?; \
	if [ $$keep = 0 ]; then scripts/emulators.sh stop; fi; \
	exit $$status

## bench: the performance figures of the README, on a generated network
bench:
	$(CARGO) build --release -p relance-cli --example letters_bench -p relance-core
	RELANCE=target/release/relance scripts/bench.sh
	target/release/examples/letters_bench 10000
	$(CARGO) run --release -p relance-tests --example aws_planner_bench

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-demo:
	rm -rf $(DEMO_DIR)

## emulators: DynamoDB Local and moto server on 127.0.0.1 (installed under var/emulators/)
## (then the table, queues, bucket and sender identity, through relance-provision)
emulators:
	scripts/emulators.sh start
	scripts/emulators.sh provision
	@echo 'Point the AWS SDKs and Relance at them with:'
	@echo '  eval "$$(scripts/emulators.sh env)"; eval "$$(scripts/emulators.sh provision)"'
	@scripts/emulators.sh env

emulators-stop:
	scripts/emulators.sh stop
