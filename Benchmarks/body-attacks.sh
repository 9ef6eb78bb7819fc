#!/usr/bin/env bash
# Attacks on agent bodies and enroll (issue 13, items 2 and 5): gzip bombs on /log with and without
# a header key, and a wrong-secret enroll flood, each on 4 connections. Prints a normal agent's
# /config latency and the server's RSS and sockets before, during and after each, and the warning
# lines the server wrote. Asserts nothing.
#
# Usage: Benchmarks/body-attacks.sh [SECONDS=8]
#   POMONA_BINARY=.build/debug/pomona to measure a debug build (figures are then not comparable
#   with the release figures in RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
AGENT_PORT=18643
source Benchmarks/server.sh
machine
python3 Benchmarks/enroll_hosts.py localhost:$AGENT_PORT "$work/data/tls/ca.pem" "$secret" 1 "$work/keys"
python3 Benchmarks/body_attacks.py localhost:$AGENT_PORT "$work/data/tls/ca.pem" "$(tail -n 1 "$work/keys")" "$server" \
  "$work/server.log" "${1:-8}"
