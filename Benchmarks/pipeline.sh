#!/usr/bin/env bash
# Pipeline throughput, end to end: wrk POSTs NDJSON to /collector and osquery result batches to /log
# (100 enrolled hosts) over TLS for SECONDS; every event goes through the durable spool (fsync:
# always, group-committed), a route with throttle (per hostIdentifier+name, limit high enough that
# it counts without dropping) and enrich, then to a Splunk HEC output. The HEC receiver is nginx
# answering HEC's success body ({"text":"Success","code":0}) over plain HTTP on loopback, so the
# receiver costs next to nothing. Prints events/s and MB/s from the first request until the output
# had delivered everything, the ingest-only rate, the accounting, and the server's peak RSS.
# Asserts nothing.
#
# Usage: Benchmarks/pipeline.sh [SECONDS=20] [CONNECTIONS=4]
# Needs: a release build (or POMONA_BINARY), wrk, nginx (apt-get install wrk nginx-light), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-4}
AGENT_PORT=18743
hec_port=18790
token=pipeline-bench-collector-token-0123456789
bench=$(mktemp -d)

cat > "$bench/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $bench/nginx.pid;
error_log $bench/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  server {
    listen 127.0.0.1:$hec_port;
    location /services/collector { default_type application/json; return 200 '{"text":"Success","code":0}'; }
  }
}
NGINX
nginx -c "$bench/nginx.conf" -p "$bench" &
nginx_pid=$!

cat > "$bench/pomona.yml" <<YAML
pipeline:
  spool: { fsync: always }
  collector:
    sources:
      - { name: bench, token: "$token" }
  routes:
    - name: siem
      stages:
        - type: throttle
          key: [hostIdentifier, name]
          default_limit: 100000000
        - { type: enrich }
      outputs: [hec]
  outputs:
    - name: hec
      type: splunk_hec
      url: http://127.0.0.1:$hec_port
      token: 00000000-0000-0000-0000-000000000000
      concurrency: 4
YAML
export POMONA_SERVE_ARGS="--config $bench/pomona.yml"
source Benchmarks/server.sh
trap 'kill $server $nginx_pid 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work" "$bench"' EXIT
machine
echo "binary: $binary"

python3 Benchmarks/enroll_hosts.py "localhost:$AGENT_PORT" "$work/data/tls/ca.pem" "$secret" 100 "$bench/keys" >/dev/null
python3 Benchmarks/pipeline_bodies.py "$bench"
echo "bodies: /collector $(stat -c %s "$bench/collector.ndjson") bytes (1600 events); /log $(stat -c %s "$bench/log-data.json") bytes of data (1600 events)"

metric() {  # sum of a metric's samples whose labels contain $2
  curl -sk "https://127.0.0.1:$((AGENT_PORT + 1000))/metrics" | awk -v m="$1" -v f="$2" '$1 ~ "^"m"[{ ]" && index($1, f) { s += $2 } END { printf "%.0f", s }'
}

start=$(date +%s.%N)
BODY_FILE="$bench/collector.ndjson" COLLECTOR_TOKEN=$token wrk -t1 -c"$connections" -d"${seconds}s" -s Benchmarks/pipeline.lua \
  "https://localhost:$AGENT_PORT/collector" > "$bench/wrk-collector.txt" &
w1=$!
BODY_FILE="$bench/log-data.json" KEYS_FILE="$bench/keys" wrk -t1 -c"$connections" -d"${seconds}s" -s Benchmarks/pipeline.lua \
  "https://localhost:$AGENT_PORT/api/osquery/log" > "$bench/wrk-log.txt" &
w2=$!
wait $w1 $w2
ingested=$(date +%s.%N)
for _ in $(seq 1 600); do
  [ "$(metric pomona_pipeline_spooled_events 'output="hec"')" = "0" ] && break
  sleep 0.1
done
done_at=$(date +%s.%N)

echo; echo "== wrk /collector"; grep -E "Requests/sec|Latency|requests in|Non-2xx" "$bench/wrk-collector.txt"
echo "== wrk /log"; grep -E "Requests/sec|Latency|requests in|Non-2xx" "$bench/wrk-log.txt"
events=$(metric pomona_pipeline_input_received_events_total '')
bytes=$(metric pomona_pipeline_input_received_bytes_total '')
forwarded=$(metric pomona_pipeline_events_total 'outcome="forwarded"')
fbytes=$(metric pomona_pipeline_bytes_total 'outcome="forwarded"')
throttled=$(metric pomona_pipeline_events_total 'outcome="throttled"')
spooled=$(metric pomona_pipeline_spooled_events 'output="hec"')
echo
echo "accepted: $events events, $bytes bytes; forwarded to HEC: $forwarded events ($fbytes bytes as spooled, before enrichment); throttled $throttled; still spooled $spooled"
awk -v e="$events" -v b="$bytes" -v s="$start" -v i="$ingested" -v d="$done_at" 'BEGIN {
  printf "ingest only (%.1f s): %.0f events/s, %.1f MB/s accepted\n", i - s, e / (i - s), b / (i - s) / 1e6
  printf "end to end, first request to last delivery (%.1f s): %.0f events/s, %.1f MB/s\n", d - s, e / (d - s), b / (d - s) / 1e6
}'
echo "server: $(cpu_seconds) CPU-s, RSS $(rss_mib) MiB, peak RSS $(peak_rss_mib) MiB"
