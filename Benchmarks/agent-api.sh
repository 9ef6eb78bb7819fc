#!/usr/bin/env bash
# Agent API benchmark: enrolls hosts, then measures idle distributed/read over TLS keep-alive
# and the server's memory. Prints figures; asserts nothing.
#
# Usage: Benchmarks/agent-api.sh [HOSTS=1000] [SECONDS=20] [CONNECTIONS=50]
# Needs: a release build (swift build -c release), python3, wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-1000}
seconds=${2:-20}
connections=${3:-50}
binary=.build/release/pomona
[ -x "$binary" ] || swift build -c release --product pomona
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
secret=benchmark-enroll-secret-0123456789
POMONA_ENROLL_SECRET=$secret "$binary" serve --data-dir "$work/data" --agent-listen 127.0.0.1:18443 \
  --admin-listen 127.0.0.1:19443 --log-level warning > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sk https://127.0.0.1:18443/healthz >/dev/null 2>&1 && break
  sleep 0.1
done

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$server/status; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
echo "server RSS at start: $(rss)"
python3 Benchmarks/enroll_hosts.py localhost:18443 "$work/data/tls/ca.pem" "$secret" "$hosts" "$work/keys"
echo "server RSS with $hosts enrolled hosts (vitals + 60 apps each): $(rss)"

export NODE_KEY=$(tail -n 1 "$work/keys")
echo "idle distributed/read, TLS keep-alive, wrk -t2 -c$connections -d${seconds}s (client and server share the cores):"
wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/checkin.lua https://127.0.0.1:18443/api/osquery/distributed/read | \
  grep -E "requests/s|latency p|errors"
echo "the same with one connection (latency of a single agent's check-in):"
wrk -t1 -c1 -d10s -s Benchmarks/checkin.lua https://127.0.0.1:18443/api/osquery/distributed/read | grep -E "requests/s|latency p"
echo "server RSS after the check-in runs: $(rss)"
echo "server CPU seconds (user+system): $(awk '{printf "%.1f", ($14+$15)/100}' /proc/$server/stat)"
