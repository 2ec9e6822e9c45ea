#!/usr/bin/env bash
# Lints the SAM template with cfn-lint (AWS's CloudFormation linter, from PyPI).
#
#   scripts/cfn-lint.sh [TEMPLATE...]     default: infra/template.yaml
#
# Installs cfn-lint on first use, pinned, into var/cfn-lint/venv (ignored by git),
# as scripts/emulators.sh does for moto. Fails on any error or warning: a warning
# is fixed in the template or suppressed there, on its resource, with the reason
# (Metadata: cfn-lint: config: ignore_checks).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${RELANCE_CFN_LINT_DIR:-$root/var/cfn-lint}
venv=$base/venv
python=${PYTHON:-python3}

# Pinned: a fresh machine gets what was tested (its rules and resource specs).
cfn_lint_version=1.58.0

say() { printf 'cfn-lint: %s\n' "$*"; }
die() {
  printf 'cfn-lint: error: %s\n' "$*" >&2
  exit 1
}

install() {
  local stamp=$venv/.installed-cfn-lint-$cfn_lint_version
  if [[ -f $stamp && -x $venv/bin/cfn-lint ]]; then
    return
  fi
  command -v "$python" >/dev/null 2>&1 || die "Python 3 with venv is needed for cfn-lint"
  mkdir -p "$base"
  say "installing cfn-lint==$cfn_lint_version (PyPI) into ${venv#"$root"/}"
  if [[ ! -x $venv/bin/python ]]; then
    "$python" -m venv "$venv" >"$base/venv.log" 2>&1 || {
      cat "$base/venv.log" >&2
      rm -rf "$venv"
      die "could not create the venv (on Debian: apt-get install python3-venv)"
    }
  fi
  "$venv/bin/python" -m pip install --disable-pip-version-check -q \
    "cfn-lint==$cfn_lint_version" >"$base/pip-install.log" 2>&1 || {
    tail -n 20 "$base/pip-install.log" >&2
    die "pip install of cfn-lint==$cfn_lint_version failed (log: $base/pip-install.log)"
  }
  touch "$stamp"
}

install
templates=("$@")
((${#templates[@]})) || templates=("$root/infra/template.yaml")
# Every rule (errors, warnings, informational): informational findings are shown
# but do not fail, as cfn-lint's exit code says (2 = error, 4 = warning, 8 = info).
set +e
"$venv/bin/cfn-lint" --format parseable --include-checks I -- "${templates[@]}"
status=$?
set -e
if ((status & 6)); then
  die "errors or warnings in ${templates[*]#"$root"/} (exit $status)"
fi
say "${templates[*]#"$root"/}: no error, no warning"
