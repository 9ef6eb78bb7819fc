#!/usr/bin/env bash
# Capacity benchmark: runs `pomona simulate` (a whole fleet at Fleet's default intervals: distributed
# 10 s, config 60 s, logger 10 s with 10 result lines per period) against a `pomona serve` on
# loopback, then prints the simulator's report, the server's CPU seconds and RSS, and derived
# figures: server CPU-seconds per 1,000 host-minutes and hosts per core. Asserts nothing.
#
# Usage: Benchmarks/capacity.sh [HOSTS=2000] [SECONDS=120] [START_SPREAD=30]
# Needs: a release build (swift build -c release), or POMONA_BINARY=path/to/pomona.
# The simulator and the server share the machine's cores, so hosts per core is a floor.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-2000}
seconds=${2:-120}
spread=${3:-30}
binary=${POMONA_BINARY:-.build/release/pomona}
if [ -z "${POMONA_BINARY:-}" ] && [ ! -x "$binary" ]; then swift build -c release --product pomona; fi
[ -x "$binary" ] || { echo "no pomona binary at $binary" >&2; exit 1; }
awk -v s="$spread" -v d="$seconds" 'BEGIN { exit !(s < d) }' || { echo "START_SPREAD must be below SECONDS" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
secret=benchmark-enroll-secret-0123456789
POMONA_ENROLL_SECRET=$secret "$binary" serve --data-dir "$work/data" --agent-listen 127.0.0.1:18543 \
  --admin-listen 127.0.0.1:19543 --log-level warning > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -sk https://127.0.0.1:18543/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sk https://127.0.0.1:18543/healthz >/dev/null 2>&1 || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
# utime + stime of the server (fields 14 and 15; the command name "pomona" has no spaces).
cpu() { awk -v t="$ticks" '{printf "%.2f", ($14+$15)/t}' /proc/$server/stat; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$server/status; }
hwm() { awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$server/status; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
echo "binary: $binary"
echo "simulating $hosts hosts for ${seconds}s (start spread ${spread}s), Fleet's default intervals"
echo "server RSS at start: $(rss) MiB"
cpu_before=$(cpu)
TIMEFORMAT='simulator process: %R s wall, %U s user, %S s system CPU'
time "$binary" simulate --server https://localhost:18543 --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
  --hosts "$hosts" --duration "$seconds" --start-spread "$spread" --seed 1
cpu_after=$(cpu)

echo
echo "server CPU seconds during the run (user+system): $(awk -v a="$cpu_after" -v b="$cpu_before" 'BEGIN {printf "%.2f", a-b}')"
echo "server RSS after the run: $(rss) MiB (peak $(hwm) MiB)"
# Host i starts uniformly within the spread, so on average a host is online for SECONDS - SPREAD/2.
awk -v a="$cpu_after" -v b="$cpu_before" -v h="$hosts" -v d="$seconds" -v s="$spread" 'BEGIN {
  cpu = a - b; hostMinutes = h * (d - s / 2) / 60
  printf "host-minutes simulated: %.0f\n", hostMinutes
  if (cpu <= 0) { print "server CPU too small to measure; run longer or with more hosts"; exit }
  perThousand = cpu / hostMinutes * 1000
  printf "server CPU-seconds per 1,000 host-minutes: %.2f\n", perThousand
  # One core supplies 60 CPU-seconds per minute; each host needs cpu/hostMinutes of them per minute.
  printf "hosts per core at this load: %.0f\n", 60 / (cpu / hostMinutes)
}'
