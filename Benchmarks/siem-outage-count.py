#!/usr/bin/env python3
"""Counts what the fake HEC receiver of Benchmarks/siem-outage.sh recorded (siem-outage-hec.py's
record file, one line per event received, resends included) and prints shell assignments:

  total            events received, every copy
  unique_ids       distinct Pomona event ids (`event_id_field`: the spool position, the same on a resend)
  duplicates       total - unique_ids: copies of an event the receiver already had
  unique_content   distinct content keys (host, sourcetype, hash of the event as the agent sent it)
  ids_per_content  content keys carried by more than one id: the same line spooled twice (an agent
                   resending a batch whose answer it never got), or two identical rows
  contents_per_id  ids that came with different content (must be 0: an id names one event)
  hosts_seen       hosts seen
  periods          (host, logger period) groups of result events
  short_periods    periods with fewer than LOG_LINES distinct result events: rows lost from a batch
  counter_gaps     logger periods missing in the middle of a host's sequence (the `counter` of its
                   pack/Global/process_events rows must run 0, 1, 2 … without a hole): whole batches lost

With RETURNED_AT (Unix seconds the receiver came back) and BACKLOG (events the server had received
by then) it also prints, from the receiver's own clock:

  first_after_return    seconds from the return to the first request indexed after it
  backlog_after_return  seconds from the return until the receiver held BACKLOG distinct events
                        (empty if it never did)

The simulator sends each host's LOG_LINES result lines of one logger period (all with the period's
unixTime) in one POST, split by Pomona into one event per row; a batch is spooled whole or not at all.
So a lost event shows up as a short period, a lost batch as a counter gap (or, at the very end of a
host's run, only in the totals, which the script compares with the server's count).

Usage: siem-outage-count.py RECORD_FILE LOG_LINES [RETURNED_AT BACKLOG]
"""
import collections
import sys


def main():
    record, log_lines = sys.argv[1], int(sys.argv[2])
    returned_at = float(sys.argv[3]) if len(sys.argv) > 4 else None
    backlog = int(sys.argv[4]) if len(sys.argv) > 4 else None
    first_after_return = None
    backlog_after_return = None
    total = 0
    content_by_id = {}
    contents_per_id = 0
    ids_by_content = collections.defaultdict(set)
    period_events = collections.defaultdict(set)  # (host, unixTime) -> content keys
    counters = collections.defaultdict(set)  # host -> counters of process_events rows
    with open(record, encoding="utf-8", errors="surrogateescape") as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 8:
                continue  # a line torn by kill -9 mid-write (the write is one flush; not seen so far)
            event_id, key, sourcetype, host, name, unix_time, counter, received_at = fields
            total += 1
            if returned_at is not None and float(received_at) >= returned_at:
                if first_after_return is None:
                    first_after_return = float(received_at) - returned_at
                if backlog_after_return is None and event_id not in content_by_id and len(content_by_id) + 1 >= backlog:
                    backlog_after_return = float(received_at) - returned_at
            previous = content_by_id.setdefault(event_id, key)
            if previous != key:
                contents_per_id += 1
            ids_by_content[key].add(event_id)
            if sourcetype == "osquery:result":
                period_events[(host, unix_time)].add(key)
                if name == "pack/Global/process_events":
                    counters[host].add(int(counter))
    short = sum(1 for keys in period_events.values() if len(keys) < log_lines)
    gaps = sum(max(seen) + 1 - len(seen) for seen in counters.values() if seen)
    print("total=%d" % total)
    print("unique_ids=%d" % len(content_by_id))
    print("duplicates=%d" % (total - len(content_by_id)))
    print("unique_content=%d" % len(ids_by_content))
    print("ids_per_content=%d" % sum(1 for ids in ids_by_content.values() if len(ids) > 1))
    print("contents_per_id=%d" % contents_per_id)
    print("hosts_seen=%d" % len({host for host, _ in period_events}))
    print("periods=%d" % len(period_events))
    print("short_periods=%d" % short)
    print("counter_gaps=%d" % gaps)
    if returned_at is not None:
        print("first_after_return=%s" % ("" if first_after_return is None else "%.1f" % first_after_return))
        print("backlog_after_return=%s" % ("" if backlog_after_return is None else "%.1f" % backlog_after_return))


if __name__ == "__main__":
    main()
