#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed, for the test that opens the
# preview page in a headless browser (functions/cli/tests/preview.rs).
# Installs it with apt-get when missing (as root, or through sudo); fails with a
# clear message when it cannot, so that the browser test never silently skips.
set -euo pipefail

if [ -n "${RELANCE_CHROMIUM:-}" ] && [ -x "$RELANCE_CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

echo "chromium is missing: installing Debian's chromium package for the browser test…" >&2
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "error: chromium is not installed and this user can neither apt-get (not root) nor sudo." >&2
  echo "       Install it with: apt-get install -y chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: chromium is not installed and there is no apt-get here; install Chromium and set RELANCE_CHROMIUM to it." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null 2>&1 || {
  echo "error: apt-get ran but chromium is still not on PATH." >&2
  exit 1
}
echo "chromium installed: $(chromium --version 2>/dev/null | tail -1)" >&2
