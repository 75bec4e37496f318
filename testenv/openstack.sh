#!/usr/bin/env bash
# testenv/openstack.sh — a real OpenStack Zed control plane on 127.0.0.1 for the
# live tests (adapted from the realstack recipe).
#
#   testenv/openstack.sh up       install (if needed), configure, start, bootstrap, verify
#   testenv/openstack.sh down     stop only what `up` started (by PID file)
#   testenv/openstack.sh status   which services answer (exit 0 = all up)
#   testenv/openstack.sh restart  down + fresh up
#   testenv/openstack.sh verify   run the end-to-end smoke checks (testenv/verify.sh)
#   testenv/openstack.sh mem      memory per service (RSS/PSS)
#
# Services: MariaDB, RabbitMQ, Keystone (uwsgi :5000), Glance (file store :9292),
# Placement (uwsgi :8778), Nova (fake virt driver :8774), Neutron (ML2, no-op
# mechanism driver, local/flat/vlan types :9696), Cinder (fake driver :8776).
# Everything listens on 127.0.0.1 (epmd also on ::1); nothing talks to other hosts
# except apt-get to the configured Debian mirror while installing.
#
# Only the python3-<service> library packages are installed (no keystone / nova-api
# service packages: no debconf, no init scripts). All state (config, data, logs, PID
# files, clouds.yaml) lives in one directory, wiped by every fresh `up`.
#
# `up` when the stack in that directory is already up and every service answers is
# a no-op (prints the clouds.yaml path); if it is partly up, it is stopped and
# started fresh. `restart` (or HYBRID_TESTENV_FRESH=1 up) always starts fresh.
#
# Environment:
#   HYBRID_TESTENV_DIR            state dir (default /tmp/hybrid-testenv/openstack)
#   HYBRID_TESTENV_KEEP_ON_FAIL=1 leave processes running when `up` fails
#   HYBRID_TESTENV_SKIP_INSTALL=1 never call apt-get
#   HYBRID_TESTENV_VERIFY=0       skip the end-to-end checks at the end of `up`
#   HYBRID_TESTENV_FRESH=1        `up` restarts even if the stack is healthy
#   HYBRID_TESTENV_ADMIN_PASS     password of admin (default admin)
#   HYBRID_TESTENV_DEMO_PASS      password of demo (default demo)
#   HYBRID_TESTENV_TOKEN_EXPIRATION  Keystone token lifetime in s (default 3600)
#   HYBRID_TESTENV_TIMEOUT        per-service readiness timeout in s (default 180)
#   HYBRID_TESTENV_APT_ATTEMPTS   apt-get attempts before giving up (default 5)
#   HYBRID_TESTENV_APT_OPTS       extra apt-get options (e.g. a mirror proxy)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RS="${HYBRID_TESTENV_DIR:-/tmp/hybrid-testenv/openstack}"
RS="${RS%/}"
ADMIN_PASS="${HYBRID_TESTENV_ADMIN_PASS:-admin}"
DEMO_PASS="${HYBRID_TESTENV_DEMO_PASS:-demo}"
SVC_PASS="service-pass"
DBPASS="hybrid-db"
TOKEN_EXPIRATION="${HYBRID_TESTENV_TOKEN_EXPIRATION:-3600}"
TIMEOUT="${HYBRID_TESTENV_TIMEOUT:-180}"
CLOUD=hybrid-live
PY=/usr/bin/python3   # Debian's python has the OpenStack libs (a pyenv/venv one does not)
H=127.0.0.1
KS="http://$H:5000"
RABBIT="rabbit://guest:guest@$H:5672/"
MARKER=".hybrid-testenv-openstack"
# Every process this script starts carries this variable in its environment;
# `down` only signals processes that have it (guards against PID reuse).
export HYBRID_TESTENV_OWNER="$RS"
export DEBIAN_FRONTEND=noninteractive
export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"
unset PYTHONPATH PYTHONHOME http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY || true

T_ALL=${EPOCHREALTIME/./}
el() { local d=$(( ${EPOCHREALTIME/./} - ${1:-$T_ALL} )); printf '%d.%d' $((d / 1000000)) $(( (d % 1000000) / 100000 )); }
log() { printf '[testenv %6ss] %s\n' "$(el)" "$*" >&2; }

# service -> (log files, pid file) ---------------------------------------------
# Prints the end of a service's logs, so a CI failure shows the cause.
tail_logs() { # service-or-file-prefix...
  local s f shown=0
  for s in "$@"; do
    for f in "$RS/log/$s.log" "$RS/log/$s.out" "$RS/log/$s.job.log" "$RS/log/rabbit@localhost.log"; do
      [[ "$f" == */rabbit@localhost.log && "$s" != rabbitmq* ]] && continue
      [[ -s "$f" ]] || continue
      printf '\n----- last 40 lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
      shown=1
    done
  done
  ((shown)) || printf '(no log found for %s under %s/log)\n' "$*" "$RS" >&2
}
die() { log "FATAL: $*"; exit 1; }
die_svc() { # service message
  local s=$1; shift
  log "FATAL: $s: $*"
  tail_logs "$s"
  printf '\n' >&2
  log "FATAL: $s: $* (all logs: $RS/log)"
  exit 1
}

# ------------------------------------------------------------------------- stop
descendants() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
ours() { # pid: was it started by this script for this state dir? (owner mark in its
  # environment, or the state dir in its command line: setproctitle, used by
  # neutron-server, overwrites the environment block)
  tr '\0' '\n' < "/proc/$1/environ" 2>/dev/null | grep -qxF "HYBRID_TESTENV_OWNER=$RS" && return 0
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$RS/"
}
stop_group() { # grace-seconds pidfile... : TERM, wait up to grace, KILL leftovers (with children)
  local grace=$1 f pid parents=() all=() p i alive names=(); shift
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    pid=$(tr -dc '0-9' < "$f")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      if ours "$pid"; then
        parents+=("$pid"); names+=("$(basename "$f" .pid):$pid")
        for p in $pid $(descendants "$pid"); do ours "$p" && all+=("$p"); done
      else
        log "not stopping PID $pid from $f: it was not started by this script"
      fi
    fi
    rm -f "$f"
  done
  ((${#parents[@]})) || return 0
  kill -TERM "${parents[@]}" 2>/dev/null || true
  for i in $(seq 1 $((grace * 4))); do
    alive=0; for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.25
  done
  local killed=()
  for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null && killed+=("$p"); done
  log "stopped ${names[*]}${killed[*]:+ (SIGKILL after ${grace} s: ${killed[*]})}"
}
do_down() {
  local run="$RS/run" f svc=()
  if [[ ! -d "$run" ]] || ! ls "$run"/*.pid >/dev/null 2>&1; then
    log "nothing to stop (no PID files in $run)"; return 0
  fi
  for f in "$run"/*.pid; do
    case "$(basename "$f")" in rabbitmq.pid|rabbitmq-server.pid|epmd.pid|mariadbd.pid) ;; *) svc+=("$f");; esac
  done
  # The state is thrown away by the next `up`, so the OpenStack services get a
  # short grace (several wait for RPC replies that never come); epmd takes 1.5 s
  # to honour SIGTERM for no benefit.
  ((${#svc[@]})) && stop_group 2 "${svc[@]}"                                      # OpenStack services
  stop_group 5 "$run/mariadbd.pid" "$run/rabbitmq.pid" "$run/rabbitmq-server.pid" # DB and bus
  stop_group 0 "$run/epmd.pid"
  return 0
}

# ----------------------------------------------------------------------- status
# name|pidfile|url ("tcp:PORT" = plain TCP check)
SERVICES_TABLE=(
  "mariadb|mariadbd|tcp:3306"
  "rabbitmq|rabbitmq-server|tcp:5672"
  "keystone|keystone|http://$H:5000/v3"
  "placement|placement|http://$H:8778/"
  "glance|glance-api|http://$H:9292/"
  "neutron|neutron-server|http://$H:9696/"
  "nova-api|nova-api|http://$H:8774/"
  "nova-conductor|nova-conductor|"
  "nova-scheduler|nova-scheduler|"
  "nova-compute|nova-compute|"
  "cinder-api|cinder-api|http://$H:8776/"
  "cinder-scheduler|cinder-scheduler|"
  "cinder-volume|cinder-volume|"
)
tcp_open() { (exec 3<>"/dev/tcp/$H/$1") 2>/dev/null; }
answers() { # url|tcp:port
  case "$1" in
    "") return 0 ;;
    tcp:*) tcp_open "${1#tcp:}" ;;
    *) curl -s -o /dev/null --max-time 5 "$1" ;;
  esac
}
pid_alive() { local f="$RS/run/$1.pid" pid; [[ -f "$f" ]] || return 1; pid=$(tr -dc '0-9' < "$f"); [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }
admin_token() {
  local body
  body=$(jq -n --arg p "$ADMIN_PASS" '{auth:{identity:{methods:["password"],password:{user:{name:"admin",domain:{id:"default"},password:$p}}},scope:{project:{name:"admin",domain:{id:"default"}}}}}')
  curl -si --max-time 20 -X POST "$KS/v3/auth/tokens" -H 'Content-Type: application/json' -d "$body" \
    | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r'
}
# quiet: 0 = print table; returns 0 if all up, 1 if something is down, 3 if not started
do_status() {
  local quiet=${1:-0} row name pidf url st bad=0 any=0 tok
  for row in "${SERVICES_TABLE[@]}"; do
    IFS='|' read -r name pidf url <<< "$row"
    if pid_alive "$pidf"; then
      any=1
      if answers "$url"; then st="up"; [[ -n "$url" ]] && st="up (answers ${url#tcp:})"; else st="DOWN (process alive, ${url#tcp:} does not answer)"; bad=1; fi
    else
      st="DOWN (not running)"; bad=1
    fi
    ((quiet)) || printf '  %-17s %s\n' "$name" "$st"
  done
  ((any)) || { ((quiet)) || echo "  not started (state dir $RS)"; return 3; }
  if ((bad == 0)) && command -v jq >/dev/null; then  # service records as seen by the APIs
    tok=$(admin_token) || true
    if [[ -z "$tok" ]]; then bad=1; ((quiet)) || echo "  keystone: could not issue an admin token"
    else
      local nova cinder pid
      nova=$(curl -s --max-time 10 "http://$H:8774/v2.1/os-services" -H "X-Auth-Token: $tok" \
             | jq -r '[.services[]|"\(.binary)=\(.state)"]|join(" ")' 2>/dev/null || true)
      pid=$(curl -s --max-time 10 "$KS/v3/auth/tokens" -H "X-Auth-Token: $tok" -H "X-Subject-Token: $tok" | jq -r .token.project.id 2>/dev/null || true)
      cinder=$(curl -s --max-time 10 "http://$H:8776/v3/$pid/os-services" -H "X-Auth-Token: $tok" \
             | jq -r '[.services[]|"\(.binary)=\(.state)"]|join(" ")' 2>/dev/null || true)
      [[ -n "$nova" && "$nova" != *=down* ]] || bad=1
      [[ -n "$cinder" && "$cinder" != *=down* ]] || bad=1
      ((quiet)) || { echo "  nova services:   ${nova:-?}"; echo "  cinder services: ${cinder:-?}"; }
    fi
  fi
  ((quiet)) || { [[ -f "$RS/clouds.yaml" ]] && echo "  clouds.yaml:     $RS/clouds.yaml (cloud $CLOUD, $CLOUD-demo)"; echo "  logs:            $RS/log"; }
  return $bad
}

# ---------------------------------------------------------------------- install
PKGS=(curl jq uwsgi-core uwsgi-plugin-python3 python3-keystone python3-glance python3-nova
      python3-placement python3-neutron python3-cinder rabbitmq-server mariadb-server python3-pymysql)
APT_ATTEMPTS="${HYBRID_TESTENV_APT_ATTEMPTS:-5}"
# shellcheck disable=SC2206
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=2 -o Acquire::http::Timeout=30 ${HYBRID_TESTENV_APT_OPTS:-})
apt_retry() { # what cmd... : run with retries and backoff; fail loudly
  local what=$1 n delay=3 out; shift
  out="$RS.apt.log"
  for n in $(seq 1 "$APT_ATTEMPTS"); do
    if "$@" > "$out" 2>&1 && ! grep -qE '^(W|E): (Failed to fetch|Some index files failed|Unable to fetch)' "$out"; then
      return 0
    fi
    if ((n < APT_ATTEMPTS)); then
      log "$what failed (attempt $n/$APT_ATTEMPTS); retrying in ${delay}s"
      grep -E '^(Err|W|E):' "$out" | tail -n 3 >&2 || true
      sleep "$delay"; delay=$((delay * 2))
    fi
  done
  {
    echo
    echo "=========================================================================="
    echo "testenv: FATAL: $what failed $APT_ATTEMPTS times. Is the Debian package"
    echo "registry reachable from this machine? Last output ($out):"
    echo "--------------------------------------------------------------------------"
    tail -n 25 "$out"
    echo "=========================================================================="
  } >&2
  exit 1
}
MADE_POLICY=0
install_packages() {
  [[ "${HYBRID_TESTENV_SKIP_INSTALL:-0}" == 1 ]] && { log "install skipped (HYBRID_TESTENV_SKIP_INSTALL=1)"; return 0; }
  local p missing=() t0
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "packages already installed"; return 0; fi
  [[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}) and not root: run as root or install them first"
  mkdir -p "$(dirname "$RS")"
  t0=${EPOCHREALTIME/./}
  log "installing ${#missing[@]} packages: ${missing[*]}"
  # Keep maintainer scripts from starting rabbitmq/mariadb system-wide (we start
  # our own, on 127.0.0.1). Respect an existing policy-rc.d.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; MADE_POLICY=1
  fi
  apt_retry "apt-get update" apt-get "${APT_OPTS[@]}" update -q
  apt_retry "apt-get install" apt-get "${APT_OPTS[@]}" -o Dpkg::Options::=--force-confold \
    install -y -q --no-install-recommends "${missing[@]}"
  if ((MADE_POLICY)); then rm -f /usr/sbin/policy-rc.d; MADE_POLICY=0; fi
  log "install took $(el "$t0") s"
}

# --------------------------------------------------------------------------- up
STARTED=0
do_up() {
  trap on_fail EXIT
  install_packages
  local c
  for c in curl jq uwsgi-core /usr/sbin/mariadbd mariadb-install-db keystone-manage placement-manage \
           /usr/lib/rabbitmq/bin/rabbitmq-server epmd "$PY"; do
    command -v "$c" >/dev/null || die "required command $c not found (packages not installed?)"
  done

  if ls "$RS"/run/*.pid >/dev/null 2>&1; then
    if [[ "${HYBRID_TESTENV_FRESH:-0}" != 1 ]] && do_status 1; then
      log "already up (every service answers); nothing to do. Use 'restart' for a fresh cloud."
      echo "$RS/clouds.yaml"
      return 0
    fi
    log "previous run found: stopping it for a fresh start"
    do_down
  fi
  local port
  for port in 3306 5672 25672 5000 8778 9292 9696 8774 8776; do
    tcp_open "$port" && die "port $H:$port is already in use by a process this script did not start (another stack? stop it first)"
  done

  # fresh state: only wipe a directory that is ours (or empty)
  if [[ -d "$RS" && -n "$(ls -A "$RS" 2>/dev/null)" && ! -e "$RS/$MARKER" ]]; then
    die "$RS exists and was not created by this script; refusing to wipe it (set HYBRID_TESTENV_DIR)"
  fi
  rm -rf "$RS"
  mkdir -p "$RS"/{etc,log,run,bin,pylib,rabbit,lock,images,staging,tasks,glance-cache}
  mkdir -p "$RS"/etc/{keystone,glance,nova,neutron,cinder,placement}
  mkdir -p "$RS"/keystone/{fernet-keys,credential-keys} "$RS"/nova/instances "$RS"/neutron "$RS"/cinder
  chmod 700 "$RS"/keystone/fernet-keys "$RS"/keystone/credential-keys
  touch "$RS/$MARKER"
  T_START=${EPOCHREALTIME/./}
  STARTED=1

  db() { echo "mysql+pymysql://hybrid:$DBPASS@$H:3306/$1?charset=utf8"; }
  authtoken() { # service user
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SVC_PASS
service_token_roles = service
service_token_roles_required = true
EOF
  }
  svcauth() { # section user
cat <<EOF
[$1]
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $SVC_PASS
region_name = RegionOne
EOF
  }

  # launchers: console-script entry points under Debian's python (the service
  # packages that would ship them are not installed)
  mkbin() { # name module:function
    local mod=${2%%:*} fn=${2##*:}
    printf '#!%s\nimport sys\nsys.argv[0] = "%s"\nfrom %s import %s\nsys.exit(%s())\n' "$PY" "$1" "$mod" "$fn" "$fn" > "$RS/bin/$1"
    chmod +x "$RS/bin/$1"
  }
  mkbin glance-api        glance.cmd.api:main
  mkbin glance-manage     glance.cmd.manage:main
  mkbin nova-api          nova.cmd.api:main
  mkbin nova-conductor    nova.cmd.conductor:main
  mkbin nova-scheduler    nova.cmd.scheduler:main
  mkbin nova-compute      nova.cmd.compute:main
  mkbin nova-manage       nova.cmd.manage:main
  mkbin neutron-server    neutron.cmd.eventlet.server:main
  mkbin neutron-db-manage neutron.db.migration.cli:main
  mkbin cinder-api        cinder.cmd.api:main
  mkbin cinder-scheduler  cinder.cmd.scheduler:main
  mkbin cinder-volume     cinder.cmd.volume:main
  mkbin cinder-manage     cinder.cmd.manage:main

  start_bg() { # name cmd... (records the PID of the process itself)
    local name=$1; shift
    nohup "$@" > "$RS/log/$name.out" 2>&1 < /dev/null &
    echo $! > "$RS/run/$name.pid"
  }
  start_uwsgi() { # name port wsgi-file env...
    local name=$1 port=$2 file=$3 e; shift 3
    local envs=(); for e in "$@"; do envs+=(--env "$e"); done
    uwsgi-core --plugin python3 --http-socket "$H:$port" --wsgi-file "$file" \
      --master --processes 1 --threads 4 --enable-threads --die-on-term --need-app \
      --buffer-size 65535 --lazy-apps --add-header 'Connection: close' \
      --pidfile "$RS/run/$name.pid" --daemonize "$RS/log/$name.log" "${envs[@]}" \
      || die_svc "$name" "uwsgi did not start"
  }
  wait_http() { # service pidfile-name url
    local svc=$1 pidn=$2 url=$3 t0=${EPOCHREALTIME/./}
    until curl -s -o /dev/null --max-time 5 "$url"; do
      pid_alive "$pidn" || { sleep 0.5; pid_alive "$pidn" || die_svc "$pidn" "process exited before $url answered"; }
      (( ${EPOCHREALTIME/./} - t0 > TIMEOUT * 1000000 )) && die_svc "$pidn" "no answer from $url within ${TIMEOUT}s"
      sleep 0.5
    done
  }
  JOBS=()
  bg_job() { ( "$@" ) > "$RS/log/$1.job.log" 2>&1 & JOBS+=("$!:$1"); }
  join_jobs() {
    local j rc=0
    for j in "${JOBS[@]}"; do
      wait "${j%%:*}" || { log "step ${j#*:} failed"; tail_logs "${j#*:}"; rc=1; }
    done
    JOBS=(); ((rc == 0)) || die "database setup failed (logs: $RS/log)"
  }

  # ------------------------------------------------------------------ mariadb
  local MYSOCK="$RS/run/mysqld.sock"
  mariadb-install-db --no-defaults --datadir="$RS/mysql" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$RS/log/mariadb-install-db.log" 2>&1 \
    || die_svc mariadb-install-db "mariadb-install-db failed"
  start_bg mariadbd /usr/sbin/mariadbd --no-defaults --datadir="$RS/mysql" --user=root \
    --bind-address=$H --port=3306 --socket="$MYSOCK" --pid-file="$RS/run/mysqld.pid.info" \
    --log-error="$RS/log/mariadbd.log" --skip-name-resolve --max-connections=1000 \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
    --character-set-server=utf8mb3 --collation-server=utf8mb3_general_ci
  log "mariadb starting"

  # ----------------------------------------------------------------- rabbitmq
  cat > "$RS/rabbit/env.sh" <<EOF
export HOME=$RS/rabbit
export RABBITMQ_CONF_ENV_FILE=$RS/rabbit/rabbitmq-env.conf
export RABBITMQ_CONFIG_FILE=$RS/rabbit/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$RS/rabbit/enabled_plugins
export RABBITMQ_LOG_BASE=$RS/log
export ERL_CRASH_DUMP=$RS/log/erl_crash.dump
export RABBITMQ_MNESIA_BASE=$RS/rabbit/mnesia
export RABBITMQ_PID_FILE=$RS/run/rabbitmq.pid
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=$H
export RABBITMQ_NODE_PORT=5672
export RABBITMQ_DIST_PORT=25672
export ERL_EPMD_ADDRESS=$H
export RABBITMQ_SERVER_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
  : > "$RS/rabbit/rabbitmq-env.conf"
  echo '[].' > "$RS/rabbit/enabled_plugins"
  printf 'listeners.tcp.default = %s:5672\n' "$H" > "$RS/rabbit/rabbitmq.conf"
  (
    # shellcheck disable=SC1091
    . "$RS/rabbit/env.sh"
    tcp_open 4369 || start_bg epmd epmd -address $H
    start_bg rabbitmq-server /usr/lib/rabbitmq/bin/rabbitmq-server
  )
  log "rabbitmq starting"

  local i
  for i in $(seq 1 $((TIMEOUT * 2))); do
    [[ -S "$MYSOCK" ]] && mariadb --no-defaults -S "$MYSOCK" -e 'select 1' >/dev/null 2>&1 && break
    pid_alive mariadbd || die_svc mariadbd "mariadbd exited during start"
    sleep 0.5
  done
  {
    for d in keystone glance placement nova_api nova nova_cell0 neutron cinder; do echo "CREATE DATABASE $d;"; done
    echo "CREATE USER 'hybrid'@'127.0.0.1' IDENTIFIED BY '$DBPASS';"
    echo "CREATE USER 'hybrid'@'localhost' IDENTIFIED BY '$DBPASS';"
    echo "GRANT ALL PRIVILEGES ON *.* TO 'hybrid'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'hybrid'@'localhost';"
  } | mariadb --no-defaults -S "$MYSOCK" 2>"$RS/log/mariadb-setup.log" || die_svc mariadbd "mariadb not reachable"
  log "mariadb up"

  # ------------------------------------------------------------------ configs
  cat > "$RS/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
[database]
connection = $(db keystone)
[token]
provider = fernet
expiration = $TOKEN_EXPIRATION
[fernet_tokens]
key_repository = $RS/keystone/fernet-keys/
[fernet_receipts]
key_repository = $RS/keystone/fernet-keys/
[credential]
key_repository = $RS/keystone/credential-keys/
EOF

  cat > "$RS/etc/placement/placement.conf" <<EOF
[DEFAULT]
[api]
auth_strategy = keystone
[placement_database]
connection = $(db placement)
$(authtoken placement)
EOF

  cp "$HERE/templates/glance-api-paste.ini" "$RS/etc/glance/glance-api-paste.ini"
  cat > "$RS/etc/glance/glance-api.conf" <<EOF
[DEFAULT]
bind_host = $H
bind_port = 9292
workers = 1
enabled_backends = fs:file
image_cache_dir = $RS/glance-cache
# no web-download: it would fetch from arbitrary URLs outside loopback
enabled_import_methods = [glance-direct,copy-image]
[database]
connection = $(db glance)
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $RS/images/
[os_glance_staging_store]
filesystem_store_datadir = $RS/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $RS/tasks/
[paste_deploy]
flavor = keystone
config_file = $RS/etc/glance/glance-api-paste.ini
$(authtoken glance)
[oslo_concurrency]
lock_path = $RS/lock
EOF

  # no-op ML2 mechanism driver, registered through a tiny dist-info on PYTHONPATH
  mkdir -p "$RS/pylib/hybrid_noop-0.1.dist-info"
  cp "$HERE/templates/hybrid_noop_mech.py" "$RS/pylib/hybrid_noop_mech.py"
  cp "$HERE/templates/hybrid_fake_volume.py" "$RS/pylib/hybrid_fake_volume.py"
  printf 'Metadata-Version: 2.1\nName: hybrid-noop\nVersion: 0.1\n' > "$RS/pylib/hybrid_noop-0.1.dist-info/METADATA"
  printf '[neutron.ml2.mechanism_drivers]\nhybrid_noop = hybrid_noop_mech:NoopMechanismDriver\n' \
    > "$RS/pylib/hybrid_noop-0.1.dist-info/entry_points.txt"
  cp "$HERE/templates/neutron-api-paste.ini" "$RS/etc/neutron/api-paste.ini"
  cat > "$RS/etc/neutron/neutron.conf" <<EOF
[DEFAULT]
bind_host = $H
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
state_path = $RS/neutron
api_paste_config = $RS/etc/neutron/api-paste.ini
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = $(db neutron)
$(authtoken neutron)
$(svcauth nova nova)
[oslo_concurrency]
lock_path = $RS/lock
[agent]
root_helper = true
EOF
  cat > "$RS/etc/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,vlan
tenant_network_types = local
mechanism_drivers = hybrid_noop
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199
[securitygroup]
enable_security_group = true
firewall_driver = noop
EOF
  local NEUTRON_CONF=(--config-file "$RS/etc/neutron/neutron.conf" --config-file "$RS/etc/neutron/ml2_conf.ini")

  cp "$HERE/templates/nova-api-paste.ini" "$RS/etc/nova/api-paste.ini"
  cat > "$RS/etc/nova/nova.conf" <<EOF
[DEFAULT]
host = hybrid-testenv
my_ip = $H
state_path = $RS/nova
instances_path = $RS/nova/instances
transport_url = $RABBIT
enabled_apis = osapi_compute
osapi_compute_listen = $H
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
compute_driver = fake.FakeDriver
use_rootwrap_daemon = false
# one compute host: resize has to land on the same host
allow_resize_to_same_host = true
[wsgi]
api_paste_config = $RS/etc/nova/api-paste.ini
[api]
auth_strategy = keystone
[api_database]
connection = $(db nova_api)
[database]
connection = $(db nova)
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[oslo_concurrency]
lock_path = $RS/lock
[vnc]
enabled = false
[glance]
valid_interfaces = public
$(authtoken nova)
$(svcauth placement placement)
$(svcauth neutron neutron)
$(svcauth cinder cinder)
$(svcauth service_user nova)
send_service_user_token = true
EOF
  local NC=(--config-file "$RS/etc/nova/nova.conf")
  local NM=("$RS/bin/nova-manage" "${NC[@]}")

  cp "$HERE/templates/cinder-api-paste.ini" "$RS/etc/cinder/api-paste.ini"
  cat > "$RS/etc/cinder/cinder.conf" <<EOF
[DEFAULT]
host = hybrid-testenv
my_ip = $H
state_path = $RS/cinder
osapi_volume_listen = $H
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
transport_url = $RABBIT
auth_strategy = keystone
api_paste_config = $RS/etc/cinder/api-paste.ini
enabled_backends = fake
glance_api_servers = http://$H:9292
# cinder-volume re-publishes its capabilities to the scheduler every N s (default 60):
# a short interval closes the start-up race where the first publish is lost.
periodic_interval = 5
[fake]
# Cinder's fake driver + no-op extend/revert/image copy (templates/hybrid_fake_volume.py)
volume_driver = hybrid_fake_volume.HybridFakeVolumeDriver
volume_backend_name = fake
target_helper = fake
[database]
connection = $(db cinder)
$(authtoken cinder)
$(svcauth nova nova)
$(svcauth service_user cinder)
send_service_user_token = true
[oslo_concurrency]
lock_path = $RS/lock
EOF
  local CC=(--config-file "$RS/etc/cinder/cinder.conf")

  # ------------------------------------------------------- schemas (parallel)
  sync_placement() { placement-manage --config-file "$RS/etc/placement/placement.conf" db sync; }
  sync_glance()    { "$RS/bin/glance-manage" --config-file "$RS/etc/glance/glance-api.conf" db_sync; }
  sync_neutron()   { "$RS/bin/neutron-db-manage" "${NEUTRON_CONF[@]}" upgrade heads; }
  sync_nova() {
    "${NM[@]}" api_db sync
    "${NM[@]}" cell_v2 map_cell0 --database_connection "$(db nova_cell0)"
    "${NM[@]}" cell_v2 create_cell --name cell1 --database_connection "$(db nova)" --transport-url "$RABBIT"
    "${NM[@]}" db sync
  }
  sync_cinder()    { "$RS/bin/cinder-manage" "${CC[@]}" db sync; }
  bg_job sync_nova
  bg_job sync_neutron
  bg_job sync_placement
  bg_job sync_glance
  bg_job sync_cinder

  # ----------------------------------------------------------------- keystone
  local KSM=(keystone-manage --config-file "$RS/etc/keystone/keystone.conf")
  {
    "${KSM[@]}" db_sync
    "${KSM[@]}" fernet_setup --keystone-user root --keystone-group root
    "${KSM[@]}" credential_setup --keystone-user root --keystone-group root
    "${KSM[@]}" bootstrap --bootstrap-password "$ADMIN_PASS" \
      --bootstrap-admin-url "$KS/v3/" --bootstrap-internal-url "$KS/v3/" \
      --bootstrap-public-url "$KS/v3/" --bootstrap-region-id RegionOne
  } >"$RS/log/keystone-manage.log" 2>&1 || die_svc keystone-manage "keystone-manage failed"
  start_uwsgi keystone 5000 /usr/bin/keystone-wsgi-public \
    OS_KEYSTONE_CONFIG_DIR="$RS/etc/keystone" OS_KEYSTONE_CONFIG_FILES=keystone.conf
  wait_http keystone keystone "$KS/v3"
  log "keystone up"

  TOKEN=$(admin_token)
  [[ -n "$TOKEN" ]] || die_svc keystone "could not get an admin token"
  kpost() { curl -sf -X POST "$KS/v3/$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' -d "$2" || die_svc keystone "POST /v3/$1 failed"; }
  kput()  { curl -sf -X PUT  "$KS/v3/$1" -H "X-Auth-Token: $TOKEN" >/dev/null || die_svc keystone "PUT /v3/$1 failed"; }
  kget()  { curl -sf "$KS/v3/$1" -H "X-Auth-Token: $TOKEN" || die_svc keystone "GET /v3/$1 failed"; }

  local ADMIN_PROJECT SVC_PROJECT ADMIN_ROLE SERVICE_ROLE MEMBER_ROLE DEMO_PROJECT DEMO_USER
  ADMIN_PROJECT=$(kget 'projects?name=admin' | jq -r '.projects[0].id')
  SVC_PROJECT=$(kpost projects '{"project":{"name":"service","domain_id":"default"}}' | jq -r .project.id)
  ADMIN_ROLE=$(kget 'roles?name=admin' | jq -r '.roles[0].id')
  SERVICE_ROLE=$(kpost roles '{"role":{"name":"service"}}' | jq -r .role.id)
  MEMBER_ROLE=$(kget 'roles?name=member' | jq -r '.roles[0].id')
  # a plain (non-admin) user/project for tests
  DEMO_PROJECT=$(kpost projects '{"project":{"name":"demo","domain_id":"default"}}' | jq -r .project.id)
  DEMO_USER=$(kpost users "$(jq -n --arg p "$DEMO_PASS" '{user:{name:"demo",domain_id:"default",password:$p}}')" | jq -r .user.id)
  kput "projects/$DEMO_PROJECT/users/$DEMO_USER/roles/$MEMBER_ROLE"

  add_service() { # user [type name url]...
    local uid sid i
    uid=$(kpost users "$(jq -n --arg n "$1" --arg p "$SVC_PASS" '{user:{name:$n,domain_id:"default",password:$p}}')" | jq -r .user.id)
    kput "projects/$SVC_PROJECT/users/$uid/roles/$ADMIN_ROLE"
    kput "projects/$SVC_PROJECT/users/$uid/roles/$SERVICE_ROLE"
    shift
    while (($#)); do
      sid=$(kpost services "$(jq -n --arg t "$1" --arg n "$2" '{service:{type:$t,name:$n,enabled:true}}')" | jq -r .service.id)
      for i in public internal admin; do
        kpost endpoints "$(jq -n --arg s "$sid" --arg i "$i" --arg u "$3" '{endpoint:{service_id:$s,interface:$i,url:$u,region_id:"RegionOne",enabled:true}}')" >/dev/null
      done
      shift 3
    done
  }
  add_service glance    image      glance    "http://$H:9292"
  add_service placement placement  placement "http://$H:8778"
  add_service nova      compute    nova      "http://$H:8774/v2.1"
  add_service neutron   network    neutron   "http://$H:9696"
  add_service cinder    block-storage cinder "http://$H:8776/v3/%(project_id)s" \
                        volumev3   cinderv3  "http://$H:8776/v3/%(project_id)s"
  log "keystone bootstrapped (users, projects, services, endpoints)"

  join_jobs
  log "databases synced"

  # ----------------------------------------------------------- start services
  ( . "$RS/rabbit/env.sh"
    /usr/lib/rabbitmq/bin/rabbitmqctl -q --timeout "$TIMEOUT" wait "$RS/run/rabbitmq.pid" >/dev/null 2>&1 ) \
    || die_svc rabbitmq-server "rabbitmq did not start"
  log "rabbitmq up"
  start_uwsgi placement 8778 /usr/bin/placement-api OS_PLACEMENT_CONFIG_DIR="$RS/etc/placement"
  start_bg glance-api "$RS/bin/glance-api" --config-file "$RS/etc/glance/glance-api.conf" --log-file "$RS/log/glance-api.log"
  PYTHONPATH="$RS/pylib" start_bg neutron-server "$RS/bin/neutron-server" "${NEUTRON_CONF[@]}" --log-file "$RS/log/neutron-server.log"
  start_bg nova-conductor "$RS/bin/nova-conductor" "${NC[@]}" --log-file "$RS/log/nova-conductor.log"
  start_bg nova-scheduler "$RS/bin/nova-scheduler" "${NC[@]}" --log-file "$RS/log/nova-scheduler.log"
  start_bg nova-api       "$RS/bin/nova-api"       "${NC[@]}" --log-file "$RS/log/nova-api.log"
  start_bg cinder-api       "$RS/bin/cinder-api"       "${CC[@]}" --log-file "$RS/log/cinder-api.log"
  start_bg cinder-scheduler "$RS/bin/cinder-scheduler" "${CC[@]}" --log-file "$RS/log/cinder-scheduler.log"
  PYTHONPATH="$RS/pylib" start_bg cinder-volume "$RS/bin/cinder-volume"    "${CC[@]}" --log-file "$RS/log/cinder-volume.log"
  wait_http placement placement "http://$H:8778/"   # compute registers its resource provider at start
  start_bg nova-compute "$RS/bin/nova-compute" "${NC[@]}" --log-file "$RS/log/nova-compute.log"
  wait_http glance  glance-api     "http://$H:9292/"
  wait_http neutron neutron-server "http://$H:9696/"
  wait_http nova    nova-api       "http://$H:8774/"
  wait_http cinder  cinder-api     "http://$H:8776/"
  log "APIs answering"
  TOKEN=$(admin_token)   # fresh token: the bootstrap one may be short-lived
  [[ -n "$TOKEN" ]] || die_svc keystone "could not get an admin token"

  local NOVA="http://$H:8774/v2.1" NEUTRON="http://$H:9696/v2.0" A=(-H "X-Auth-Token: $TOKEN") J=(-H 'Content-Type: application/json')
  # the compute host must be mapped into cell1 before servers can be scheduled
  local n=0 t0=${EPOCHREALTIME/./} p
  until [[ "$n" -ge 1 ]]; do
    n=$(curl -s "$NOVA/os-services?binary=nova-compute" "${A[@]}" | jq '[.services[]|select(.state=="up")]|length' 2>/dev/null || echo 0)
    for p in nova-compute nova-conductor nova-scheduler; do pid_alive "$p" || die_svc "$p" "exited during start"; done
    (( ${EPOCHREALTIME/./} - t0 > TIMEOUT * 1000000 )) && die_svc nova-compute "nova-compute did not report up within ${TIMEOUT}s"
    [[ "$n" -ge 1 ]] || sleep 0.25
  done
  n=0; i=0; t0=${EPOCHREALTIME/./}
  until [[ "$n" -ge 1 ]]; do
    (( i++ % 20 == 0 )) && { "${NM[@]}" cell_v2 discover_hosts >>"$RS/log/nova-manage.log" 2>&1 || true; }
    n=$(curl -s "$NOVA/os-hypervisors" "${A[@]}" | jq '.hypervisors|length' 2>/dev/null || echo 0)
    (( ${EPOCHREALTIME/./} - t0 > TIMEOUT * 1000000 )) && die_svc nova-compute "compute host never mapped to a cell"
    [[ "$n" -ge 1 ]] || sleep 0.5
  done
  # flavors (Nova ships none); fixed ids like devstack's, sizes that allow resizes
  local f
  for f in "1 m1.tiny 1 512 1" "2 m1.small 1 2048 20" "3 m1.medium 2 4096 40" "4 m1.large 4 8192 80"; do
    set -- $f
    curl -sf -X POST "$NOVA/flavors" "${A[@]}" "${J[@]}" \
      -d "{\"flavor\":{\"id\":\"$1\",\"name\":\"$2\",\"vcpus\":$3,\"ram\":$4,\"disk\":$5}}" >/dev/null \
      || die_svc nova-api "flavor $2 create failed"
  done
  log "nova compute mapped, flavors m1.tiny/small/medium/large created"

  # external network for routers and floating IPs (no L3 agent: DB-level only)
  local EXT
  EXT=$(curl -sf -X POST "$NEUTRON/networks" "${A[@]}" "${J[@]}" -d '{"network":{"name":"public","router:external":true,"provider:network_type":"flat","provider:physical_network":"public","shared":false}}' \
        | jq -r .network.id) || die_svc neutron-server "external network create failed"
  curl -sf -X POST "$NEUTRON/subnets" "${A[@]}" "${J[@]}" -d "{\"subnet\":{\"name\":\"public-subnet\",\"network_id\":\"$EXT\",\"ip_version\":4,\"cidr\":\"172.24.4.0/24\",\"gateway_ip\":\"172.24.4.1\",\"enable_dhcp\":false,\"allocation_pools\":[{\"start\":\"172.24.4.10\",\"end\":\"172.24.4.250\"}]}}" \
    >/dev/null || die_svc neutron-server "external subnet create failed"
  log "neutron external network 'public' (172.24.4.0/24) created"

  # cinder-volume must report in, and the scheduler must know its pool
  local up=0; t0=${EPOCHREALTIME/./}
  until [[ "$up" -ge 1 ]]; do
    up=$(curl -s "http://$H:8776/v3/$ADMIN_PROJECT/scheduler-stats/get_pools" "${A[@]}" | jq '.pools|length' 2>/dev/null || echo 0)
    for p in cinder-volume cinder-scheduler; do pid_alive "$p" || die_svc "$p" "exited during start"; done
    (( ${EPOCHREALTIME/./} - t0 > TIMEOUT * 1000000 )) && die_svc cinder-volume "cinder scheduler never saw the fake backend"
    [[ "$up" -ge 1 ]] || sleep 0.5
  done
  log "cinder backend visible to the scheduler"
  log "all services up; start phase took $(el "$T_START") s"

  # -------------------------------------------------------------- clouds.yaml
  cloud() { # name user password project
cat <<EOF
  $1:
    auth:
      auth_url: $KS/v3
      username: $2
      password: $3
      project_name: $4
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
EOF
  }
  { echo "clouds:"; cloud "$CLOUD" admin "$ADMIN_PASS" admin; cloud "$CLOUD-demo" demo "$DEMO_PASS" demo; } > "$RS/clouds.yaml"
  cat > "$RS/openrc" <<EOF
export OS_CLIENT_CONFIG_FILE=$RS/clouds.yaml
export OS_CLOUD=$CLOUD
export OS_AUTH_URL=$KS/v3
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PASS
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_IDENTITY_API_VERSION=3
EOF

  if [[ "${HYBRID_TESTENV_VERIFY:-1}" == 1 ]]; then
    HYBRID_TESTENV_DIR="$RS" HYBRID_TESTENV_ADMIN_PASS="$ADMIN_PASS" bash "$HERE/verify.sh" \
      || die "end-to-end verification failed (logs: $RS/log)"
  fi
  trap - EXIT
  log "up. total $(el) s"
  log "clouds.yaml: $RS/clouds.yaml (clouds '$CLOUD' = admin/admin, '$CLOUD-demo' = demo/demo)"
  log "  export OS_CLIENT_CONFIG_FILE=$RS/clouds.yaml OS_CLOUD=$CLOUD"
  echo "$RS/clouds.yaml"
}

on_fail() {
  local rc=$?
  if ((MADE_POLICY)); then rm -f /usr/sbin/policy-rc.d; fi
  ((rc != 0 && STARTED == 1)) || return 0
  if [[ "${HYBRID_TESTENV_KEEP_ON_FAIL:-0}" == 1 ]]; then
    log "failed (rc=$rc); HYBRID_TESTENV_KEEP_ON_FAIL=1: leaving processes running; logs in $RS/log"
  else
    log "failed (rc=$rc): stopping what this run started; logs stay in $RS/log"
    do_down || true
  fi
}

do_mem() {
  local f pid rss pss n p r s tot_rss=0 tot_pss=0
  printf '%-18s %5s %8s %8s\n' service procs RSS_MiB PSS_MiB
  for f in "$RS"/run/*.pid; do
    [[ "$(basename "$f")" == rabbitmq.pid ]] && continue   # beam.smp: counted under rabbitmq-server
    pid=$(tr -dc '0-9' < "$f"); kill -0 "$pid" 2>/dev/null || continue
    rss=0; pss=0; n=0
    for p in $pid $(descendants "$pid"); do
      r=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null); [[ -n "$r" ]] || continue
      s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
      rss=$((rss + r)); pss=$((pss + ${s:-0})); n=$((n + 1))
    done
    printf '%-18s %5d %8d %8d\n' "$(basename "$f" .pid)" $n $((rss / 1024)) $((pss / 1024))
    tot_rss=$((tot_rss + rss)); tot_pss=$((tot_pss + pss))
  done
  printf '%-18s %5s %8d %8d\n' TOTAL "" $((tot_rss / 1024)) $((tot_pss / 1024))
}

# Brings the cloud up, runs the live conformance target against it, and takes it
# down again (HYBRID_TESTENV_KEEP=1 leaves it running).
do_live_test() {
  local t0=$SECONDS rc=0
  do_up
  log "cloud up in $((SECONDS - t0))s; running the live tests"
  ( cd "$HERE/.." && HYBRID_TEST_OPENSTACK=1 OS_CLIENT_CONFIG_FILE="$RS/clouds.yaml" \
      cargo test -p hybrid-openstack --test live -- --nocapture --test-threads=1 ) || rc=$?
  if [[ "${HYBRID_TESTENV_KEEP:-0}" != 1 ]]; then do_down; fi
  log "live tests exit $rc; $((SECONDS - t0))s in all (up, tests, down)"
  return $rc
}

case "${1:-}" in
  up)      do_up ;;
  test)    do_live_test ;;
  down)    do_down; log "down (state and logs kept in $RS)" ;;
  restart) do_down; HYBRID_TESTENV_FRESH=1 do_up ;;
  status)  echo "hybrid testenv (OpenStack) in $RS:"; rc=0; do_status 0 || rc=$?; exit $rc ;;
  verify)  HYBRID_TESTENV_DIR="$RS" HYBRID_TESTENV_ADMIN_PASS="$ADMIN_PASS" exec bash "$HERE/verify.sh" ;;
  mem)     do_mem ;;
  *) echo "usage: $0 up|down|status|restart|verify|mem|test   (state: \$HYBRID_TESTENV_DIR, default /tmp/hybrid-testenv/openstack)" >&2; exit 2 ;;
esac
