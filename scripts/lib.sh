# Sourced by the scripts beside it: their messages, and the Python tools they
# install on first use into a venv of their own under var/ (pinned versions, a
# stamp naming them, so a fresh machine gets what was tested and a warm one
# installs nothing). The sourcing script sets `root` and `tool` (the prefix of
# its messages) first.

say() { printf '%s: %s\n' "$tool" "$*"; }
die() {
  printf '%s: error: %s\n' "$tool" "$*" >&2
  exit 1
}

# venv_install VENV BIN REQUIREMENT...: installs the REQUIREMENTs from PyPI into
# VENV, unless the stamp of these very requirements is there and VENV/bin/BIN
# exists. Logs go beside VENV.
venv_install() {
  local venv=$1 bin=$2
  shift 2
  local base python=${PYTHON:-python3}
  base=$(dirname "$venv")
  local stamp
  stamp="$venv/.installed-$(printf '%s ' "$@" | tr -c 'A-Za-z0-9.=_-' '_')"
  if [[ -f $stamp && -x $venv/bin/$bin ]]; then
    return
  fi
  command -v "$python" >/dev/null 2>&1 || die "Python 3 with venv is needed for $*"
  mkdir -p "$base"
  say "installing $* (PyPI) into ${venv#"$root"/}"
  if [[ ! -x $venv/bin/python ]]; then
    "$python" -m venv "$venv" >"$base/venv.log" 2>&1 || {
      cat "$base/venv.log" >&2
      rm -rf "$venv"
      die "could not create the venv (on Debian: apt-get install python3-venv)"
    }
  fi
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@" \
    >"$base/pip-install.log" 2>&1 || {
    tail -n 20 "$base/pip-install.log" >&2
    die "pip install of $* failed (log: $base/pip-install.log)"
  }
  [[ -x $venv/bin/$bin ]] || die "$bin not found in ${venv#"$root"/}/bin after install"
  touch "$stamp"
}
