# shellcheck shell=bash disable=SC2015
# Shared helpers for scripts/test-services: logging, failing with a log tail, pid bookkeeping,
# port checks and apt installs. Sourced, never run directly.

TS_T0=${EPOCHREALTIME/./}

log() {
  local now=${EPOCHREALTIME/./}
  local ms=$(((now - TS_T0) / 1000))
  printf '[test-services %d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}

# Set by the command being run: called by die() before exiting (e.g. stop what a failed start
# left half-up). Runs at most once.
TS_ON_FAIL=""
# Set to 1 by `start`/`env`: on failure also print `false` on stdout, so that
# `eval "$(scripts/test-services start)"` fails in the caller instead of silently doing nothing.
TS_EVAL_OUTPUT=0

# die STEP DETAIL [LOGFILE...]: one line naming the failed step, then the tail of each log.
die() {
  local step=$1 detail=$2
  shift 2
  printf 'test-services: ERROR: %s: %s\n' "$step" "$detail" >&2
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '--- last lines of %s\n' "$f" >&2
    tail -n 20 "$f" >&2
  done
  if [ -n "$TS_ON_FAIL" ]; then
    local hook=$TS_ON_FAIL
    TS_ON_FAIL=""
    "$hook" >&2 || true
  fi
  [ "$TS_EVAL_OUTPUT" = 1 ] && echo false
  exit 1
}

# ---------------------------------------------------------------- processes

# cmdline_has PID NEEDLE: /proc/PID/cmdline, args joined by spaces plus a trailing space,
# contains NEEDLE. Used to check that a recorded pid is still the daemon we started.
cmdline_has() {
  local pid=$1 needle=$2 cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"$needle"* ]]
}

# stop_pid NAME PID NEEDLE SIG TIMEOUT_S: send SIG, wait, then SIGKILL. Only while the pid is ours.
stop_pid() {
  local name=$1 pid=$2 needle=$3 sig=$4 timeout=$5 i
  cmdline_has "$pid" "$needle" || return 0
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    cmdline_has "$pid" "$needle" || {
      log "stopped $name (pid $pid)"
      return 0
    }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    cmdline_has "$pid" "$needle" || break
    sleep 0.1
  done
  log "killed $name (pid $pid) with SIGKILL after ${timeout}s"
}

# ---------------------------------------------------------------- ports

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# who_has_port PORT: "name pid N" of the listener when ss can tell, else empty.
who_has_port() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 pid \2/p' | head -n1
}

# require_free_port PORT VAR STEP: fail with one line if something (not ours) listens on PORT.
require_free_port() {
  local port=$1 var=$2 step=$3 who
  port_busy "$port" || return 0
  who=$(who_has_port "$port")
  die "$step" "127.0.0.1:$port is already in use by another process${who:+ ($who)}, not by test-services in $STATE; stop it or set $var to a free port"
}

# ---------------------------------------------------------------- packages

# apt_install LOG PKG...: quiet, non-interactive; `apt-get update` once if the first try fails.
TS_APT_UPDATED=0
apt_install() {
  local logf=$1
  shift
  command -v apt-get >/dev/null 2>&1 || die "install $*" "apt-get not found (install the packages by hand)"
  [ "$(id -u)" = 0 ] || die "install $*" "must run as root to apt-get install"
  log "installing $* (apt-get, log $logf)"
  local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)
  if "${apt[@]}" install --no-install-recommends "$@" </dev/null >>"$logf" 2>&1; then return 0; fi
  if [ "$TS_APT_UPDATED" = 0 ]; then
    TS_APT_UPDATED=1
    log "apt-get install failed; running apt-get update once"
    "${apt[@]}" update </dev/null >>"$logf" 2>&1 || die "apt-get update" "failed" "$logf"
    "${apt[@]}" install --no-install-recommends "$@" </dev/null >>"$logf" 2>&1 && return 0
  fi
  die "apt-get install $*" "failed" "$logf"
}

# missing_cmds CMD...: prints the ones not found (absolute paths are tested with -x).
missing_cmds() {
  local c
  for c in "$@"; do
    if [[ "$c" == /* ]]; then [ -x "$c" ] || echo "$c"; else command -v "$c" >/dev/null 2>&1 || echo "$c"; fi
  done
}

ensure_packages() {
  local missing
  missing=$(missing_cmds ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool uuidgen curl)
  if [ -n "$missing" ]; then
    log "missing: ${missing//$'\n'/ }"
    apt_install "$STATE/apt.log" ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl
    missing=$(missing_cmds ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool uuidgen curl)
    [ -z "$missing" ] || die "install ceph" "still missing after apt-get: ${missing//$'\n'/ }" "$STATE/apt.log"
  fi
  if [ "${WHARF_TEST_INSTALL_CLIENTS:-1}" = 1 ]; then
    missing=$(missing_cmds /usr/bin/aws rclone s3cmd)
    if [ -n "$missing" ]; then
      apt_install "$STATE/apt.log" awscli rclone s3cmd
      missing=$(missing_cmds /usr/bin/aws rclone s3cmd)
      [ -z "$missing" ] || die "install S3 clients" "still missing after apt-get: ${missing//$'\n'/ }" "$STATE/apt.log"
    fi
  fi
  # The web UI's end-to-end test drives Debian's Chromium (playwright-core never downloads a browser).
  if [ "${WHARF_TEST_INSTALL_BROWSER:-1}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
    apt_install "$STATE/apt.log" chromium
    [ -x /usr/bin/chromium ] || die "install chromium" "still no /usr/bin/chromium after apt-get" "$STATE/apt.log"
  fi
  missing=$(missing_cmds node runuser setsid flock useradd)
  [ -z "$missing" ] || die "check tools" "missing ${missing//$'\n'/ } (node 20 and util-linux/passwd are required)"
}
