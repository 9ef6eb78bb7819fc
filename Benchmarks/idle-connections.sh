#!/usr/bin/env bash
# Memory per agent connection: opens CONNECTIONS (default 5000) TLS connections to a `pomona serve`
# on loopback and prints the server's RSS growth per connection, idle right after the handshake and
# after one distributed/read on each. osqueryd keeps about three connections per host (spec §6.4),
# so this is most of what an enrolled host costs in memory. Asserts nothing.
#
# Usage: Benchmarks/idle-connections.sh [CONNECTIONS=5000]
# Needs: a release build (or POMONA_BINARY), curl, python3; CONNECTIONS below the fd limit.
set -euo pipefail
cd "$(dirname "$0")/.."
AGENT_PORT=18543
source Benchmarks/server.sh
machine
echo "binary: $binary"
key=$(curl -s --cacert "$work/data/tls/ca.pem" "https://localhost:$AGENT_PORT/api/osquery/enroll" \
  -d "{\"enroll_secret\":\"$secret\",\"host_identifier\":\"idle-1\",\"platform_type\":\"9\",\"host_details\":{}}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["node_key"])')
python3 Benchmarks/idle-connections.py "$AGENT_PORT" "$work/data/tls/ca.pem" "${1:-5000}" "$server" "$key"
