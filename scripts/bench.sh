#!/usr/bin/env bash
# make bench: 1,000,000 open loans, 200,000 patrons, 40 libraries on this machine.
# Measures import throughput and peak memory, planning time of one run day, and
# email rendering+writing throughput. Prints one line per figure.
set -euo pipefail
relance=${RELANCE:-target/release/relance}
root=${BENCH_DIR:-var/bench}
# A new folder per bench, the previous ones removed only at the end: on ext4
# without a journal, creating files right after deleting tens of thousands is
# several times slower, which would measure the cleanup, not Relance.
dir="$root/run-$(date +%s)"
loans=${BENCH_LOANS:-1000000}
patrons=${BENCH_PATRONS:-200000}
libraries=${BENCH_LIBRARIES:-40}
day=2026-11-30

mkdir -p "$dir"
"$relance" sample --out "$dir" --seed 7 --loans "$loans" --patrons "$patrons" \
  --libraries "$libraries" --today "$day" >/dev/null
cfg="$dir/relance.toml"

seconds() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'; }

# 1. Import, with peak resident memory from GNU time.
start=$(date +%s%N)
/usr/bin/time -f '%M' -o "$dir/import.rss" \
  "$relance" --config "$cfg" import --patrons "$dir/patrons.csv" --loans "$dir/loans.csv" >"$dir/import.log" || [ $? -eq 2 ]
end=$(date +%s%N)
import_s=$(seconds "$start" "$end")
rss_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$dir/import.rss")
echo "import: $loans loans + $patrons patrons in ${import_s}s = $(awk -v n="$loans" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }') loans/s, peak memory ${rss_mb} MB"

ms() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2" | head -1; }
per_s() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print "n/a" }'; }

# 2. Planning one run day (dry run: plans, records nothing).
"$relance" --config "$cfg" run --date "$day" --dry-run --json >"$dir/plan.json"
echo "planning one run day: $(ms plan "$dir/plan.json") ms (matching, ledger check, consolidation; dry run)"

# 3. The real run: plans and records the ledger, renders and writes every email,
#    renders every library's print batch.
"$relance" --config "$cfg" run --date "$day" --json >"$dir/run.json"
sent=$(ms emails_sent "$dir/run.json")
letters=$(ms letters_rendered "$dir/run.json")
echo "run: planned and recorded in $(ms plan "$dir/run.json") ms"
echo "emails: $sent rendered and written in $(ms emails "$dir/run.json") ms = $(per_s "$sent" "$(ms emails "$dir/run.json")") emails/s"
echo "letters: $letters rendered into batches in $(ms letters "$dir/run.json") ms = $(per_s "$letters" "$(ms letters "$dir/run.json")") letters/s"
echo "notices: $(tr -d '\n ' <"$dir/run.json" | grep -o '"notices":{[^}]*}')"

find "$root" -mindepth 1 -maxdepth 1 -name 'run-*' ! -path "$dir" -exec rm -rf {} +
