#!/usr/bin/env python3
"""Runs connection-level attacks on a running Pomona's agent listener, one after another, while a
normal enrolled agent checks in (config, distributed/read) in its own process; prints for each
attack the agent's latency and the server's descriptors and RSS before, at the peak and after.

Usage: agent-attacks.py PORT CA_PEM ENROLL_SECRET SERVER_PID SERVER_LOG [ATTACK ...]
Attacks (all by default, in this order): close, bomb, bodies, trickle, enroll.
Loopback only; every attack is bounded in count and time. Environment: QUIET_SECONDS (5),
SETTLE_SECONDS (5, time allowed to get back to baseline), TRICKLE_SECONDS (40; the server's
default head deadline is 30 s), CYCLES (1000).
Attack traffic comes from 127.0.0.2-127.0.0.6 (Linux routes all of 127/8 to loopback); the
normal agent connects from 127.0.0.1, which the per-address connection limit does not count.
"""
import http.client
import json
import multiprocessing
import os
import select
import socket
import ssl
import sys
import threading
import time
import uuid
import zlib

PORT, CA, SECRET, PID, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ATTACKS = sys.argv[6:] or ["close", "bomb", "bodies", "trickle", "enroll"]
QUIET = float(os.environ.get("QUIET_SECONDS", "5"))
SETTLE = float(os.environ.get("SETTLE_SECONDS", "5"))
TRICKLE = float(os.environ.get("TRICKLE_SECONDS", "40"))
CYCLES = int(os.environ.get("CYCLES", "1000"))
HOST = "127.0.0.1"


def context():
    return ssl.create_default_context(cafile=CA)


def tls(source="127.0.0.1", timeout=10):
    raw = socket.create_connection((HOST, PORT), timeout=timeout, source_address=(source, 0))
    return context().wrap_socket(raw, server_hostname="localhost")


def https(source="127.0.0.1", timeout=10):
    return http.client.HTTPSConnection(HOST, PORT, context=context(), timeout=timeout, source_address=(source, 0))


# ---------------------------------------------------------------- the server, from /proc


def descriptors():
    try:
        return len(os.listdir(f"/proc/{PID}/fd"))
    except OSError:
        return -1


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


class Sampler(threading.Thread):
    """Samples the server's descriptors and RSS every 100 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []  # (t, fds, rss)
        self.lock = threading.Lock()

    def run(self):
        while True:
            sample = (time.monotonic(), descriptors(), rss_mib())
            with self.lock:
                self.samples.append(sample)
            time.sleep(0.1)

    def window(self, start, end):
        with self.lock:
            return [s for s in self.samples if start <= s[0] <= end]


# ---------------------------------------------------------------- the normal agent


def enroll(source="127.0.0.1"):
    conn = https(source)
    identifier = str(uuid.uuid4()).upper()
    details = {
        "os_version": {"name": "macOS", "major": "14", "minor": "5", "patch": "0", "platform": "darwin", "build": "23F79"},
        "osquery_info": {"version": "5.23.1", "build_platform": "darwin"},
        "system_info": {"hostname": "normal-agent.corp.example", "uuid": identifier, "hardware_serial": "C02NORMAL1"},
    }
    body = json.dumps({"enroll_secret": SECRET, "host_identifier": identifier, "platform_type": "21", "host_details": details})
    conn.request("POST", "/api/osquery/enroll", body=body, headers={"Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer["node_key"]


def normal_agent(node_key, path, stop):
    """config and distributed/read in turn, 20 ms apart, over one keep-alive connection (a new one
    after an error, as osqueryd does); one line per request: start time, latency ms, ok."""
    conn = None
    body = json.dumps({"node_key": node_key})
    paths = ["/api/osquery/config", "/api/osquery/distributed/read"]
    with open(path, "w", buffering=1) as out:
        n = 0
        while not stop.is_set():
            start = time.monotonic()
            ok = 0
            try:
                if conn is None:
                    conn = https(timeout=10)
                conn.request("POST", paths[n % 2], body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                ok = 1 if response.status == 200 and b'"error"' not in data else 0
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            out.write(f"{start:.6f} {(time.monotonic() - start) * 1000:.3f} {ok}\n")
            n += 1
            time.sleep(0.02)


def latencies(path, start, end):
    values, errors = [], 0
    with open(path) as f:
        for line in f:
            t, ms, ok = line.split()
            if start <= float(t) <= end:
                values.append(float(ms))
                errors += ok == "0"
    values.sort()

    def pct(p):
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    return {"n": len(values), "errors": errors, "p50": pct(0.50), "p99": pct(0.99), "max": values[-1] if values else float("nan")}


# ---------------------------------------------------------------- the attacks


def run_threads(count, target):
    results = [None] * count
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, target(i))) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def attack_close():
    """CYCLES connect-send-close cycles on 4 threads: a TLS handshake, half a request head, and the
    socket dropped without close_notify (as the probe's client did); at most 30 s."""
    deadline = time.monotonic() + 30
    per_thread = CYCLES // 4

    def worker(i):
        done = failed = 0
        for _ in range(per_thread):
            if time.monotonic() > deadline:
                break
            try:
                s = tls(source="127.0.0.2")
                s.sendall(b"POST /api/v1/osquery/config HTTP/1.1\r\nHost: x\r\nContent-Le")
                s.close()
                done += 1
            except OSError:
                failed += 1
        return done, failed

    results = run_threads(4, worker)
    return f"{sum(r[0] for r in results)} cycles, {sum(r[1] for r in results)} failed to connect"


def gzip_bomb(size=1 << 30):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


def attack_bomb():
    """A gzip body of about 1 MB that inflates to 1 GiB, POSTed to /log with no node key on 4
    keep-alive connections for 8 s."""
    bomb = gzip_bomb()
    deadline = time.monotonic() + 8

    def worker(i):
        statuses = {}
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = https(source="127.0.0.3", timeout=30)
                conn.request("POST", "/api/v1/osquery/log", body=bomb,
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
                response = conn.getresponse()
                response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                statuses["error"] = statuses.get("error", 0) + 1
                if conn is not None:
                    conn.close()
                conn = None
        return statuses

    total = {}
    for statuses in run_threads(4, worker):
        for k, v in statuses.items():
            total[k] = total.get(k, 0) + v
    return f"bomb {len(bomb) / 1e6:.2f} MB -> 1 GiB; answers {dict(sorted(total.items(), key=str))}"


def attack_bodies(connections=16, declared=40 << 20, sent=36 << 20, hold=5):
    """16 connections each declaring a 40 MiB distributed/write body with no node key, sending
    36 MiB of it and holding the connection open for 5 s without finishing."""
    chunk = b" " * (1 << 20)

    def worker(i):
        try:
            s = tls(source="127.0.0.4", timeout=30)
            s.sendall(f"POST /api/v1/osquery/distributed/write HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n".encode())
            for _ in range(sent >> 20):
                s.sendall(chunk)
            time.sleep(hold)
            s.settimeout(0.5)
            try:
                answer = s.recv(200)
            except (socket.timeout, ssl.SSLWantReadError):
                answer = b""
            s.close()
            return answer.split(b"\r\n")[0].decode(errors="replace") or "no answer (still reading)"
        except OSError as error:
            return f"closed: {type(error).__name__}"

    outcomes = {}
    for outcome in run_threads(connections, worker):
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return f"{connections} x {sent >> 20} of {declared >> 20} MiB: {outcomes}"


def attack_trickle(connections=600):
    """600 connections from one address sending a request head one byte per second for
    TRICKLE_SECONDS (above the per-address limit of 512: the rest are refused)."""
    head = b"POST /api/v1/osquery/config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 4000
    sockets, refused = [], 0
    for _ in range(connections):
        try:
            sockets.append(tls(source="127.0.0.5", timeout=5))
        except OSError:
            refused += 1
    opened = len(sockets)
    closed_at = []
    start = time.monotonic()
    position = 0
    while sockets and time.monotonic() - start < TRICKLE:
        alive = []
        for s in sockets:
            try:
                readable, _, _ = select.select([s], [], [], 0)
                if readable and s.recv(1) == b"":
                    raise ConnectionError
                s.send(head[position:position + 1])
                alive.append(s)
            except (OSError, ssl.SSLError):
                closed_at.append(time.monotonic() - start)
                s.close()
        sockets = alive
        position += 1
        time.sleep(1)
    for s in sockets:
        s.close()
    closed = sorted(closed_at)
    when = f", closed by the server after {closed[0]:.0f}-{closed[-1]:.0f} s" if closed else ""
    return f"{opened} opened, {refused} refused; {len(closed)} closed by the server{when}, {len(sockets)} still open at the end"


def attack_enroll(threads=4, seconds=8):
    """Enrolls with a wrong secret as fast as 4 keep-alive connections allow, for 8 s; counts
    answers and the server log's growth."""
    log_before = os.path.getsize(LOG)
    deadline = time.monotonic() + seconds
    body = json.dumps({"enroll_secret": "wrong-secret-0000000000", "host_identifier": "attacker", "platform_type": "21"})

    def worker(i):
        answered = 0
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = https(source="127.0.0.6")
                conn.request("POST", "/api/osquery/enroll", body=body, headers={"Content-Type": "application/json"})
                conn.getresponse().read()
                answered += 1
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
        return answered

    answered = sum(run_threads(threads, worker))
    grown = os.path.getsize(LOG) - log_before
    return f"{answered} wrong-secret enrolls answered ({answered / seconds:.0f}/s); server log grew {grown} bytes"


ATTACK_FUNCTIONS = {"close": attack_close, "bomb": attack_bomb, "bodies": attack_bodies, "trickle": attack_trickle,
                    "enroll": attack_enroll}


def in_process(function, queue):
    queue.put(function())


def main():
    sampler = Sampler()
    sampler.start()
    node_key = enroll()
    path = f"/tmp/pomona-agent-attacks-{os.getpid()}.lat"
    stop = multiprocessing.Event()
    agent = multiprocessing.Process(target=normal_agent, args=(node_key, path, stop), daemon=True)
    agent.start()
    time.sleep(1)

    rows = []
    quiet_start = time.monotonic()
    time.sleep(QUIET)
    quiet_end = time.monotonic()
    quiet = latencies(path, quiet_start, quiet_end)
    base = sampler.window(quiet_start, quiet_end)
    rows.append(("quiet", quiet, base[-1][1], max(s[1] for s in base), base[-1][1], 0.0, base[-1][2], max(s[2] for s in base),
                 base[-1][2], f"{QUIET:.0f} s, no attack"))

    for name in ATTACKS:
        before_fds, before_rss = descriptors(), rss_mib()
        start = time.monotonic()
        queue = multiprocessing.Queue()
        attacker = multiprocessing.Process(target=in_process, args=(ATTACK_FUNCTIONS[name], queue))
        attacker.start()
        figures = queue.get()
        attacker.join()
        end = time.monotonic()
        during = sampler.window(start, end)
        # Back to baseline: descriptors within 5 of before; allowed up to SETTLE seconds.
        back_in = None
        while time.monotonic() - end < SETTLE:
            if abs(descriptors() - before_fds) <= 5:
                back_in = time.monotonic() - end
                break
            time.sleep(0.1)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - end)))
        after_fds, after_rss = descriptors(), rss_mib()
        rows.append((name, latencies(path, start, end), before_fds, max([s[1] for s in during] + [before_fds]), after_fds, back_in,
                     before_rss, max([s[2] for s in during] + [before_rss]), after_rss, figures))
        print(f"[{name}] {end - start:.1f} s: {figures}", flush=True)
        time.sleep(1)

    stop.set()
    agent.join(timeout=5)
    os.unlink(path)
    print()
    print("normal agent (config + distributed/read every 20 ms) and the server, per attack")
    print(f"{'attack':8} {'agent p50':>9} {'p99':>8} {'max':>8} {'p99/quiet':>9} {'reqs':>5} {'errs':>4} | "
          f"{'fds before':>10} {'peak':>5} {'after':>5} {'back in':>7} | {'RSS MiB before':>14} {'peak':>6} {'after':>6}")
    for name, lat, fb, fp, fa, back, rb, rp, ra, _ in rows:
        back_text = "-" if back is None else f"{back:.1f} s"
        ratio = lat["p99"] / quiet["p99"] if quiet["p99"] else float("nan")
        print(f"{name:8} {lat['p50']:7.2f}ms {lat['p99']:6.2f}ms {lat['max']:6.1f}ms {ratio:8.1f}x {lat['n']:5} {lat['errors']:4} | "
              f"{fb:10} {fp:5} {fa:5} {back_text:>7} | {rb:14.1f} {rp:6.1f} {ra:6.1f}")
    print("(back in: seconds after the attack until the server's descriptors were within 5 of before; '-' = not within "
          f"{SETTLE:.0f} s. after: 1 s after the attack ended, or when back)")


if __name__ == "__main__":
    main()
