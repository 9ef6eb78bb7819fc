#!/usr/bin/env bash
# Enrollment storm: HOSTS simulated hosts (default 10,000) all enroll within SPREAD seconds (default
# 60), then keep checking in at Fleet's default intervals until SECONDS (default 90). Prints the
# capacity report, whose "enroll" row gives the enrollment latency percentiles and errors and whose
# "last host enrolled after" line is the time to done. Asserts nothing.
#
# Usage: Benchmarks/enroll-storm.sh [HOSTS=10000] [SECONDS=90] [SPREAD=60]
#   Each host keeps its own connections (about 3); where the file-descriptor limit cannot hold
#   3 x HOSTS, pass SIM_ARGS="--connections 512" (see capacity.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec Benchmarks/capacity.sh "${1:-10000}" "${2:-90}" "${3:-60}"
