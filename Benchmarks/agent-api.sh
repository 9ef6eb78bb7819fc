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
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
AGENT_PORT=18443
source Benchmarks/server.sh
rss() { echo "$(rss_mib) MiB"; }
machine
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
echo "server CPU seconds (user+system): $(cpu_seconds)"
