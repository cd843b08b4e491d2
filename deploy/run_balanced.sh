#!/usr/bin/env bash
# Run N cnnviz processes (`streamlit run app.py` on loopback) behind HAProxy with sticky sessions.
#
#   deploy/run_balanced.sh                 # 2 processes on 127.0.0.1:8601-8602, balancer on :8080
#   deploy/run_balanced.sh -n 3 -p 9000    # 3 processes, balancer on 127.0.0.1:9000
#   deploy/run_balanced.sh -n 2 -p 9000 -b 9101 -- --server.maxUploadSize 5   (flags for streamlit)
#   deploy/run_balanced.sh -r 6379         # and a redis-server on 127.0.0.1:6379 for live classes
#
# Options: -n replicas (default 2), -p balancer port (8080), -a balancer address (127.0.0.1),
#          -b first backend port (8601; the others follow), or CNNVIZ_BACKEND_PORTS=p1,p2,...
#          -w 0: open the balancer without first warming each process (default -w 1: one visit
#          to every page of each process, so TensorFlow and the first network are loaded)
#          -r PORT: start Debian's redis-server on 127.0.0.1:PORT (nothing saved to disk) and give
#          every process CNNVIZ_REDIS_URL=redis://127.0.0.1:PORT/0, so a live class's room is the
#          same on all of them. Without -r, a CNNVIZ_REDIS_URL already set (a managed Redis) is
#          passed on as it is; with neither, each process keeps its own rooms.
# Needs Debian's haproxy (apt-get install haproxy; with -r, redis-server). Python: $PYTHON, else
# .venv/bin/python, else python3.
# Ctrl-C or SIGTERM stops the balancer and every process it started, then removes its temp files
# (CNNVIZ_KEEP_LOGS=1 keeps them). An app process that dies is reported and routed around; when
# the balancer or the last app process is gone, everything is stopped (exit status 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPLICAS=2
PORT=8080
ADDR=127.0.0.1
BASE=8601
WARM=1
REDIS_PORT=
while getopts "n:p:a:b:w:r:h" opt; do
  case "$opt" in
    n) REPLICAS="$OPTARG" ;;
    p) PORT="$OPTARG" ;;
    a) ADDR="$OPTARG" ;;
    b) BASE="$OPTARG" ;;
    w) WARM="$OPTARG" ;;
    r) REDIS_PORT="$OPTARG" ;;
    h) sed -n '2,21p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
STREAMLIT_ARGS=("$@")

[[ "$REPLICAS" =~ ^[1-9][0-9]?$ ]] || { echo "run_balanced: -n must be 1..99" >&2; exit 2; }
[[ "$WARM" =~ ^[01]$ ]] || { echo "run_balanced: -w must be 0 or 1" >&2; exit 2; }
[ -z "$REDIS_PORT" ] || [[ "$REDIS_PORT" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "run_balanced: -r must be a port" >&2; exit 2; }
[ -z "$REDIS_PORT" ] || command -v redis-server >/dev/null || { echo "run_balanced: redis-server is not installed (apt-get install redis-server)" >&2; exit 3; }
command -v haproxy >/dev/null || { echo "run_balanced: haproxy is not installed (apt-get install haproxy)" >&2; exit 3; }
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi
if [ -n "${CNNVIZ_BACKEND_PORTS:-}" ]; then
  IFS=, read -r -a PORTS <<< "$CNNVIZ_BACKEND_PORTS"
  REPLICAS=${#PORTS[@]}
else
  PORTS=()
  for ((i = 0; i < REPLICAS; i++)); do PORTS+=($((BASE + i))); done
fi

RUN="$(mktemp -d "${TMPDIR:-/tmp}/cnnviz-balanced.XXXXXX")"
PIDS=()
REDIS_PID=

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # the balancer first (no new visitors), then the apps; TERM, then KILL after 10 s
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # redis-server last, once no process can write to it; what it held is gone with it
  if [ -n "$REDIS_PID" ]; then kill -TERM "$REDIS_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ "${CNNVIZ_KEEP_LOGS:-0}" = 1 ]; then echo "run_balanced: logs kept in $RUN"; else rm -rf "$RUN"; fi
  echo "run_balanced: stopped"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

healthy() {  # URL -> 0 when it answers 200
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if r.status == 200 else 1)
PYEOF
}

wait_healthy() {  # URL, what, pid
  for _ in $(seq 600); do
    healthy "$1" && return 0
    kill -0 "$3" 2>/dev/null || { echo "run_balanced: $2 exited; its log:" >&2; tail -n 30 "$RUN/$2.log" >&2; return 1; }
    sleep 0.2
  done
  echo "run_balanced: $2 did not become healthy in 120 s" >&2
  return 1
}

redis_answers() {  # port -> 0 when a redis-server there answers PING
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PYEOF
}

if [ -n "$REDIS_PORT" ]; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN" \
      --daemonize no >"$RUN/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis_answers "$REDIS_PORT" && break
    kill -0 "$REDIS_PID" 2>/dev/null || { echo "run_balanced: redis-server exited; its log:" >&2; tail -n 20 "$RUN/redis.log" >&2; exit 1; }
    sleep 0.1
  done
  redis_answers "$REDIS_PORT" || { echo "run_balanced: redis-server did not answer PING in 10 s" >&2; exit 1; }
  export CNNVIZ_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "redis $REDIS_PORT $REDIS_PID" >"$RUN/redis"
fi

SERVERS=""
for ((i = 0; i < REPLICAS; i++)); do
  name="app$((i + 1))"
  (cd "$ROOT" && exec "$PY" -m streamlit run app.py --server.headless true \
      --server.address 127.0.0.1 --server.port "${PORTS[i]}" --server.fileWatcherType none \
      --browser.gatherUsageStats false ${STREAMLIT_ARGS[@]+"${STREAMLIT_ARGS[@]}"}) >"$RUN/$name.log" 2>&1 &
  PIDS+=($!)
  echo "$name ${PORTS[i]} $!" >>"$RUN/backends"
  SERVERS+="    server $name 127.0.0.1:${PORTS[i]} check cookie $name"$'\n'
done
for ((i = 0; i < REPLICAS; i++)); do
  wait_healthy "http://127.0.0.1:${PORTS[i]}/_stcore/health" "app$((i + 1))" "${PIDS[i]}"
done

# Each process warmed before the balancer takes visitors: one visit to every page (the protocol
# client of benchmarks/loadgen.py) loads TensorFlow and the first network, so a class that opens
# one link at once does not wait for them (30 visitors on fresh processes: up to 36 s, measured).
if [ "$WARM" = 1 ] && [ -f "$ROOT/benchmarks/loadgen.py" ]; then
  WARMERS=()
  for ((i = 0; i < REPLICAS; i++)); do
    "$PY" - "$ROOT/benchmarks" "http://127.0.0.1:${PORTS[i]}" >"$RUN/warm$((i + 1)).log" 2>&1 <<'PYEOF' &
import asyncio, sys
sys.path.insert(0, sys.argv[1])
import loadgen
bad = [e for r in asyncio.run(loadgen.warm_up(sys.argv[2])) for e in r.errors + r.exceptions]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
    WARMERS+=($!)
  done
  for pid in "${WARMERS[@]}"; do
    wait "$pid" || echo "run_balanced: a warm-up visit failed (see $RUN/warm*.log); serving anyway" >&2
  done
fi

# the config: deploy/haproxy.cfg with the bind address and one server line per process
"$PY" - "$ROOT/deploy/haproxy.cfg" "$RUN/haproxy.cfg" "$ADDR:$PORT" "$SERVERS" <<'PYEOF'
import sys
src, dst, bind, servers = sys.argv[1:5]
text = open(src).read().replace("@BIND@", bind).replace("    @SERVERS@\n", servers)
open(dst, "w").write(text)
PYEOF
haproxy -c -q -f "$RUN/haproxy.cfg"
haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
PIDS+=($!)
wait_healthy "http://$ADDR:$PORT/_stcore/health" haproxy "$!"

echo "run_balanced: ready: http://$ADDR:$PORT -> ${REPLICAS} processes on 127.0.0.1:${PORTS[*]}" \
     "(sticky cookie CNNVIZ_BACKEND; logs in $RUN)${CNNVIZ_REDIS_URL:+; classes shared through $CNNVIZ_REDIS_URL}. Ctrl-C stops."
# Until a signal arrives. A process that dies is reported; HAProxy's health check sends its
# visitors to the others. Everything stops when the balancer or the last process is gone.
BACKEND_PIDS=("${PIDS[@]:0:REPLICAS}")
HAPROXY_PID="${PIDS[-1]}"
serving=$REPLICAS
while true; do
  kill -0 "$HAPROXY_PID" 2>/dev/null || { echo "run_balanced: haproxy exited; stopping" >&2; exit 1; }
  live=()
  names=()
  for ((i = 0; i < REPLICAS; i++)); do
    if kill -0 "${BACKEND_PIDS[i]}" 2>/dev/null; then live+=("${BACKEND_PIDS[i]}"); names+=("app$((i + 1))"); fi
  done
  [ ${#live[@]} -gt 0 ] || { echo "run_balanced: every app process exited; stopping" >&2; exit 1; }
  if [ -n "$REDIS_PID" ] && ! kill -0 "$REDIS_PID" 2>/dev/null; then
    echo "run_balanced: redis-server exited; live classes stop working (the lessons still serve)" >&2
    REDIS_PID=
  fi
  if [ ${#live[@]} -lt "$serving" ]; then
    echo "run_balanced: an app process exited; still serving with ${names[*]}" >&2
    serving=${#live[@]}
  fi
  set +e
  wait -n "$HAPROXY_PID" "${live[@]}" ${REDIS_PID:+"$REDIS_PID"}
  set -e
done
