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

# Pinned: a fresh machine gets what was tested (its rules and resource specs).
cfn_lint_version=1.58.0

tool=cfn-lint
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

venv_install "$venv" cfn-lint "cfn-lint==$cfn_lint_version"
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
