#!/bin/bash
# A FerretDB server (SQLite backend) for the MongoDB store's tests.
#
#   ferretdb-test.sh start STATE_DIR   start one; write STATE_DIR/uri and STATE_DIR/pid
#   ferretdb-test.sh stop STATE_DIR    stop it (TERM, then KILL after 10 s) and wait
#
# start picks free loopback ports (listen + debug) — or reuses the listen
# port of the last server of STATE_DIR when it is free again, so a test can
# restart "the same" server — keeps the data in STATE_DIR/data (kept across
# restarts), and waits (at most 20 s) until the server answers a ping on the
# wire protocol. The binary is $TEMPO_FERRETDB, else `ferretdb` on PATH, else
# $(go env GOPATH)/bin/ferretdb, else /root/go/bin/ferretdb
# (scripts/install-ferretdb.sh puts it there).
#
# With TEMPO_TEST_MONGODB_URI set, start writes that URI to STATE_DIR/uri and
# starts nothing (stop then has nothing to stop).
#
# Environment for the test fixture (tests/store_mongo/tests.cmake):
#   TEMPO_FERRETDB_FRESH=1  start from an empty data directory
#   TEMPO_FERRETDB_SOFT=1   when no server can be started, write the reason to
#                           STATE_DIR/error and exit 0: the tests then skip
#                           with that reason (and fail under CI=true)
set -u

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
state=$2

fail() {
  echo "ferretdb-test: $*" >&2
  if [ "${TEMPO_FERRETDB_SOFT:-}" = 1 ]; then
    echo "$*" > "$state/error"
    exit 0
  fi
  exit 1
}

find_binary() {
  if [ -n "${TEMPO_FERRETDB:-}" ]; then
    [ -x "$TEMPO_FERRETDB" ] && { echo "$TEMPO_FERRETDB"; return 0; }
    return 1
  fi
  if command -v ferretdb >/dev/null 2>&1; then
    command -v ferretdb
    return 0
  fi
  local go gopath
  for go in go /usr/local/go/bin/go /usr/lib/go/bin/go; do
    if command -v "$go" >/dev/null 2>&1; then
      gopath=$("$go" env GOPATH 2>/dev/null)
      if [ -n "$gopath" ] && [ -x "$gopath/bin/ferretdb" ]; then
        echo "$gopath/bin/ferretdb"
        return 0
      fi
      break
    fi
  done
  [ -x /root/go/bin/ferretdb ] && { echo /root/go/bin/ferretdb; return 0; }
  return 1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# One OP_MSG {ping: 1, $db: "admin"} on a fresh connection; true when the
# reply says ok: 1.0 (bytes 01 'o' 'k' 00 then the double 1.0).
ping_once() {
  local port=$1 len hex
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf '\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00' >&3
  len=$(timeout 2 dd bs=1 count=4 <&3 2>/dev/null | od -An -tu4 | tr -d ' ')
  if [ -z "$len" ] || [ "$len" -le 4 ] || [ "$len" -gt 65536 ]; then
    exec 3<&-
    return 1
  fi
  hex=$(timeout 2 dd bs=1 count=$((len - 4)) <&3 2>/dev/null | od -An -tx1 | tr -d ' \n')
  exec 3<&-
  case "$hex" in
    *016f6b00000000000000f03f*) return 0 ;;
  esac
  return 1
}

alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

stop_pid() {
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  for i in $(seq 1 50); do
    alive "$pid" || return 0
    sleep 0.1
  done
  echo "ferretdb-test: pid $pid did not exit" >&2
  return 1
}

# Only a pid that is still a ferretdb of ours is ever signalled.
our_pid() {
  local pid
  [ -f "$state/pid" ] || return 1
  pid=$(cat "$state/pid")
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  grep -q ferretdb "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

start_one() {
  local bin=$1 port=$2 debug=$3 pid i
  setsid "$bin" --handler=sqlite --sqlite-url="file:$state/data/" --listen-addr="127.0.0.1:$port" \
    --telemetry=disable --debug-addr="127.0.0.1:$debug" --state-dir="$state" --log-level=WARN \
    </dev/null >>"$state/log" 2>&1 &
  pid=$!
  for i in $(seq 1 200); do
    if ! alive "$pid"; then
      return 1
    fi
    if ping_once "$port"; then
      echo "$pid" > "$state/pid"
      echo "$port" > "$state/port"
      echo "mongodb://127.0.0.1:$port/" > "$state/uri"
      return 0
    fi
    sleep 0.1
  done
  stop_pid "$pid"
  return 1
}

do_start() {
  mkdir -p "$state" || fail "cannot create $state"
  rm -f "$state/uri" "$state/error"
  if [ -n "${TEMPO_TEST_MONGODB_URI:-}" ]; then
    echo "$TEMPO_TEST_MONGODB_URI" > "$state/uri"
    exit 0
  fi
  local pid bin port debug attempt
  if pid=$(our_pid); then
    stop_pid "$pid"
  fi
  rm -f "$state/pid"
  bin=$(find_binary) || fail "no ferretdb binary (looked at \$TEMPO_FERRETDB, PATH, \$(go env GOPATH)/bin, /root/go/bin; scripts/install-ferretdb.sh builds one)"
  if [ "${TEMPO_FERRETDB_FRESH:-}" = 1 ]; then
    rm -rf "$state/data"
    : > "$state/log"
  fi
  mkdir -p "$state/data" || fail "cannot create $state/data"
  for attempt in 1 2 3 4 5; do
    port=""
    if [ "$attempt" = 1 ] && [ -f "$state/port" ]; then
      port=$(cat "$state/port")
      case "$port" in '' | *[!0-9]*) port="" ;; esac
      [ -n "$port" ] && ! port_free "$port" && port=""
    fi
    [ -n "$port" ] || port=$(pick_port) || fail "no free port found"
    debug=$(pick_port) || fail "no free port found"
    [ "$debug" = "$port" ] && continue
    if start_one "$bin" "$port" "$debug"; then
      echo "ferretdb-test: $bin listening on 127.0.0.1:$port (pid $(cat "$state/pid"))"
      exit 0
    fi
  done
  fail "ferretdb did not start or answer a ping (see $state/log)"
}

do_stop() {
  local pid
  if pid=$(our_pid); then
    stop_pid "$pid" || exit 1
  fi
  rm -f "$state/pid"
  exit 0
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  *) usage ;;
esac
