#!/usr/bin/env bash
# Connection-level attacks on the agent listener, one after another, against a `pomona serve` on
# loopback: connect-send-close cycles, a gzip bomb on /log without node key, many connections
# holding large unauthenticated bodies, trickled request heads, a wrong-secret enroll flood.
# For each it prints a normal enrolled agent's latency (config + distributed/read every 20 ms, in
# its own process) and the server's descriptors and RSS (from /proc) before, at the peak and
# after. Asserts nothing. About 2 minutes.
#
# Usage: Benchmarks/agent-attacks.sh [ATTACK ...]   (close bomb bodies trickle enroll; default all)
# Needs: a release build (or POMONA_BINARY, e.g. .build/debug/pomona), curl, python3, Linux (the
# attacks come from 127.0.0.2-6). Environment: see Benchmarks/agent-attacks.py.
set -euo pipefail
cd "$(dirname "$0")/.."
AGENT_PORT=${AGENT_PORT:-18743}
source Benchmarks/server.sh
machine
echo "binary: $binary"
python3 Benchmarks/agent-attacks.py "$AGENT_PORT" "$work/data/tls/ca.pem" "$secret" "$server" "$work/server.log" "$@"
