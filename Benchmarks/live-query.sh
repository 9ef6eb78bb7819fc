#!/usr/bin/env bash
# Live-query benchmark: a `pomona serve` on loopback with HOSTS simulated osqueryd hosts
# (`pomona simulate`, Fleet's default 10 s distributed interval), then
#   run A: one live query on all hosts; prints the time from POST /queries/run to the SSE `done`
#          event (every host answered) and the simulator's check-in latencies for the run;
#   run B: CAMPAIGNS concurrent single-host live queries (Fleet's failure case, fleetdm/fleet#52000)
#          while check-ins continue; prints the time until all of them finished and the simulator's
#          check-in latencies for that run, to compare with run A.
# Asserts nothing.
#
# Usage: Benchmarks/live-query.sh [HOSTS=1000] [CAMPAIGNS=200] [SECONDS=150]  (SECONDS: each simulator run; the
# queries start once every host is online plus 15 s, so leave room for them)
# Needs: a built pomona (POMONA_BINARY=.build/debug/pomona for a debug build), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-1000}
campaigns=${2:-200}
seconds=${3:-150}
AGENT_PORT=18643
source Benchmarks/server.sh
admin="https://127.0.0.1:$((AGENT_PORT + 1000))"
machine
echo "binary: $binary"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
token=$(curl -sk -X POST "$admin/api/v1/setup" -H 'Content-Type: application/json' \
  -d '{"name":"Bench","email":"bench@example.com","password":"correct-horse-42!"}' | json 'd["token"]')
api() { curl -sk -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
now() { date +%s.%N; }

simulate() {  # $1 = log file
  "$binary" simulate --server "https://localhost:$AGENT_PORT" --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
    --hosts "$hosts" --duration "$seconds" --start-spread 15 --seed 1 > "$1" 2>&1 &
  sim=$!
}

wait_for_hosts() {
  for _ in $(seq 1 600); do
    online=$(api "$admin/api/v1/fleet/host_summary" | json 'd.get("online_count", 0)')
    [ "$online" -ge "$hosts" ] && return 0
    sleep 0.5
  done
  echo "only $online of $hosts hosts online" >&2
}

echo
echo "== run A: one live query on all $hosts hosts =="
simulate "$work/sim-a.log"
wait_for_hosts
sleep 15  # let the first detail and label rounds finish
start=$(now)
id=$(api -X POST "$admin/api/v1/fleet/queries/run" -d '{"query":"SELECT version FROM osquery_info;","selected":{"all":true}}' | json 'd["campaign"]["id"]')
done_line=$(api -N "$admin/api/v1/fleet/queries/run/$id/stream" | grep -m1 -A0 '^data: {"status":"finished"')
end=$(now)
echo "campaign $id: $(echo "${done_line#data: }" | json 'd["summary"] + ", reason " + d["reason"]')"
awk -v a="$start" -v b="$end" 'BEGIN { printf "time to all results (POST → done): %.2f s\n", b - a }'
wait $sim || true
grep -E "endpoint|distributed_read|distributed_write" "$work/sim-a.log" || tail -20 "$work/sim-a.log"

echo
echo "== run B: $campaigns concurrent single-host live queries while check-ins continue =="
simulate "$work/sim-b.log"
wait_for_hosts
sleep 15
ids=$(api "$admin/api/v1/fleet/hosts?per_page=$campaigns&order_key=id" | json '" ".join(str(h["id"]) for h in d["hosts"])')
start=$(now)
for host in $ids; do
  api -X POST "$admin/api/v1/fleet/queries/run" -d "{\"query\":\"SELECT * FROM osquery_info;\",\"selected\":{\"hosts\":[$host]}}" \
    | json 'd["campaign"]["id"]' >> "$work/campaigns" &
done
wait_campaigns=$(jobs -p | grep -v "^$sim$" || true)
[ -n "$wait_campaigns" ] && wait $wait_campaigns || true
created=$(now)
running=$(python3 - "$work/campaigns" <<'EOF'
import sys
print(len(open(sys.argv[1]).read().split()))
EOF
)
echo "created $running campaigns in $(awk -v a="$start" -v b="$created" 'BEGIN { printf "%.2f", b - a }') s"
for cid in $(cat "$work/campaigns"); do
  api -N "$admin/api/v1/fleet/queries/run/$cid/stream" | grep -m1 -q '^event: done' &
done
for job in $(jobs -p); do [ "$job" = "$sim" ] || wait "$job" || true; done
end=$(now)
awk -v a="$start" -v b="$end" -v n="$running" 'BEGIN { printf "all %d campaigns finished %.2f s after the first was created\n", n, b - a }'
wait $sim || true
grep -E "endpoint|distributed_read|distributed_write" "$work/sim-b.log" || tail -20 "$work/sim-b.log"
echo "server CPU seconds (both runs): $(cpu_seconds); RSS $(rss_mib) MiB (peak $(peak_rss_mib) MiB)"
