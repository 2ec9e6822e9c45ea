#!/usr/bin/env bash
# Fuzzes the reading of received mail and feedback events (fuzz/fuzz_targets/
# inbound_read.rs) for FUZZ_SECONDS (60), starting from the inbound fixtures
# (tests/fixtures/inbound) and SES event examples (fuzz/seeds/inbound_read), with
# a dictionary of mail and event tokens. Not in CI: `make fuzz`.
#
# cargo-fuzz needs -Z flags (the sanitizer); on a stable toolchain they are
# allowed with RUSTC_BOOTSTRAP=1, and the stable toolchain ships the ASan runtime.
# A crash leaves its input in fuzz/artifacts/inbound_read/ and fails the script;
# `cargo fuzz run inbound_read fuzz/artifacts/inbound_read/crash-…` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
target=inbound_read

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz…"
  cargo install cargo-fuzz --locked
fi
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi

# libFuzzer writes what it finds to the first folder and only reads the others.
corpus=fuzz/corpus/$target
mkdir -p "$corpus"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -max_len: fixtures are under 10 kB, larger inputs only slow the search;
# -timeout: an input that takes seconds is a hang worth reporting.
status=0
cargo fuzz run --fuzz-dir fuzz "$target" "$corpus" "fuzz/seeds/$target" tests/fixtures/inbound -- \
  -dict="fuzz/$target.dict" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
  -print_final_stats=1 2>&1 | tee "$log" || status=$?

runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
echo
if [ "$status" -eq 0 ]; then
  echo "fuzz: $target ran ${runs:-?} inputs in ${seconds}s, no crash (corpus: $corpus)"
else
  echo "fuzz: $target failed after ${runs:-?} inputs; the input is in fuzz/artifacts/$target/" >&2
  exit "$status"
fi
