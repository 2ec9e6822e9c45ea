#!/usr/bin/env bash
# Local AWS emulators for the serverless path (issue 4): DynamoDB Local (the
# official jar, shipped inside the npm package amplify-dynamodb-simulator, run on
# Java 17) and moto server (PyPI, in a venv), both reached on 127.0.0.1.
#
#   scripts/emulators.sh start    install if needed, start both, wait until they answer
#   scripts/emulators.sh stop     stop both
#   scripts/emulators.sh status   say what runs (exit 0 only when both run)
#   scripts/emulators.sh env      print the AWS_* variables: eval "$(scripts/emulators.sh env)"
#   scripts/emulators.sh provision [ARGS]
#                                 create the table, queues (with dead-letter queues),
#                                 bucket and sender identity on the running emulators
#                                 (relance-provision; idempotent) and print their
#                                 RELANCE_* variables: eval "$(scripts/emulators.sh provision)".
#                                 ARGS go to relance-provision (--help); the sender is
#                                 RELANCE_SENDER, by default the sample institution's.
#
# Everything lives under var/emulators/ (ignored by git): npm/ (the jar), venv/
# (moto), run/ (pid files and logs). Ports: RELANCE_DYNAMODB_PORT (8000) and
# RELANCE_MOTO_PORT (5000). Start waits at most RELANCE_EMULATORS_TIMEOUT seconds (60).
#
# Binding: moto listens on 127.0.0.1 only. DynamoDB Local has no host option
# (its `-help` lists none; the jar builds its Jetty server from a port alone), so
# it is started through scripts/DynamoDBLocalLoopback.java, which sets the host of
# that server to 127.0.0.1; that class is compiled at install time when javac is
# present (a JDK). With a JRE only, the plain jar runs and listens on every
# interface (start says so). It runs -inMemory and with -disableTelemetry.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${RELANCE_EMULATORS_DIR:-$root/var/emulators}
npm_dir=$base/npm
venv=$base/venv
run_dir=$base/run
ddb_port=${RELANCE_DYNAMODB_PORT:-8000}
moto_port=${RELANCE_MOTO_PORT:-5000}
timeout_s=${RELANCE_EMULATORS_TIMEOUT:-60}

# Pinned versions: a fresh machine gets what was tested.
ddb_pkg=amplify-dynamodb-simulator
ddb_pkg_version=2.9.30 # carries DynamoDB Local 1.25.1
moto_version=5.2.5

ddb_home=$npm_dir/node_modules/$ddb_pkg/emulator

tool=emulators
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed ($2)"
}

# ---------------------------------------------------------------- install

install_dynamodb() {
  local stamp=$npm_dir/.installed-$ddb_pkg-$ddb_pkg_version
  if [[ -f $stamp && -f $ddb_home/DynamoDBLocal.jar && -d $ddb_home/DynamoDBLocal_lib ]]; then
    return
  fi
  need npm "Node.js 20 with npm is needed to fetch DynamoDB Local"
  say "installing DynamoDB Local ($ddb_pkg@$ddb_pkg_version from npm) into ${npm_dir#"$root"/}"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
    "$ddb_pkg@$ddb_pkg_version" >"$base/npm-install.log" 2>&1 || {
    tail -n 20 "$base/npm-install.log" >&2
    die "npm install of $ddb_pkg failed (log: $base/npm-install.log)"
  }
  [[ -f $ddb_home/DynamoDBLocal.jar && -d $ddb_home/DynamoDBLocal_lib ]] ||
    die "DynamoDBLocal.jar or DynamoDBLocal_lib not found under $ddb_home"
  touch "$stamp"
}

# The loopback launcher, compiled against the installed jar (skipped without javac).
install_loopback() {
  local src=$root/scripts/DynamoDBLocalLoopback.java out=$base/loopback
  if [[ -f $out/DynamoDBLocalLoopback.class && $out/DynamoDBLocalLoopback.class -nt $src ]]; then
    return
  fi
  command -v javac >/dev/null 2>&1 || return 0
  rm -rf "$out"
  mkdir -p "$out"
  javac -nowarn -cp "$ddb_home/DynamoDBLocal.jar" -d "$out" "$src" >"$base/javac.log" 2>&1 || {
    cat "$base/javac.log" >&2
    rm -rf "$out"
    say "warning: could not compile the loopback launcher; DynamoDB Local will listen on every interface"
  }
}

install_moto() {
  venv_install "$venv" moto_server "moto[server]==$moto_version"
}

# ---------------------------------------------------------------- processes

# pid_of NAME: the pid recorded for NAME if that process is alive and still ours.
pid_of() {
  local file=$run_dir/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the command line must be the emulator's.
  case $1 in
    dynamodb) grep -qa DynamoDBLocal.jar "/proc/$pid/cmdline" 2>/dev/null || return 1 ;;
    moto) grep -qa moto_server "/proc/$pid/cmdline" 2>/dev/null || return 1 ;;
  esac
  printf '%s\n' "$pid"
}

# answers NAME: the emulator answers an HTTP request on its loopback port.
answers() {
  local code
  case $1 in
    dynamodb)
      # A real DynamoDB call; DynamoDB Local wants a (dummy) SigV4 Authorization header.
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST \
        -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20200101/eu-west-3/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
        -d '{}' "http://127.0.0.1:$ddb_port/") || true
      ;;
    moto)
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$moto_port/moto-api/data.json") || true
      ;;
  esac
  [[ $code == 200 ]]
}

port_of() {
  case $1 in
    dynamodb) printf '%s\n' "$ddb_port" ;;
    moto) printf '%s\n' "$moto_port" ;;
  esac
}

launch() {
  local name=$1 log=$run_dir/$1.log port
  port=$(port_of "$name")
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already taken by another program; free it or set RELANCE_$(tr '[:lower:]' '[:upper:]' <<<"$name")_PORT"
  fi
  : >"$log"
  case $name in
    dynamodb)
      local main=(-jar "$ddb_home/DynamoDBLocal.jar")
      if [[ -f $base/loopback/DynamoDBLocalLoopback.class ]]; then
        main=(-cp "$base/loopback:$ddb_home/DynamoDBLocal.jar" DynamoDBLocalLoopback)
      else
        say "note: no loopback launcher (it needs javac), so DynamoDB Local listens on every interface on port $ddb_port"
      fi
      (cd "$ddb_home" && exec nohup java -Djava.library.path="$ddb_home/DynamoDBLocal_lib" \
        "${main[@]}" -inMemory -disableTelemetry -port "$ddb_port" \
        </dev/null >>"$log" 2>&1 9>&-) &
      ;;
    moto)
      nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" </dev/null >>"$log" 2>&1 9>&- &
      ;;
  esac
  printf '%s\n' "$!" >"$run_dir/$name.pid"
}

# wait_ready NAME...: bounded wait until each answers; on failure, log tail and stop.
wait_ready() {
  local name deadline=$((SECONDS + timeout_s))
  for name in "$@"; do
    until answers "$name"; do
      if ! pid_of "$name" >/dev/null; then
        fail_start "$name" "exited during start-up"
      fi
      if ((SECONDS >= deadline)); then
        fail_start "$name" "did not answer on 127.0.0.1:$(port_of "$name") within ${timeout_s}s"
      fi
      sleep 0.5
    done
  done
}

fail_start() {
  local name=$1 why=$2
  printf 'emulators: error: %s %s; last lines of %s:\n' "$name" "$why" "$run_dir/$name.log" >&2
  tail -n 30 "$run_dir/$name.log" >&2 || true
  stop_one dynamodb
  stop_one moto
  exit 1
}

stop_one() {
  local name=$1 pid i
  if pid=$(pid_of "$name"); then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    say "$name stopped (pid $pid)"
  fi
  rm -f "$run_dir/$name.pid"
}

# ---------------------------------------------------------------- commands

lock() {
  mkdir -p "$run_dir"
  exec 9>"$run_dir/lock"
  flock -w 300 9 || die "another emulators.sh holds $run_dir/lock"
}

cmd_start() {
  need curl "curl is needed to check the emulators"
  need java "Java 17 is needed for DynamoDB Local"
  mkdir -p "$base"
  lock
  install_dynamodb
  install_loopback
  install_moto
  local name pid started=()
  for name in dynamodb moto; do
    if pid=$(pid_of "$name"); then
      say "$name already running (pid $pid, 127.0.0.1:$(port_of "$name"))"
    else
      launch "$name"
      started+=("$name")
    fi
  done
  if ((${#started[@]})); then
    wait_ready "${started[@]}"
    for name in "${started[@]}"; do
      say "$name started (pid $(pid_of "$name"), 127.0.0.1:$(port_of "$name"), log ${run_dir#"$root"/}/$name.log)"
    done
  fi
}

cmd_stop() {
  lock
  local name
  for name in dynamodb moto; do
    if pid_of "$name" >/dev/null; then
      stop_one "$name"
    else
      rm -f "$run_dir/$name.pid"
      say "$name not running"
    fi
  done
}

cmd_status() {
  local name pid rc=0
  for name in dynamodb moto; do
    if pid=$(pid_of "$name"); then
      if answers "$name"; then
        say "$name running (pid $pid, 127.0.0.1:$(port_of "$name"))"
      else
        say "$name running (pid $pid) but not answering on 127.0.0.1:$(port_of "$name")"
        rc=1
      fi
    else
      say "$name not running"
      rc=1
    fi
  done
  return "$rc"
}

cmd_env() {
  cat <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_REGION=eu-west-3
export AWS_DEFAULT_REGION=eu-west-3
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
EOF
}

# Through the same code the tests use (relance_aws::provision); stdout carries only
# the export lines, so the output can be eval'd.
cmd_provision() {
  need cargo "Rust's cargo is needed to build relance-provision"
  need curl "curl is needed to check the emulators"
  if ! { answers dynamodb && answers moto; }; then
    die "the emulators are not answering; run: scripts/emulators.sh start"
  fi
  eval "$(cmd_env)"
  export RELANCE_SENDER=${RELANCE_SENDER:-contentieux@bibliotheques.example.fr}
  (cd "$root" && cargo run -q -p relance-aws --bin relance-provision -- "$@")
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  provision)
    shift
    cmd_provision "$@"
    ;;
  *)
    printf 'usage: %s start|stop|status|env|provision [ARGS]\n' "$0" >&2
    exit 2
    ;;
esac
