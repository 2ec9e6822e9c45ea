# Relance — the two commands of a fresh machine are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DIR ?= var/demo
DEMO_DAYS ?= 36
RELANCE := target/debug/relance

.PHONY: help demo test bench lint fmt build clean-demo emulators emulators-stop browser fuzz

## build: the `relance` command (debug), as `make demo` uses it
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
test: browser lint-infra
	@if scripts/emulators.sh status >/dev/null 2>&1; then keep=1; else keep=0; fi; \
	scripts/emulators.sh start && \
	$(CARGO) test --workspace --all-targets && $(CARGO) test --workspace --doc; \
	status=$$?; \
	if [ $$keep = 0 ]; then scripts/emulators.sh stop; fi; \
	exit $$status

## help: this list of targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## bench: the performance figures of the README, on a generated network
bench:
	$(CARGO) build --release -p relance-cli
	$(CARGO) build --release -p relance-core --example letters_bench
	RELANCE=target/release/relance scripts/bench.sh
	target/release/examples/letters_bench 10000
	$(CARGO) run --release -p relance-tests --example aws_planner_bench

## lint: rustfmt and clippy (warnings are errors)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## fmt: format the workspace
fmt:
	$(CARGO) fmt --all

## fuzz: the received-mail reader under libFuzzer for FUZZ_SECONDS (60); not in CI
fuzz:
	scripts/fuzz.sh

## clean-demo: remove the demo's folder
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

## emulators-stop: stop the emulators started by `make emulators`
emulators-stop:
	scripts/emulators.sh stop

.PHONY: lint-infra package deploy

## lint-infra: cfn-lint on infra/template.yaml (installed from PyPI into var/cfn-lint/ on first use)
lint-infra:
	scripts/cfn-lint.sh

## package: every function built for arm64 Lambda with cargo-lambda (PyPI, with Zig) into
## target/lambda/zips/{function}/bootstrap.zip; prints each binary's and zip's size
package:
	CARGO_TARGET_DIR=target/lambda scripts/package.sh

## deploy: sam build && sam deploy with infra/samconfig.toml. Needs the AWS SAM CLI and
## AWS credentials for the target account (README, "Deploy to AWS"); cannot run here.
SAM ?= sam
deploy:
	@command -v $(SAM) >/dev/null || { echo 'deploy: the AWS SAM CLI is needed (pip install aws-sam-cli), with AWS credentials for the target account' >&2; exit 1; }
	@test -x var/package/venv/bin/cargo-lambda || scripts/package.sh --tools-only
	PATH="$(CURDIR)/var/package/venv/bin:$$PATH" CARGO_TARGET_DIR=target/lambda \
	  $(SAM) build --config-file infra/samconfig.toml --template-file infra/template.yaml --build-dir var/sam/build
	$(SAM) deploy --config-file infra/samconfig.toml --template-file var/sam/build/template.yaml
