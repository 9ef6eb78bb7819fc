#!/usr/bin/env bash
# SIEM outage: the only output, a Splunk HEC receiver, is down for OUTAGE seconds while HOSTS
# simulated osqueryd hosts keep logging; then it comes back. Checks that the server kept answering
# the agents, that the spool took the backlog, and that once the receiver was back every event the
# server accepted reached it (at least once), with duplicates counted.
#
#   t = 0            `pomona simulate` starts (HOSTS hosts, Fleet's intervals: results and status
#                    every 10 s, 10 result lines per host and period), runs until t = 30 + OUTAGE + 30
#   t = 30           the receiver crashes: it indexes the next request, then exits without answering
#                    (so that request's events must come again: duplicates, counted)
#   t = 30 + OUTAGE  the receiver is started again on the same port
#   end of load      wait (at most 300 s) until nothing is spooled for the output, then count
#
# The receiver (Benchmarks/siem-outage-hec.py) speaks HEC's event endpoint over plain HTTP on
# loopback (the output accepts http:// URLs; TLS to outputs is tested elsewhere) and records each
# event it indexed, with the stable id Pomona puts in the envelope's `fields` (`event_id_field`)
# and a key made from the event's own content. The output uses the default delivery settings
# (retry forever, backoff 1 s doubling up to 60 s with full jitter), the spool `fsync: always`.
#
# Which counts are compared, and why:
#  - The simulator counts log *lines* it got a 2xx for. The server splits result lines into one
#    event per row; the simulator's lines are all event-format (one row each) or one-row snapshots,
#    so lines acknowledged and events received should match — unless an answer was lost and the
#    agent resent a batch the server had already spooled (then the server counts it twice, as it
#    must: it cannot tell). So the reference for "nothing lost" is the server's own `received`
#    count (pomona_pipeline_input_received_events_total), not the simulator's.
#  - The server accounts, per output, received = forwarded + filtered + throttled + dead_lettered
#    + dropped + still_spooled. With no stages, filtered and throttled are 0, so after the drain
#    every received event must be forwarded, and the receiver must hold at least that many
#    distinct event ids. Duplicates at the receiver are total copies - distinct ids (HEC has no
#    idempotency key; a kill between "indexed" and "answered" makes the sender resend). The
#    server's own duplicate counter (pomona_output_duplicates_total) counts only copies a receiver
#    recognised (Elasticsearch's 409), so it stays 0 with HEC.
#  - Independently of the server's ids and counters, Benchmarks/siem-outage-count.py checks the
#    content per host: every logger period must have all its 10 result rows and the periods must
#    run without a hole.
#
# Drain time is given on two clocks: when the events arrived at the receiver (its record has the
# arrival time), and when the server counted them forwarded (its checkpoint: in spool order, so
# it waits for the oldest batch, which may still be sleeping in its retry backoff).
#
# Prints a timeline, the counts, and ends with "VERDICT: PASS" (exit 0) or "VERDICT: FAIL: reasons"
# (exit 1): PASS when the simulator saw no error, nothing was dead-lettered or dropped, the output
# drained, the receiver has at least (received - filtered - throttled) distinct events, and no host
# period is short or missing.
#
# Usage: Benchmarks/siem-outage.sh [OUTAGE_SECONDS=180] [HOSTS=200]
# Environment: POMONA_BINARY (default .build/release/pomona), SIEM_OUTAGE_AFTER (seconds of load
# after the receiver is back, default 30), SIEM_OUTAGE_KEEP (a directory to copy the server log,
# the simulator's output, the receiver's record and a per-second timeline into).
# Needs: a release build (or POMONA_BINARY), curl, python3. Takes about OUTAGE + 2–3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
outage=${1:-180}
hosts=${2:-200}
lead=30          # load before the outage
after=${SIEM_OUTAGE_AFTER:-30}  # seconds of load after the receiver is back
log_lines=10     # the simulator's --log-lines (result lines per host per period)
drain_limit=300  # seconds to wait for the output to drain once the load stopped
AGENT_PORT=18843
hec_port=18890
hec_token=11111111-2222-3333-4444-555555555555
bench=$(mktemp -d)
record=$bench/received.tsv

start_receiver() {
  python3 Benchmarks/siem-outage-hec.py "$hec_port" "$hec_token" "$record" --id-field pomona_id 2>> "$bench/hec.log" &
  hec=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$hec_port/services/collector/health" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the fake HEC receiver did not start:" >&2; cat "$bench/hec.log" >&2; exit 1
}
hec=
sim=
start_receiver

cat > "$bench/pomona.yml" <<YAML
pipeline:
  routes:
    - name: all
      outputs: [hec]
  outputs:
    - name: hec
      type: splunk_hec
      url: http://127.0.0.1:$hec_port
      token: $hec_token
      event_id_field: pomona_id
YAML
export POMONA_SERVE_ARGS="--config $bench/pomona.yml"
source Benchmarks/server.sh
cleanup() {
  for pid in $sim $hec $server; do kill "$pid" 2>/dev/null || true; done
  wait $server 2>/dev/null || true
  if [ -n "${SIEM_OUTAGE_KEEP:-}" ]; then  # keep the logs and the receiver's record for a closer look
    mkdir -p "$SIEM_OUTAGE_KEEP" && cp "$work/server.log" "$bench"/*.tsv "$bench"/*.log "$bench"/sim.* "$bench/timeline" "$SIEM_OUTAGE_KEEP"/ 2>/dev/null || true
  fi
  rm -rf "$work" "$bench"
}
trap cleanup EXIT
admin="https://127.0.0.1:$((AGENT_PORT + 1000))"
machine
echo "binary: $binary"
echo "outage: $outage s, hosts: $hosts, load: $((lead + outage + after)) s (receiver crashes at ${lead} s, back at $((lead + outage)) s)"

metrics() { curl -sk "$admin/metrics" > "$bench/metrics"; }
metric() {  # sum of a metric's samples (from the last `metrics`) whose labels contain $2 and $3
  awk -v m="$1" -v f="$2" -v g="${3:-}" '$1 ~ "^"m"[{ ]" && index($1, f) && index($1, g) { s += $2 } END { printf "%.0f", s }' \
    "$bench/metrics"
}
outcome() { metric pomona_pipeline_events_total 'output="hec"' "outcome=\"$1\""; }
spool_du() { du -sb "$work/data/spool" | cut -f1; }
sim_progress() { grep -E '^[0-9]+ s: ' "$bench/sim.err" 2>/dev/null | tail -1 || true; }
sim_errors_now() { sim_progress | sed -nE 's/.*, ([0-9]+) errors$/\1/p'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

peak_du=0
peak_spooled_bytes=0
peak_spooled_events=0
sample() {  # reads the metrics and the spool size, keeps the peaks
  metrics
  du_now=$(spool_du)
  spooled=$(metric pomona_pipeline_spooled_events 'output="hec"')
  spooled_bytes=$(metric pomona_pipeline_spooled_bytes 'output="hec"')
  received=$(metric pomona_pipeline_input_received_events_total '')
  forwarded=$(outcome forwarded)
  printf '%s %s %s %s %s %s\n' "$(date +%T.%N | cut -c1-12)" "$received" "$forwarded" "$spooled" "$spooled_bytes" "$du_now" >> "$bench/timeline"
  [ "$du_now" -gt "$peak_du" ] && peak_du=$du_now
  [ "$spooled_bytes" -gt "$peak_spooled_bytes" ] && peak_spooled_bytes=$spooled_bytes
  [ "$spooled" -gt "$peak_spooled_events" ] && peak_spooled_events=$spooled
  return 0
}
timeline() {  # $1 = phase
  printf '%6ss  %-9s received %7s  forwarded %7s  spooled %6s events (%s)  spool dir %s  simulator: %s\n' \
    "$(since "$t0")" "$1" "$received" "$forwarded" "$spooled" "$(mib "$spooled_bytes")" "$(mib "$du_now")" "$(sim_progress)"
}

recovery_steps() {  # after the receiver's return: the first delivery counted, then the backlog's
  if [ -n "$back_at" ] && [ -z "$first_delivery_after" ] && [ "$forwarded" -gt "$forwarded_at_back" ]; then
    first_delivery_after=$(since "$back_at")
    timeline "DELIVERING"; last_print=$(since "$t0")
  fi
  # The backlog is drained once the output has forwarded as many events as the server had received
  # when the receiver came back (the output reads the spool in order).
  if [ -n "$back_at" ] && [ -z "$backlog_drained_after" ] && [ "$forwarded" -ge "$received_at_back" ]; then
    backlog_drained_after=$(since "$back_at")
    timeline "CAUGHT-UP"; last_print=$(since "$t0")
  fi
  return 0
}

echo
echo "== timeline (every 15 s and at each step; the server's counters, which advance in spool order;"
echo "   the simulator's progress as of its last 10 s report)"
load=$((lead + outage + after))
"$binary" simulate --server "https://localhost:$AGENT_PORT" --ca "$work/data/tls/ca.pem" --enroll-secret "$secret" \
  --hosts "$hosts" --duration "$load" --start-spread 10 --log-lines "$log_lines" --seed 1 > "$bench/sim.out" 2> "$bench/sim.err" &
sim=$!
t0=$(now)
phase=up
killed_at=
back_at=
errors_at_kill=
received_at_back=
spool_at_kill=
backlog_at_back=
backlog_drained_after=
first_delivery_after=
forwarded_at_back=
last_print=-15
while kill -0 "$sim" 2>/dev/null; do
  sample
  elapsed=$(since "$t0")
  if [ -z "$killed_at" ] && awk -v e="$elapsed" -v l="$lead" 'BEGIN { exit !(e >= l) }'; then
    # Crash it mid-request: it indexes the next request and dies without answering (kill -9 if no
    # request comes within 10 s).
    kill -USR1 "$hec"
    for _ in $(seq 1 100); do kill -0 "$hec" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$hec" 2>/dev/null || true; wait "$hec" 2>/dev/null || true
    killed_at=$(now); phase=down
    errors_at_kill=$(sim_errors_now); spool_at_kill=$du_now
    timeline "CRASHED"; last_print=$elapsed
  elif [ -n "$killed_at" ] && [ -z "$back_at" ] && awk -v e="$elapsed" -v l="$((lead + outage))" 'BEGIN { exit !(e >= l) }'; then
    start_receiver
    back_at=$(now); phase=back
    received_at_back=$received; backlog_at_back=$spooled; forwarded_at_back=$forwarded
    timeline "RESTARTED"; last_print=$elapsed
    echo "        during the outage: simulator errors $(sim_errors_now) (were ${errors_at_kill:-0} at the crash);" \
      "spool dir grew from $(mib "$spool_at_kill") to $(mib "$du_now"); $spooled events waiting for the output"
  fi
  recovery_steps
  if awk -v e="$elapsed" -v p="$last_print" 'BEGIN { exit !(e - p >= 15) }'; then
    timeline "$phase"; last_print=$elapsed
  fi
  sleep 1
done
wait "$sim" && sim_status=0 || sim_status=$?
sim=
load_stopped=$(now)
sample
timeline "LOAD-OFF"

# Wait for the output to drain: nothing spooled for it and no batch in flight.
drained=no
while awk -v s="$(since "$load_stopped")" -v l="$drain_limit" 'BEGIN { exit !(s < l) }'; do
  sample
  recovery_steps
  if [ "$spooled" = 0 ] && [ "$(metric pomona_output_in_flight_batches 'output="hec"')" = 0 ]; then drained=yes; break; fi
  sleep 0.5
done
drain_after_load=$(since "$load_stopped")
sample
timeline "DRAINED"
sleep 1  # the receiver records before it answers; this only lets a last answer settle

echo
echo "== simulator report (exit status $sim_status)"
cat "$bench/sim.out"
sim_errors=$(awk '$1 == "total" { print $3 }' "$bench/sim.out")
sim_errors=${sim_errors:-unknown}
read -r result_ack status_ack < <(awk '
  /^result lines:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^acknowledged/) r = $i }
  /^status lines:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^acknowledged/) s = $i }
  END { print r + 0, s + 0 }' "$bench/sim.out")

metrics
received_hec=$(outcome received)
received=$(metric pomona_pipeline_input_received_events_total '')
forwarded=$(outcome forwarded)
filtered=$(outcome filtered)
throttled=$(outcome throttled)
dead=$(outcome dead_lettered)
dropped=$(outcome dropped)
spooled=$(metric pomona_pipeline_spooled_events 'output="hec"')
server_dups=$(metric pomona_output_duplicates_total 'output="hec"')
retries=$(metric pomona_output_retries_total 'output="hec"')
refused=$(metric pomona_spool_refused_appends_total '')
deadletter_lines=$({ cat "$work/data/deadletter/"*.ndjson* 2>/dev/null || true; } | wc -l)
eval "$(python3 Benchmarks/siem-outage-count.py "$record" "$log_lines" "$back_at" "$received_at_back")"
expected=$((received - filtered - throttled))
balance=$((forwarded + filtered + throttled + dead + dropped + spooled))

echo
echo "== counts"
echo "acknowledged to agents (simulator): $result_ack result lines + $status_ack status lines = $((result_ack + status_ack)) lines" \
  "(one event each: every result line is one row)"
echo "server received: $received events (all inputs); for output hec: received $received_hec," \
  "forwarded $forwarded + filtered $filtered + throttled $throttled + dead-lettered $dead + dropped $dropped + still spooled $spooled = $balance"
echo "server: retries $retries, duplicates recognised by the receiver $server_dups (HEC cannot report any)," \
  "refused appends (spool full) $refused, dead-letter file lines $deadletter_lines"
crashed_with=$(sed -nE 's/^crashed after indexing ([0-9]+) events$/\1/p' "$bench/hec.log" | head -1)
if [ -n "$crashed_with" ]; then
  echo "the receiver crashed after indexing $crashed_with events without answering: they should come again, as duplicates"
else
  echo "the receiver got no request within 10 s of being told to crash and was killed (kill -9) instead"
fi
echo "receiver got: $total events, $unique_ids distinct ids, $duplicates duplicates;" \
  "$unique_content distinct contents (content with >1 id: $ids_per_content, id with >1 content: $contents_per_id)"
echo "content check: $hosts_seen hosts, $periods host periods, $short_periods short, $counter_gaps missing in a sequence"
echo "outage: $outage s (receiver down from $(awk -v a="$t0" -v b="$killed_at" 'BEGIN { printf "%.0f", b - a }') s" \
  "to $(awk -v a="$t0" -v b="$back_at" 'BEGIN { printf "%.0f", b - a }') s); backlog when it returned: ${backlog_at_back:-?} events"
max_backoff=$(sed -nE 's/.* retry_in_s=([0-9.]+) .*/\1/p' "$work/server.log" | sort -g | tail -1)
# Two clocks for the drain: the receiver's (when events arrived) and the server's counters (when
# deliveries were committed: in spool order, so a batch delivered while an earlier one still waits
# in its retry backoff is counted only once that one is through).
echo "after the receiver returned: first request indexed ${first_after_return:-never} s later," \
  "it held as many distinct events as the server had received by the return ($received_at_back) ${backlog_after_return:-never} s later"
echo "server side: first delivery counted ${first_delivery_after:-never} s after the return, forwarded ≥ $received_at_back" \
  "${backlog_drained_after:-never} s after it; nothing spooled ${drain_after_load} s after the load stopped (drained: $drained)"
echo "retry backoff: $(grep -c 'output failed; retrying' "$work/server.log" || true) retries logged," \
  "longest retry_in_s ${max_backoff:-none} s (retry_max_backoff 60 s by default, full jitter)"
echo "peak spool: directory $(mib "$peak_du") (du of spool/; a segment file is deleted only once wholly delivered)," \
  "$(mib "$peak_spooled_bytes") / $peak_spooled_events events spooled for the output"
echo "server: $(cpu_seconds) CPU-s, RSS $(rss_mib) MiB, peak RSS $(peak_rss_mib) MiB;" \
  "$(grep -c . "$work/server.log" || true) lines in its log (level warning)"
grep -m3 . "$work/server.log" | cut -c1-300 || true

reasons=()
[ "$sim_errors" = 0 ] || reasons+=("simulator errors: $sim_errors")
[ "$dead" = 0 ] && [ "$deadletter_lines" = 0 ] || reasons+=("dead-lettered: $dead (file lines $deadletter_lines)")
[ "$dropped" = 0 ] || reasons+=("dropped: $dropped")
[ "$drained" = yes ] || reasons+=("not drained after ${drain_limit} s: $spooled still spooled")
[ "$unique_ids" -ge "$expected" ] || reasons+=("receiver has $unique_ids distinct events, server received $expected (lost $((expected - unique_ids)))")
[ "$unique_content" -ge "$expected" ] || reasons+=("receiver has $unique_content distinct contents < $expected received")
[ "$short_periods" = 0 ] && [ "$counter_gaps" = 0 ] || reasons+=("events missing per host: $short_periods short periods, $counter_gaps gaps")
[ "$received_hec" = "$received" ] && [ "$balance" = "$received_hec" ] \
  || reasons+=("accounting: $received received, $received_hec for the output, outcomes sum to $balance")
[ "$contents_per_id" = 0 ] || reasons+=("$contents_per_id ids came with two different contents")
[ "$received" -ge $((result_ack + status_ack)) ] || reasons+=("server received $received events < $((result_ack + status_ack)) lines acknowledged")

echo
if [ ${#reasons[@]} = 0 ]; then
  echo "VERDICT: PASS — $received events received, $unique_ids delivered at least once ($duplicates duplicates)," \
    "0 dead-lettered, 0 simulator errors, $outage s outage"
  exit 0
fi
echo "VERDICT: FAIL: $(IFS=';'; echo "${reasons[*]}")"
exit 1
