#!/usr/bin/env python3
"""Attacks on agent request bodies and enroll, against a running Pomona: a normal agent's /config
latency, and the server's descriptors and RSS, before, during and after each. Prints figures;
asserts nothing.

Usage: body_attacks.py HOST:PORT CA_PEM NODE_KEY SERVER_PID SERVER_LOG [SECONDS=8]
Attacks (each SECONDS long, on 4 connections):
  bomb-no-key     gzip /log of ~1 MB that inflates to 1 GiB, no node key anywhere
  bomb-bad-header the same with "Authorization: NodeKey <unknown>" (refused before inflating)
  enroll-flood    wrong-secret enrolls as fast as 4 connections go (counts warning lines written)
"""
import http.client
import os
import ssl
import sys
import threading
import time
import zlib

address, ca, node_key, pid, server_log = sys.argv[1:6]
seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 8.0
host, port = address.rsplit(":", 1)
context = ssl.create_default_context(cafile=ca)


def connect():
    return http.client.HTTPSConnection(host, int(port), context=context, timeout=120)


def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def sockets():
    fds = f"/proc/{pid}/fd"
    return sum(1 for fd in os.listdir(fds) if os.readlink(os.path.join(fds, fd)).startswith("socket:"))


def warning_lines():
    with open(server_log, errors="replace") as f:
        return sum(1 for line in f if "warning" in line)


def bomb(mebibytes):
    """A gzip stream of `mebibytes` MiB of spaces (a gzip member: wbits 31)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(mebibytes)]
    parts.append(compressor.flush())
    return b"".join(parts)


def normal_agent(stop, latencies):
    """One agent fetching its config on a keep-alive connection, as fast as it is answered."""
    conn = connect()
    body = '{"node_key":"%s"}' % node_key
    while not stop.is_set():
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/osquery/config", body=body, headers={"Content-Type": "application/json"})
            conn.getresponse().read()
            latencies.append((time.perf_counter() - start) * 1000)
        except Exception:
            conn.close()
            conn = connect()
        time.sleep(0.005)


def attacker(stop, path, body, headers, answers):
    conn = connect()
    while not stop.is_set():
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            answers[response.status] = answers.get(response.status, 0) + 1
        except Exception as error:
            answers[type(error).__name__] = answers.get(type(error).__name__, 0) + 1
            conn.close()
            conn = connect()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def phase(name, attack=None):
    latencies, answers, stop = [], {}, threading.Event()
    threads = [threading.Thread(target=normal_agent, args=(stop, latencies))]
    if attack:
        threads += [threading.Thread(target=attacker, args=(stop, *attack, answers)) for _ in range(4)]
    warnings_before = warning_lines()
    for t in threads:
        t.start()
    peak_rss, peak_sockets = 0.0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak_rss, peak_sockets = max(peak_rss, rss_mib()), max(peak_sockets, sockets())
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(1)
    print(f"{name:16} config p50 {percentile(latencies, 0.5):7.2f} ms  p99 {percentile(latencies, 0.99):8.2f} ms  "
          f"max {max(latencies, default=float('nan')):8.2f} ms  ({len(latencies)} requests) | server peak RSS {peak_rss:6.1f} MiB, "
          f"peak sockets {peak_sockets:3d}; 1 s after: RSS {rss_mib():6.1f} MiB, sockets {sockets():3d} | "
          f"warning lines written {warning_lines() - warnings_before} | attack answers {answers}")


compressed = bomb(1024)
print(f"bomb: {len(compressed)} bytes of gzip, 1 GiB inflated; each phase {seconds:.0f} s")
gzip_headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
phase("quiet")
phase("bomb-no-key", ("/api/osquery/log", compressed, gzip_headers))
phase("after")
phase("bomb-bad-header", ("/api/osquery/log", compressed, dict(gzip_headers, Authorization="NodeKey not-a-key")))
phase("after")
phase("enroll-flood", ("/api/osquery/enroll", b'{"enroll_secret":"wrong-secret","host_identifier":"x"}', {"Content-Type": "application/json"}))
phase("after")
