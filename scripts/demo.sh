#!/usr/bin/env bash
# The demo: a sample institution centred on today, imported, then one run a day
# for DEMO_DAYS days (simulated with --date), so every stage of the ladder fires.
set -euo pipefail
dir=${DEMO_DIR:-var/demo}
days=${DEMO_DAYS:-36}
relance=${RELANCE:-target/debug/relance}
today=$(TZ=Europe/Paris date +%F)

rm -rf "$dir"
"$relance" sample --out "$dir" --seed 42 --loans 400 --today "$today"
"$relance" --config "$dir/relance.toml" import --patrons "$dir/patrons.csv" --loans "$dir/loans.csv" || {
  status=$?
  # 2 = imported with rejects (the sample has none); anything else stops the demo.
  [ "$status" -eq 2 ] || exit "$status"
}
echo
echo "Running $days days of notices from $today (one run per day, as the daily schedule would)…"
for ((i = 0; i < days; i++)); do
  day=$(date -d "$today + $i day" +%F)
  "$relance" --config "$dir/relance.toml" run --date "$day" --json >"$dir/run-$day.json"
done
echo
"$relance" --config "$dir/relance.toml" status --runs "$days"
echo
outbox="$dir/var/outbox"
emails=$(find "$outbox" -path '*/mail/*.eml' ! -name 'letters-*' ! -name 'report-*' | wc -l)
reports=$(find "$outbox" -name 'report-*.eml' | wc -l)
batches=$(find "$outbox" -name 'letters-*.eml' | wc -l)
letters=$(find "$outbox" -path '*/letters/*' -name '*.pdf' ! -name batch.pdf | wc -l)
echo "Outbox: $outbox/<run day>/"
echo "  mail/{stage}-{patron}.eml     $emails consolidated patron emails"
echo "  mail/letters-{library}.eml    $batches print-batch emails to the libraries' inboxes"
echo "  mail/report-{day}.eml         $reports run reports to the staff inbox"
echo "  letters/{library}/            $letters letters as PDF, with batch.pdf and manifest.csv"
echo "For instance: $(find "$outbox" -name 'first_reminder-*.eml' | sort | head -1)"
echo "          and $(find "$outbox" -name batch.pdf | sort | head -1)"
sunday_batches=0
for letters_dir in "$outbox"/*/letters; do
  [ -d "$letters_dir" ] || continue
  batch_day=$(basename "$(dirname "$letters_dir")")
  [ "$(date -d "$batch_day" +%u)" = 7 ] && sunday_batches=$((sunday_batches + 1))
done
echo "Open days: the libraries are closed on Sundays, French holidays and 24 Dec–2 Jan"
echo "  ($sunday_batches print batches on a Sunday); a letter decided on a closed day is in its"
echo "  library's batch of the next open day (run-*.json: waiting_for_open_day, delivered_after_closure)."
echo "Run summaries (relance run --json): $dir/run-*.json"
