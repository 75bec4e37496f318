#!/usr/bin/env bash
# vCenter simulator (govmomi's vcsim) on loopback, for hybrid-vsphere's live tests.
#
#   testenv/vcsim.sh up       install Go + govmomi from Debian (if missing), build the
#                             launcher, start vcsim on 127.0.0.1 and wait until it answers
#   testenv/vcsim.sh down     stop the vcsim this script started (by its PID file only)
#   testenv/vcsim.sh status   say whether it runs, and print its GOVC_* variables
#   testenv/vcsim.sh env      print `export GOVC_...` lines for the running instance
#   testenv/vcsim.sh live-test start the four instances hybrid-vsphere's live tests use
#                             (flat, nsx, esx, big), run `cargo test -p hybrid-vsphere
#                             --test live`, and stop the instances it started
#
# Environment:
#   VCSIM_NAME   instance name (default: flat); each name has its own state dir and PID
#   VCSIM_PORT   loopback port (default: 8989)
#   VCSIM_FLAGS  extra launcher flags, for example "-pg-nsx 1 -nsx 1" (NSX) or "-esx"
#   VCSIM_DIR    where builds and state live (default: /tmp/hybrid-vcsim)
#   VCSIM_USERNAME / VCSIM_PASSWORD  the login (default: hybrid / a distinctive test
#                password, so that the secret-leak checks can search for it)
#
# Everything comes from Debian packages (golang-go, golang-github-vmware-govmomi-dev
# 0.24.2); the launcher in testenv/vcsim/main.go is our own code. Nothing is downloaded
# from anywhere else, and the simulator only ever listens on 127.0.0.1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${VCSIM_NAME:-flat}
PORT=${VCSIM_PORT:-8989}
FLAGS=${VCSIM_FLAGS:-}
VUSER=${VCSIM_USERNAME:-hybrid}
VPASS=${VCSIM_PASSWORD:-vcsim-Secret-4f9c2e}
BASE=${VCSIM_DIR:-/tmp/hybrid-vcsim}
BUILD="$BASE/build"
STATE="$BASE/$NAME"
PIDFILE="$STATE/vcsim.pid"
ENVFILE="$STATE/env"
LOG="$STATE/vcsim.log"
BIN="$BUILD/vcsim"

log() { echo "vcsim.sh: $*" >&2; }

install_packages() {
  if dpkg -s golang-go golang-github-vmware-govmomi-dev >/dev/null 2>&1; then
    return 0
  fi
  local apt="apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  local try
  for try in 1 2 3 4; do
    if $sudo $apt update -q && \
       $sudo $apt install -y -q --no-install-recommends golang-go golang-github-vmware-govmomi-dev; then
      return 0
    fi
    log "apt failed (attempt $try); retrying in $((try * 10))s"
    sleep $((try * 10))
  done
  log "could not install golang-go and golang-github-vmware-govmomi-dev"
  return 1
}

build() {
  mkdir -p "$BUILD/src/vcsimlocal"
  if [ -x "$BIN" ] && cmp -s "$HERE/vcsim/main.go" "$BUILD/src/vcsimlocal/main.go"; then
    return 0
  fi
  cp "$HERE/vcsim/main.go" "$BUILD/src/vcsimlocal/main.go"
  # GOPATH mode: govmomi and its one dependency (google/uuid) come from
  # /usr/share/gocode, installed by Debian; the module proxy is never asked.
  local start
  start=$(date +%s)
  (
    export GOPATH="$BUILD:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOPROXY=off \
           GOCACHE="$BUILD/cache" GOTOOLCHAIN=local
    go build -o "$BIN.tmp" vcsimlocal
  )
  mv "$BIN.tmp" "$BIN"
  log "built $BIN in $(( $(date +%s) - start ))s with $(go version)"
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] || return 1
  # Only a process that is our launcher binary counts; a stale PID reused by
  # something else is never signalled.
  if [ -r "/proc/$pid/exe" ] && [ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$BIN")" ]; then
    echo "$pid"
    return 0
  fi
  return 1
}

up() {
  if pid=$(running_pid); then
    log "instance $NAME already runs (pid $pid)"
    cat "$ENVFILE"
    return 0
  fi
  install_packages
  build
  mkdir -p "$STATE"
  rm -f "$ENVFILE" "$PIDFILE"
  # shellcheck disable=SC2086
  nohup "$BIN" -l "127.0.0.1:$PORT" -env-file "$ENVFILE" -username "$VUSER" -password "$VPASS" $FLAGS >"$LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local i
  for i in $(seq 1 100); do
    if [ -s "$ENVFILE" ]; then
      log "instance $NAME runs on 127.0.0.1:$PORT (pid $pid)"
      cat "$ENVFILE"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "vcsim exited at start:"
      cat "$LOG" >&2
      rm -f "$PIDFILE"
      return 1
    fi
    sleep 0.2
  done
  log "vcsim did not come up within 20s; stopping pid $pid"
  kill "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  return 1
}

down() {
  local pid
  if ! pid=$(running_pid); then
    log "instance $NAME is not running"
    rm -f "$PIDFILE" "$ENVFILE"
    return 0
  fi
  kill "$pid"
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$ENVFILE"
  log "instance $NAME stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "instance $NAME: running (pid $pid)"
    cat "$ENVFILE"
  else
    echo "instance $NAME: not running"
    return 3
  fi
}

env_lines() {
  running_pid >/dev/null || { log "instance $NAME is not running"; return 1; }
  sed 's/^/export /' "$ENVFILE"
}

live_test() {
  local root started=() spec name port flags rc=0
  root=$(cd "$HERE/.." && pwd)
  for spec in "flat|8989|" "nsx|8990|-pg-nsx 1 -nsx 1" "esx|8991|-esx" "big|8992|-vm 500"; do
    IFS='|' read -r name port flags <<<"$spec"
    if ! VCSIM_NAME=$name running_pid_of "$name" >/dev/null; then
      VCSIM_NAME=$name VCSIM_PORT=$port VCSIM_FLAGS=$flags "$0" up >/dev/null
      started+=("$name")
    fi
  done
  (
    eval "$(VCSIM_NAME=flat "$0" env)"
    export HYBRID_TEST_VSPHERE=1 \
      HYBRID_TEST_VSPHERE_NSX_URL=$(VCSIM_NAME=nsx "$0" env | sed -n 's/^export GOVC_URL=//p') \
      HYBRID_TEST_VSPHERE_ESX_URL=$(VCSIM_NAME=esx "$0" env | sed -n 's/^export GOVC_URL=//p') \
      HYBRID_TEST_VSPHERE_BIG_URL=$(VCSIM_NAME=big "$0" env | sed -n 's/^export GOVC_URL=//p')
    cd "$root" && cargo test -p hybrid-vsphere --test live
  ) || rc=$?
  for name in "${started[@]}"; do VCSIM_NAME=$name "$0" down; done
  return $rc
}

running_pid_of() {
  local pidfile="$BASE/$1/vcsim.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/exe" ] && [ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$BIN")" ]
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) env_lines ;;
  build) install_packages; build ;;
  live-test) live_test ;;
  *) echo "usage: $0 up|down|status|env|build|live-test" >&2; exit 2 ;;
esac
