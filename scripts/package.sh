#!/usr/bin/env bash
# Builds every Lambda function for arm64 (Graviton, provided.al2023) into the zips
# that SAM would upload, with cargo-lambda cross-compiling through Zig.
#
#   scripts/package.sh            every function crate under functions/ (not cli/)
#   scripts/package.sh planner    only the named ones
#   scripts/package.sh --tools-only   install cargo-lambda, Zig and the target, build nothing
#
# Installs on first use, under var/package/venv (ignored by git), cargo-lambda and
# ziglang from PyPI (pinned below), and the Rust standard library for
# aarch64-unknown-linux-gnu through rustup when it is missing. Builds into
# CARGO_TARGET_DIR (default target/lambda, so it never waits on the main target
# dir's lock); the zips land in target/lambda/zips/{binary}/bootstrap.zip.
# The release profile is the workspace's (opt-level 3, LTO, one codegen unit,
# panic=abort, stripped): a full build takes 15-25 minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${RELANCE_PACKAGE_DIR:-$root/var/package}
venv=$base/venv
target=aarch64-unknown-linux-gnu
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/lambda}
zips=$CARGO_TARGET_DIR/zips

# Pinned versions: a fresh machine gets what was tested.
cargo_lambda_version=1.9.2
ziglang_version=0.13.0

tool=package
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

install_tools() {
  venv_install "$venv" cargo-lambda "cargo-lambda==$cargo_lambda_version" "ziglang==$ziglang_version"
}

# The cross target's standard library: rustup fetches it when its server is
# reachable; where it is not, say so plainly instead of failing inside the build.
ensure_target() {
  if rustc --print sysroot >/dev/null 2>&1 &&
    [[ -d "$(rustc --print sysroot)/lib/rustlib/$target/lib" ]]; then
    return
  fi
  command -v rustup >/dev/null 2>&1 ||
    die "the Rust standard library for $target is missing and rustup is not installed to add it"
  say "adding the Rust target $target (rustup)"
  if ! rustup target add "$target" >"$base/rustup.log" 2>&1; then
    cat "$base/rustup.log" >&2
    die "rustup could not add $target: the toolchain's standard library for arm64 Linux cannot be fetched here, so arm64 zips cannot be built on this machine (build them where rustup reaches its server, or in CI)"
  fi
}

# Function crates: every functions/*/ except the cli, with their [[bin]] name.
functions() {
  local dir
  for dir in "$root"/functions/*/; do
    dir=${dir%/}
    [[ ${dir##*/} == cli || ! -f $dir/Cargo.toml ]] && continue
    printf '%s %s\n' "$(package_of "$dir/Cargo.toml")" "$(binary_of "$dir/Cargo.toml")"
  done
}

package_of() { sed -n 's/^name *= *"\(.*\)"/\1/p' "$1" | head -n 1; }
binary_of() {
  awk '/^\[\[bin\]\]/ { inbin = 1; next } /^\[/ { inbin = 0 } inbin && /^name *=/ { gsub(/.*= *"|".*/, ""); print; exit }' "$1"
}

human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || printf '%s bytes' "$1"; }

main() {
  mkdir -p "$base"
  install_tools
  ensure_target
  if [[ ${1:-} == --tools-only ]]; then
    say "cargo-lambda $cargo_lambda_version and Zig $ziglang_version in ${venv#"$root"/}/bin; $target ready"
    return
  fi
  export PATH=$venv/bin:$PATH
  local wanted=("$@") pkg bin args=() bins=()
  while read -r pkg bin; do
    [[ -n $bin ]] || die "no [[bin]] name found for $pkg"
    if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $bin "* ]]; then
      continue
    fi
    args+=(-p "$pkg")
    bins+=("$bin")
  done < <(functions)
  ((${#bins[@]})) || die "no function matches: ${wanted[*]}"
  say "building ${bins[*]} for $target (release) into ${CARGO_TARGET_DIR#"$root"/}"
  (cd "$root" && cargo lambda build --release --arm64 --output-format zip \
    --lambda-dir "$zips" "${args[@]}")
  printf '\n%-10s %12s %12s  %s\n' function binary zip path
  for bin in "${bins[@]}"; do
    local zip=$zips/$bin/bootstrap.zip exe=$CARGO_TARGET_DIR/$target/release/$bin
    [[ -f $zip ]] || die "expected $zip after the build"
    printf '%-10s %12s %12s  %s\n' "$bin" "$(human "$(stat -c %s "$exe")")" \
      "$(human "$(stat -c %s "$zip")")" "${zip#"$root"/}"
  done
}

main "$@"
