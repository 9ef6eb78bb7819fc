#!/usr/bin/env bash
# Live-query benchmark: a `pomona serve` on loopback with HOSTS simulated osqueryd hosts
# (`pomona simulate`, Fleet's default 10 s distributed interval), one simulator run per part:
#   run A: one live query on all hosts; prints the time from POST /queries/run until 50%, 95% and
#          100% of the hosts online at the start answered (per-host SSE `result` events, timed on
#          arrival at the client) and until the SSE `done`;
#   run B: CAMPAIGNS concurrent single-host live queries (Fleet's failure case, fleetdm/fleet#52000)
#          while check-ins continue; prints campaigns created / finished / timed out and the time
#          until all finished;
#   run C: the same simulator run with no live query (BASELINE=0 skips it);
# then the simulator's check-in latencies of the runs side by side. Each figure covers a whole
# simulator run, all of the same length; run A enrolls the hosts for the first time, runs B and C
# re-enroll the same identities (--seed 1), so B against C is like for like and shows what the
# concurrent campaigns cost check-ins. Asserts nothing.
# Every wait is bounded and a timeout is printed as such.
#
# Usage: Benchmarks/live-query.sh [HOSTS=1000] [CAMPAIGNS=200] [SECONDS]
#   SECONDS: length of each simulator run; default START_SPREAD + 120. The queries start once every
#   host is online (or the online wait timed out) plus 15 s, and must end before the simulator does.
# Environment: START_SPREAD (s, default max(15, HOSTS/100)), SIM_CONNECTIONS (keep-alive connections
#   all simulated hosts share; default none: each host keeps its own, about 3, as osqueryd does, which
#   needs 3 x HOSTS file descriptors on each side), QUERY_TIMEOUT (s, default 60: the bound
#   on each run's streams), SIM_ARGS (more `pomona simulate` options, e.g. "--log-lines 2"), BASELINE (1: also run C without live queries; 0 skips it),
#   POMONA_BINARY (default .build/release/pomona).
# Needs: a built pomona, curl, python3 (Benchmarks/live-query-stream.py follows the SSE streams).
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-1000}
campaigns=${2:-200}
spread=${START_SPREAD:-$(( hosts / 100 > 15 ? hosts / 100 : 15 ))}
seconds=${3:-$(( spread + 120 ))}
query_timeout=${QUERY_TIMEOUT:-60}
settle=15
AGENT_PORT=18643
source Benchmarks/server.sh
admin="https://127.0.0.1:$((AGENT_PORT + 1000))"
machine
echo "binary: $binary"
echo "hosts $hosts, campaigns $campaigns, simulator runs of $seconds s (start spread $spread s${SIM_CONNECTIONS:+, $SIM_CONNECTIONS connections}${SIM_ARGS:+, $SIM_ARGS}), query timeout $query_timeout s"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
token=$(curl -sk --max-time 30 -X POST "$admin/api/v1/setup" -H 'Content-Type: application/json' \
  -d '{"name":"Bench","email":"bench@example.com","password":"correct-horse-42!"}' | json 'd["token"]')
api() { curl -sk --max-time 30 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

sim=
sim_started=
simulate() {  # $1 = log file; the report goes to it, progress to $1.progress
  "$binary" simulate --server "https://localhost:$AGENT_PORT" --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
    --hosts "$hosts" --duration "$seconds" --start-spread "$spread" --seed 1 ${SIM_CONNECTIONS:+--connections "$SIM_CONNECTIONS"} ${SIM_ARGS:-} \
    > "$1" 2> "$1.progress" &
  sim=$!
  sim_started=$(now)
}
sim_left() { awk -v a="$sim_started" -v b="$(now)" -v d="$seconds" 'BEGIN { printf "%d", d - (b - a) }'; }

# Waits until every host of this simulator run enrolled (its progress line, every 10 s) and the
# server counts every host online; the server alone is not enough, as run A's hosts (the same
# identities, --seed 1) still count as online when run B's simulator starts. Bounded by start
# spread + HOSTS/100 s + 60 s and by 30 s before the simulator ends: a start-up of 10,000 hosts
# on 2 cores takes a while.
wait_for_hosts() {  # $1 = simulator log
  local bound=$(( spread + hosts / 100 + 60 )) online=0 enrolled=0 start
  start=$sim_started
  [ "$bound" -gt "$(( seconds - 30 ))" ] && bound=$(( seconds - 30 ))
  while :; do
    enrolled=$(grep -oE '[0-9]+/[0-9]+ hosts enrolled' "$1.progress" 2>/dev/null | tail -1 | cut -d/ -f1 || true)
    enrolled=${enrolled:-0}
    online=$(api "$admin/api/v1/fleet/host_summary" | json 'd.get("online_count", 0)' 2>/dev/null || echo 0)
    if [ "$enrolled" -ge "$hosts" ] && [ "$online" -ge "$hosts" ]; then
      echo "all $hosts hosts enrolled and online $(since "$start") s after the simulator started"
      return 0
    fi
    if ! kill -0 "$sim" 2>/dev/null; then
      echo "SIMULATOR EXITED before all hosts were online ($enrolled enrolled, $online online of $hosts):"
      tail -20 "$1" "$1.progress"
      return 1
    fi
    if awk -v s="$(since "$start")" -v b="$bound" 'BEGIN { exit !(s >= b) }'; then
      echo "ONLINE WAIT TIMED OUT after $bound s: $enrolled of $hosts hosts enrolled, $online online; the queries run on those"
      return 0
    fi
    sleep 1
  done
}

# The time left for the streams: QUERY_TIMEOUT, but never past 5 s before the simulator ends.
stream_timeout() {
  local left=$(( $(sim_left) - 5 ))
  [ "$left" -lt "$query_timeout" ] && { echo "note: only $left s of simulator time left for the queries (raise SECONDS)" >&2; echo "$(( left > 5 ? left : 5 ))"; return; }
  echo "$query_timeout"
}

# Waits for the simulator to end on its own (at most 60 s past its duration), else stops it.
wait_for_simulator() {
  local limit=$(( $(sim_left) + 60 ))
  for _ in $(seq 1 "$limit"); do kill -0 "$sim" 2>/dev/null || break; sleep 1; done
  if kill -0 "$sim" 2>/dev/null; then
    echo "SIMULATOR DID NOT END 60 s after its duration: interrupting it"
    kill -INT "$sim" 2>/dev/null || true
    for _ in $(seq 1 15); do kill -0 "$sim" 2>/dev/null || break; sleep 1; done
    kill "$sim" 2>/dev/null || true
  fi
  wait "$sim" 2>/dev/null || echo "simulator exit status $?"
}

report_simulator() {  # $1 = log
  if grep -q "^distributed_read" "$1"; then
    grep -E "^(endpoint|distributed_read|distributed_write) |^elapsed|^distributed:" "$1"
  else
    echo "no simulator report; its last output:"; tail -20 "$1" "$1.progress"
  fi
}

stream() {  # mode, timeout, extra args
  local mode=$1 limit=$2; shift 2
  set +e
  timeout $(( limit + 30 )) python3 Benchmarks/live-query-stream.py "$mode" --admin "$admin" --token "$token" --timeout "$limit" "$@"
  local status=$?
  set -e
  case $status in
    0) ;;
    3) echo "(some streams timed out: see above)" ;;
    124) echo "STREAM CLIENT KILLED after $(( limit + 30 )) s" ;;
    *) echo "stream client exit status $status" ;;
  esac
}

echo
echo "== run A: one live query on all $hosts hosts =="
cpu0=$(cpu_seconds)
simulate "$work/sim-a.log"
if wait_for_hosts "$work/sim-a.log"; then
  sleep "$settle"  # let the first detail and label rounds finish
  stream all "$(stream_timeout)"
fi
wait_for_simulator
report_simulator "$work/sim-a.log"
cpu_a=$(awk -v a="$cpu0" -v b="$(cpu_seconds)" 'BEGIN { printf "%.1f", b - a }')
echo "server CPU seconds during run A: $cpu_a"

echo
echo "== run B: $campaigns concurrent single-host live queries while check-ins continue =="
cpu0=$(cpu_seconds)
simulate "$work/sim-b.log"
if wait_for_hosts "$work/sim-b.log"; then
  sleep "$settle"
  stream many "$(stream_timeout)" --campaigns "$campaigns"
fi
wait_for_simulator
report_simulator "$work/sim-b.log"
cpu_b=$(awk -v a="$cpu0" -v b="$(cpu_seconds)" 'BEGIN { printf "%.1f", b - a }')
echo "server CPU seconds during run B: $cpu_b"

if [ "${BASELINE:-1}" != 0 ]; then
  echo
  echo "== run C (baseline): the same simulator run with no live query =="
  cpu0=$(cpu_seconds)
  simulate "$work/sim-c.log"
  wait_for_hosts "$work/sim-c.log" || true
  wait_for_simulator
  report_simulator "$work/sim-c.log"
  cpu_c=$(awk -v a="$cpu0" -v b="$(cpu_seconds)" 'BEGIN { printf "%.1f", b - a }')
  echo "server CPU seconds during run C: $cpu_c"
fi

echo
echo "== check-in latency: run A (one campaign on all hosts), run B ($campaigns concurrent campaigns), run C (none) =="
printf "%-22s %8s %7s %7s %7s %7s %7s\n" run count errors "p50 ms" "p90 ms" "p99 ms" "max ms"
for run in a b c; do
  [ -f "$work/sim-$run.log" ] || continue
  label="run ${run^^}"
  awk -v label="$label" '$1 == "distributed_read" || $1 == "distributed_write" {
      printf "%-22s %8s %7s %7s %7s %7s %7s\n", label " " $1, $2, $3, $4, $5, $6, $7 }' "$work/sim-$run.log"
done
echo "server CPU seconds: run A $cpu_a, run B $cpu_b${cpu_c:+, run C $cpu_c}; RSS $(rss_mib) MiB (peak $(peak_rss_mib) MiB)"
