#!/usr/bin/env python3
"""Writes the request bodies for Benchmarks/pipeline.sh: a /collector NDJSON body and the data part
of an osquery /log body (event-format result lines, as osqueryd sends with log_result_events=true).

Usage: pipeline_bodies.py OUT_DIR
Each event is about 600 bytes, shaped like real process_events / socket rows; hostIdentifier names
one of the enrolled hosts' uuids (so enrichment finds it), and 40 query names spread the throttle keys.
"""
import json
import random
import sys
import uuid

out = sys.argv[1]
random.seed(7)
names = [f"pack/Global/query_{i:02d}" for i in range(40)]


def row(i):
    return {
        "pid": str(1000 + i), "parent": "1", "path": "/usr/bin/python3", "cmdline": f"python3 /opt/app/worker.py --shard {i % 17} --verbose",
        "cwd": "/opt/app", "uid": "501", "gid": "20", "euid": "501", "time": str(1764460000 + i), "auid": "501",
        "sha256": "%064x" % random.getrandbits(256),
    }


def line(i, host):
    return {
        "name": names[i % len(names)], "hostIdentifier": host, "calendarTime": "Mon Nov 30 02:30:00 2026 UTC",
        "unixTime": 1764469800 + (i % 60), "epoch": 0, "counter": i, "numerics": False,
        "decorations": {"host_uuid": host, "hostname": "bench-host"}, "columns": row(i), "action": "added",
    }


# The uuids Benchmarks/enroll_hosts.py enrolls, so enrichment of /collector events finds them.
hosts = [str(uuid.UUID(int=0x4C4C4544_0000_0000_0000_000000000000 + i)).upper() for i in range(100)]
with open(f"{out}/collector.ndjson", "w") as f:
    for i in range(1600):
        f.write(json.dumps(line(i, hosts[i % len(hosts)]), separators=(",", ":")) + "\n")
with open(f"{out}/log-data.json", "w") as f:
    f.write(json.dumps([line(i, hosts[i % len(hosts)]) for i in range(1600)], separators=(",", ":")))
