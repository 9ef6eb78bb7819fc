#!/usr/bin/env bash
# Idle check-in cost against the physical limit: requests/s of an idle distributed/read over TLS
# keep-alive, next to nginx answering a static JSON body over TLS with the same certificate, in the
# same run on the same machine. Prints both and the ratio; asserts nothing.
#
# Usage: Benchmarks/checkin-vs-nginx.sh [SECONDS=20] [CONNECTIONS=50]
# Needs: a release build, python3, wrk and nginx (apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-50}
for tool in wrk nginx python3; do command -v $tool >/dev/null || { echo "$tool is missing" >&2; exit 1; }; done
AGENT_PORT=18643
source Benchmarks/server.sh
machine

# One enrolled host whose key the check-ins use.
python3 Benchmarks/enroll_hosts.py localhost:$AGENT_PORT "$work/data/tls/ca.pem" "$secret" 1 "$work/keys" >/dev/null
export NODE_KEY=$(tail -n 1 "$work/keys")

# nginx: one worker per core, TLS with Pomona's own certificate, a fixed {"queries":{}} answer.
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:18700 ssl;
    ssl_certificate $work/data/tls/server.pem;
    ssl_certificate_key $work/data/tls/server.key;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"queries":{}}'; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf"
trap 'nginx -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true; kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 0.5

run() { wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/checkin.lua "$1" | awk '/requests\/s/ {print $2} /latency p/ {print}'; }
echo "pomona distributed/read (wrk -t2 -c$connections -d${seconds}s):"
# (Captured, then printed: `tee /dev/stderr` reopens a redirected output file at offset 0 and overwrote it.)
out=$(run https://127.0.0.1:$AGENT_PORT/api/osquery/distributed/read); echo "$out"; pomona=$(echo "$out" | head -n 1)
echo "nginx static JSON over TLS (same certificate, same wrk):"
out=$(run https://127.0.0.1:18700/); echo "$out"; static=$(echo "$out" | head -n 1)
echo "pomona: $pomona req/s; nginx: $static req/s; ratio pomona/nginx: $(awk -v a="$pomona" -v b="$static" 'BEGIN {printf "%.2f", a/b}')"
