#!/usr/bin/env python3
"""Enrolls N fake hosts against a running Pomona over TLS (keep-alive, pinned CA) and answers
their first detail queries, so the server holds realistic vitals for each host.

Usage: enroll_hosts.py HOST:PORT CA_PEM SECRET COUNT OUT_KEYS_FILE
Prints the enrollment rate; writes one node key per line to OUT_KEYS_FILE.
"""
import http.client
import json
import ssl
import sys
import time
import uuid

address, ca, secret, count, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
host, port = address.rsplit(":", 1)
context = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection(host, int(port), context=context)


def post(path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    return json.loads(data) if data else {}


keys = []
start = time.monotonic()
for i in range(count):
    hw = str(uuid.UUID(int=0x4C4C4544_0000_0000_0000_000000000000 + i)).upper()
    name = f"mac-{i:05d}"
    details = {
        "os_version": {"name": "macOS", "major": "14", "minor": "5", "patch": "0", "platform": "darwin", "build": "23F79"},
        "osquery_info": {"version": "5.23.1", "build_platform": "darwin"},
        "system_info": {"hostname": f"{name}.corp.example", "uuid": hw, "hardware_serial": f"C02{i:07d}",
                        "computer_name": name, "cpu_brand": "Apple M2", "physical_memory": "17179869184",
                        "hardware_model": "Mac14,2", "hardware_vendor": "Apple Inc."},
    }
    answer = post("/api/osquery/enroll", {"enroll_secret": secret, "host_identifier": hw, "platform_type": "21", "host_details": details})
    key = answer["node_key"]
    keys.append(key)
    work = post("/api/osquery/distributed/read", {"node_key": key})
    results = {name: [] for name in work.get("queries", {})}
    results["fleet_detail_query_system_info"] = [details["system_info"]]
    results["fleet_detail_query_software_macos"] = [
        {"name": f"App {n}", "version": "1.0", "source": "apps", "bundle_identifier": f"com.example.app{n}",
         "installed_path": f"/Applications/App {n}.app", "last_opened_time": "1700000000"} for n in range(60)]
    post("/api/osquery/distributed/write", {"node_key": key, "queries": results, "statuses": {n: 0 for n in results}})
elapsed = time.monotonic() - start
with open(out, "w") as f:
    f.write("\n".join(keys) + "\n")
print(f"enrolled {count} hosts (enroll + detail read + write each) in {elapsed:.1f} s: {count / elapsed:.0f} hosts/s")
