#!/usr/bin/env bash
# Capacity benchmark: runs `pomona simulate` (a whole fleet at Fleet's default intervals: distributed
# 10 s, config 60 s, logger 10 s with 10 result lines per period) against a `pomona serve` on
# loopback, then prints the simulator's report, the server's CPU seconds and RSS, and derived
# figures: server CPU-seconds per 1,000 host-minutes and hosts per core. Asserts nothing.
#
# Usage: Benchmarks/capacity.sh [HOSTS=2000] [SECONDS=120] [START_SPREAD=30]
#   SIM_ARGS (environment) adds options to `pomona simulate`, e.g. SIM_ARGS="--log-lines 2".
#   By default every simulated host keeps its own connections, one per osqueryd thread (about 3
#   per host), as real agents do; the server's open sockets in the steady state are printed. Where
#   the file-descriptor limit is too low for that (3 x HOSTS on each side), SIM_ARGS="--connections
#   512" makes all hosts share 512 connections: cheaper for the server than a real fleet.
#   Prints two costs: over the whole run (enrollment included) and in the steady state (from
#   15 s after the last host started), which is what an enrolled fleet costs day to day. The
#   simulator's second table has the steady state's own latency percentiles (the first table's
#   tails are the enrollment storm's) and the load it actually drove, in hosts at Fleet's
#   intervals; the last cost is per host of that load. PROBE_HOSTS (default 100; 0 for none) hosts
#   in a second simulator process measure latency apart from the big simulator's own queueing.
#   SIM_NICE=19 runs the big simulator at the lowest CPU priority, so the server (and the probe)
#   get the cores first, as on a machine of its own; the big simulator then drives only what the
#   cores left over allow, which the "load served" figures report.
#   SPEEDUP=0.25 (environment) runs every agent interval 4x slower: the simulator cannot drive tens of
#   thousands of hosts at Fleet's real intervals on the cores it shares with the server, so large
#   enrolled counts are run slowed down and the CPU cost is reported per host-minute at Fleet's
#   intervals (host-minutes x SPEEDUP), beside the raw figure.
# Needs: a release build (swift build -c release), or POMONA_BINARY=path/to/pomona.
# The simulator and the server share the machine's cores, so hosts per core is a floor.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-2000}
seconds=${2:-120}
spread=${3:-30}
speedup=${SPEEDUP:-1}
awk -v s="$spread" -v d="$seconds" 'BEGIN { exit !(s < d) }' || { echo "START_SPREAD must be below SECONDS" >&2; exit 1; }
AGENT_PORT=18543
source Benchmarks/server.sh
cpu() { cpu_seconds; }
rss() { rss_mib; }
hwm() { peak_rss_mib; }
machine
echo "binary: $binary"
echo "simulating $hosts hosts for ${seconds}s (start spread ${spread}s), Fleet's default intervals divided by speed-up $speedup"
echo "server RSS at start: $(rss) MiB"
cpu_before=$(cpu)
# Steady state: from 15 s after the last host started to the end, every host is enrolled and
# only checks in, so this window prices hosts without the one-time enrollment.
settle=$((spread + 15))
TIMEFORMAT='simulator process: %R s wall, %U s user, %S s system CPU'
# A second, small simulator (PROBE_HOSTS hosts, default 100, at Fleet's real intervals, in its own
# process) joins once the fleet has started, so its steady state covers the same window. Its
# latencies are what a host sees from this server under the fleet's load, without the queueing
# inside the big simulator, which shares the cores and lags once it is busy (at 2x and more its
# own delays dominated the tails it measured).
probe_hosts=${PROBE_HOSTS:-100}
# Each simulated host connects from its own loopback address (all of 127/8 is local on Linux), as
# a real fleet comes from many addresses: from one address, every connect() searched that
# address's ephemeral ports, which cost the machine a quarter of its CPU in enrollment storms.
source_args="--source-addresses 127.1.0.0/16"
case " ${SIM_ARGS:-} " in *" --connections "*) source_args="" ;; esac
if [ "$probe_hosts" -gt 0 ]; then
  ( sleep "$spread"; "$binary" simulate --server https://localhost:18543 --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
      --hosts "$probe_hosts" --duration $((seconds - spread)) --start-spread 1 --seed 2 --source-addresses 127.2.0.0/16 \
      > "$work/probe.txt" 2>&1 ) &
  probe=$!
fi
( sleep "$settle"; cpu > "$work/cpu-steady-start"; open_sockets > "$work/sockets-steady"; rss > "$work/rss-steady" ) &
sampler=$!
time nice -n "${SIM_NICE:-0}" "$binary" simulate --server https://localhost:18543 --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
  --hosts "$hosts" --duration "$seconds" --start-spread "$spread" --speedup "$speedup" --seed 1 $source_args ${SIM_ARGS:-} \
  | tee "$work/simulator.txt"
cpu_after=$(cpu)
wait "$sampler"
if [ "$probe_hosts" -gt 0 ]; then
  wait "$probe" || true
  echo
  echo "probe ($probe_hosts hosts at Fleet's intervals in a separate simulator process), its steady state:"
  sed -n '/^steady state:/,/^steady load:/p' "$work/probe.txt" | sed '$d'
fi
cpu_steady_start=$(cat "$work/cpu-steady-start" 2>/dev/null || echo "")
echo "server open sockets when the steady state began: $(cat "$work/sockets-steady" 2>/dev/null || echo ?), RSS then $(cat "$work/rss-steady" 2>/dev/null || echo ?) MiB"

echo
echo "server CPU seconds during the run (user+system): $(awk -v a="$cpu_after" -v b="$cpu_before" 'BEGIN {printf "%.2f", a-b}')"
echo "server RSS after the run: $(rss) MiB (peak $(hwm) MiB)"
# Host i starts uniformly within the spread, so on average a host is online for SECONDS - SPREAD/2.
awk -v a="$cpu_after" -v b="$cpu_before" -v h="$hosts" -v d="$seconds" -v s="$spread" -v k="$speedup" 'BEGIN {
  cpu = a - b; hostMinutes = h * (d - s / 2) / 60 * k
  printf "host-minutes simulated at Fleet'"'"'s intervals (x speed-up %s): %.0f\n", k, hostMinutes
  if (cpu <= 0) { print "server CPU too small to measure; run longer or with more hosts"; exit }
  perThousand = cpu / hostMinutes * 1000
  printf "server CPU-seconds per 1,000 host-minutes: %.2f\n", perThousand
  # One core supplies 60 CPU-seconds per minute; each host needs cpu/hostMinutes of them per minute.
  printf "hosts per core at this load: %.0f\n", 60 / (cpu / hostMinutes)
}'
if [ -n "$cpu_steady_start" ] && [ "$settle" -lt "$seconds" ]; then
  awk -v a="$cpu_after" -v b="$cpu_steady_start" -v h="$hosts" -v d="$seconds" -v w="$settle" -v k="$speedup" 'BEGIN {
    cpu = a - b; hostMinutes = h * (d - w) / 60 * k
    printf "steady state (all hosts enrolled, last %d s): server CPU %.2f s for %.0f host-minutes\n", d - w, cpu, hostMinutes
    if (cpu <= 0) exit
    printf "steady-state server CPU-seconds per 1,000 host-minutes: %.2f\n", cpu / hostMinutes * 1000
    printf "steady-state hosts per core: %.0f\n", 60 / (cpu / hostMinutes)
  }'
  # The same cost per host of the load actually served: the simulator's own steady-state window
  # reports its distributed reads as a number of hosts at Fleet's 10 s interval, which falls short
  # of HOSTS x SPEEDUP when the simulator (sharing the cores) cannot keep up. Both are rates, so
  # the two windows (the simulator's starts 15 s after the last enrollment) need not match exactly.
  equivalents=$(sed -n 's/^steady load: as many distributed reads as \([0-9]*\) hosts.*/\1/p' "$work/simulator.txt")
  # The probe's hosts are load on the server too.
  probe_equivalents=$(sed -n 's/^steady load: as many distributed reads as \([0-9]*\) hosts.*/\1/p' "$work/probe.txt" 2>/dev/null || true)
  if [ -n "$equivalents" ] && [ -n "$probe_equivalents" ]; then equivalents=$((equivalents + probe_equivalents)); fi
  if [ -n "$equivalents" ]; then
    awk -v a="$cpu_after" -v b="$cpu_steady_start" -v d="$seconds" -v w="$settle" -v e="$equivalents" 'BEGIN {
      cores = (a - b) / (d - w)
      printf "steady state, load served (fleet and probe): %d hosts at Fleet'"'"'s intervals; server %.3f cores busy\n", e, cores
      if (cores <= 0 || e <= 0) exit
      printf "steady-state server CPU-seconds per 1,000 host-minutes (load served): %.2f\n", cores * 60 / e * 1000
      printf "steady-state hosts per core (load served): %.0f\n", e / cores
    }'
  fi
fi
