#!/usr/bin/env bash
# Management API benchmark: GET /hosts (and count/summary) at 50,000 hosts.
# Inserts the hosts straight into SQLite (vitals like real ones, a mix of platforms and seen times),
# starts `pomona serve` on them (the registry loads every host), creates the first admin through
# POST /api/v1/setup and measures each filter with wrk over TLS keep-alive, then the latency of check-ins while
# GET /hosts?status=online is hammered. Prints figures; asserts nothing.
#
# Usage: Benchmarks/admin-hosts.sh [HOSTS=50000] [SECONDS=8] [CONNECTIONS=4]
# Needs: sqlite3, wrk, curl, and a pomona binary (POMONA_BINARY=.build/debug/pomona to use a debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-50000}
seconds=${2:-8}
connections=${3:-4}
for tool in sqlite3 wrk curl; do command -v $tool >/dev/null || { echo "$tool is missing" >&2; exit 1; }; done

AGENT_PORT=19443
ADMIN_PORT=$((AGENT_PORT + 1000))
source Benchmarks/server.sh   # first start: creates and migrates the database
kill $server; wait $server 2>/dev/null || true

now=$(date +%s)
db="$work/data/pomona.sqlite"
start=$(date +%s.%N)
sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $hosts)
INSERT INTO hosts (node_key_digest, osquery_host_id, uuid, hardware_serial, hostname, computer_name, platform, vitals,
                   enroll_secret_id, remote_ip, created_at, last_enrolled_at, seen_at, detail_updated_at, refetch_requested)
SELECT printf('%064x', i), printf('osq-%06d', i), printf('UUID-%08X-0000-4000-8000-%012d', i, i), printf('SER%07d', i),
       printf('host-%06d.corp.example', i), printf('host-%06d', i),
       CASE i % 4 WHEN 0 THEN 'darwin' WHEN 1 THEN 'ubuntu' WHEN 2 THEN 'windows' ELSE 'rhel' END,
       json_object('hostname', printf('host-%06d.corp.example', i), 'computerName', printf('host-%06d', i),
                   'uuid', printf('UUID-%08X-0000-4000-8000-%012d', i, i), 'hardwareSerial', printf('SER%07d', i),
                   'platform', CASE i % 4 WHEN 0 THEN 'darwin' WHEN 1 THEN 'ubuntu' WHEN 2 THEN 'windows' ELSE 'rhel' END,
                   'osVersion', '14.5.0', 'osqueryVersion', '5.12.1', 'cpuBrand', 'Apple M2 Pro', 'cpuPhysicalCores', 10,
                   'cpuLogicalCores', 10, 'memoryBytes', 34359738368, 'hardwareVendor', 'Apple Inc.', 'hardwareModel', 'Mac14,9',
                   'primaryIP', printf('10.%d.%d.%d', i / 65536, (i / 256) % 256, i % 256), 'primaryMAC', '3c:22:fb:00:00:01',
                   'kernelVersion', '23.5.0', 'uptimeSeconds', 86400, 'gigsDiskSpaceAvailable', 212.5,
                   'percentDiskSpaceAvailable', 45.2, 'gigsTotalDiskSpace', 460.4, 'distributedInterval', 10, 'configTLSRefresh', 60),
       1, printf('192.0.%d.%d', (i / 256) % 256, i % 256),
       $now - 86400 * (i % 60), $now - 86400 * (i % 60),
       -- a quarter seen just now (online), most within the day (offline), some over 30 days ago (missing)
       CASE WHEN i % 4 = 0 THEN $now - 5 WHEN i % 17 = 0 THEN $now - 40 * 86400 ELSE $now - (i % 86400) END,
       $now - 3600, 0
FROM n;
SQL
echo "inserted $hosts hosts in $(echo "$(date +%s.%N) - $start" | bc) s; database $(du -h "$db" | cut -f1)"

POMONA_ENROLL_SECRET=$secret "$binary" serve --data-dir "$work/data" --agent-listen "127.0.0.1:$AGENT_PORT" \
  --admin-listen "127.0.0.1:$ADMIN_PORT" --log-level warning > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do curl -sk "https://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sk "https://127.0.0.1:$ADMIN_PORT/healthz"; echo

base="https://127.0.0.1:$ADMIN_PORT/api/v1/fleet"
export ADMIN_TOKEN=$(curl -sk -X POST "https://127.0.0.1:$ADMIN_PORT/api/v1/setup" \
  -d '{"name":"Bench","email":"bench@example.com","password":"benchmark-pass-1!"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
[ -n "$ADMIN_TOKEN" ] || { echo "setup failed" >&2; exit 1; }
echo "count: $(curl -sk -H "Authorization: Bearer $ADMIN_TOKEN" "$base/hosts/count")"
machine
echo "binary: $binary; wrk -t1 -c$connections -d${seconds}s per URL, TLS keep-alive (client and server share the cores)"
for url in "hosts" "hosts?per_page=500" "hosts?page=400" "hosts?order_key=seen_time&order_direction=desc" \
  "hosts?status=online" "hosts?status=offline&platform=linux" "hosts?platform=darwin" \
  "hosts?query=host-0421" "hosts?query=10.0.42." "hosts/count?status=missing" "host_summary"; do
  bytes=$(curl -sk -H "Authorization: Bearer $ADMIN_TOKEN" "$base/$url" | wc -c)
  printf '%-50s %8s bytes  ' "GET /$url" "$bytes"
  wrk -t1 -c"$connections" -d"${seconds}s" -s Benchmarks/admin-hosts.lua "$base/$url" | grep '^requests'
done

# Check-ins while the status filter is hammered: the status of every host is computed for
# GET /hosts?status=, and check-ins must not wait for it (issue 14 §2). One enrolled host's idle
# distributed/read, alone and then next to back-to-back status-filtered host lists.
python3 Benchmarks/enroll_hosts.py localhost:$AGENT_PORT "$work/data/tls/ca.pem" "$secret" 1 "$work/keys" >/dev/null
export NODE_KEY=$(tail -n 1 "$work/keys")
checkin() { wrk -t1 -c4 -d"${seconds}s" -s Benchmarks/checkin.lua "https://127.0.0.1:$AGENT_PORT/api/osquery/distributed/read" | tr '\n' ' '; echo; }
echo "check-in alone (wrk -t1 -c4):                 $(checkin)"
wrk -t1 -c"$connections" -d"$((seconds + 2))s" -s Benchmarks/admin-hosts.lua "$base/hosts?status=online" > "$work/hammer" &
hammer=$!
sleep 1
echo "check-in while GET /hosts?status=online runs: $(checkin)"
wait $hammer
echo "  GET /hosts?status=online meanwhile (wrk -t1 -c$connections): $(cat "$work/hammer" | grep '^requests')"
echo "server RSS: $(rss_mib) MiB, CPU seconds: $(cpu_seconds)"
