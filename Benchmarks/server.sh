# Sourced by the benchmark scripts: starts a release `pomona serve` on loopback in a temporary data
# directory and defines helpers to read its CPU time and memory. Set AGENT_PORT before sourcing.
# POMONA_SERVE_ARGS adds arguments to `serve` (e.g. --config FILE).
# Provides: $binary, $work, $server (pid), $secret, cpu_seconds, rss_mib, peak_rss_mib, open_sockets, machine.

binary=${POMONA_BINARY:-.build/release/pomona}
if [ -z "${POMONA_BINARY:-}" ] && [ ! -x "$binary" ]; then swift build -c release --product pomona; fi
[ -x "$binary" ] || { echo "no pomona binary at $binary" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
secret=benchmark-enroll-secret-0123456789
POMONA_ENROLL_SECRET=$secret "$binary" serve --data-dir "$work/data" --agent-listen "127.0.0.1:$AGENT_PORT" \
  --admin-listen "127.0.0.1:$((AGENT_PORT + 1000))" --log-level warning ${POMONA_SERVE_ARGS:-} > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -sk "https://127.0.0.1:$AGENT_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sk "https://127.0.0.1:$AGENT_PORT/healthz" >/dev/null 2>&1 || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
# utime + stime of the server (fields 14 and 15; the command name "pomona" has no spaces).
cpu_seconds() { awk -v t="$ticks" '{printf "%.2f", ($14+$15)/t}' /proc/$server/stat; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$server/status; }
open_sockets() { find /proc/$server/fd -lname 'socket:*' 2>/dev/null | wc -l; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$server/status; }
machine() { echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"; }
