#!/usr/bin/env python3
"""Live-query client for Benchmarks/live-query.sh: starts campaigns over Pomona's admin API and
follows their Server-Sent Event streams, timing every event on arrival at this client.

  live-query-stream.py all  --admin URL --token T [--timeout S]
      One campaign on all hosts. Prints the time from POST /queries/run until 95% and 100% of the
      hosts online at the start had answered (from the per-host `result` events) and until `done`.
  live-query-stream.py many --admin URL --token T --campaigns N [--timeout S]
      N single-host campaigns on N distinct online hosts, all POSTed at once (one thread and one
      connection each), each followed on its own stream. Prints how many were created, finished
      and timed out, the time until all finished and the per-campaign POST -> done percentiles.

Every wait is bounded by --timeout (seconds from the first POST): a stream still open then is
reported as timed out, never waited on. Exit status 0 when every campaign ended with `done`,
3 when some timed out, 1 on a setup error. Standard library only (http.client + ssl).
"""
import argparse
import http.client
import json
import math
import ssl
import sys
import threading
import time
import urllib.parse

SQL_ALL = "SELECT version FROM osquery_info;"
SQL_ONE = "SELECT * FROM osquery_info;"


class Admin:
    """The admin API on loopback (its certificate is the server's own CA, so it is not verified)."""

    def __init__(self, url, token):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.token = token
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def connection(self, timeout):
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=max(timeout, 0.1))

    def headers(self):
        return {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}

    def call(self, method, path, body=None, timeout=30.0):
        """(status, decoded JSON or the raw text) of one request on a fresh connection."""
        conn = self.connection(timeout)
        try:
            conn.request(method, "/api/v1/fleet" + path, body=None if body is None else json.dumps(body), headers=self.headers())
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text
        finally:
            conn.close()

    def run(self, selected, sql, timeout):
        """POSTs a campaign; returns (campaign, None) or (None, error text)."""
        status, body = self.call("POST", "/queries/run", {"query": sql, "selected": selected}, timeout)
        if status == 200 and isinstance(body, dict) and "campaign" in body:
            return body["campaign"], None
        return None, "HTTP %d: %s" % (status, str(body)[:200])

    def follow(self, campaign_id, deadline, on_event):
        """Reads the campaign's stream until `done` (returns True) or the deadline (returns False).
        on_event(name, data, arrival) is called for every event, arrival = time.monotonic()."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        conn = self.connection(remaining)
        try:
            conn.request("GET", "/api/v1/fleet/queries/run/%d/stream" % campaign_id, headers=self.headers())
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError("stream of campaign %d: HTTP %d %s" % (campaign_id, response.status, response.read()[:200]))
            pending = b""
            name, data = None, []
            while True:
                # The socket timeout is the time left, so a silent stream ends at the deadline.
                chunk = response.read1(65536)
                arrival = time.monotonic()
                if not chunk:
                    return False  # closed without `done`
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.rstrip(b"\r").decode("utf-8", "replace")
                    if line == "":
                        if name is not None or data:
                            on_event(name or "message", "\n".join(data), arrival)
                            if name == "done":
                                on_event("closed", "yes" if self.ends(conn, response) else "no", arrival)
                                return True
                        name, data = None, []
                    elif line.startswith(":"):
                        continue  # comment (keep-alive)
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                if time.monotonic() >= deadline:
                    return False
        except (TimeoutError, OSError):
            return False  # the deadline passed while waiting for bytes (socket timeout)
        finally:
            conn.close()


    @staticmethod
    def ends(conn, response):
        """Whether the server ends the response within 2 s of `done` (a client such as curl waits for that)."""
        try:
            conn.sock.settimeout(2)
            while response.read1(65536):
                pass
            return True
        except (TimeoutError, OSError, http.client.HTTPException):
            return False


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def run_all(admin, timeout):
    t0 = time.monotonic()
    deadline = t0 + timeout
    campaign, error = admin.run({"all": True}, SQL_ALL, min(30, timeout))
    created = time.monotonic()
    if campaign is None:
        print("campaign not created: " + error)
        return 1
    cid = campaign["id"]
    metrics = campaign.get("metrics", {})
    online, total = metrics.get("online_hosts", 0), metrics.get("total_hosts", 0)
    arrivals = {}  # host id -> first arrival
    errors = 0
    done = {}

    def on_event(name, data, arrival):
        nonlocal errors
        if name == "result":
            event = json.loads(data)
            host = event.get("host_id")
            if host not in arrivals:
                arrivals[host] = arrival - t0
                if event.get("error") is not None:
                    errors += 1
        elif name == "done":
            done.update(json.loads(data))
            done["at"] = arrival - t0
        elif name == "closed":
            done["closed"] = data

    finished = admin.follow(cid, deadline, on_event)
    times = sorted(arrivals.values())
    print("campaign %d: %d hosts targeted, %d online when it started; POST took %.2f s" % (cid, total, online, created - t0))
    print("answers received on the stream: %d (%d with an error)" % (len(times), errors))
    for fraction in (0.5, 0.95, 1.0):
        need = max(1, math.ceil(fraction * online))
        label = "time until %d%% of online hosts answered (%d of %d)" % (round(fraction * 100), need, online)
        if len(times) >= need:
            print("%s: %.2f s" % (label, times[need - 1]))
        else:
            print("%s: not reached (%d answers)" % (label, len(times)))
    if finished:
        print("time to done (POST -> SSE done): %.2f s, reason %s, %s" % (done["at"], done.get("reason"), done.get("summary")))
        print("server ended the stream after done: %s" % done.get("closed", "?"))
        return 0
    print("TIMED OUT: no `done` within %.0f s of the POST (%d answers so far)" % (timeout, len(times)))
    return 3


def online_hosts(admin, wanted):
    """Ids of the first `wanted` online hosts, by id."""
    ids, page = [], 0
    while len(ids) < wanted:
        status, body = admin.call("GET", "/hosts?order_key=id&per_page=500&page=%d" % page)
        if status != 200:
            raise RuntimeError("GET /hosts: HTTP %d %s" % (status, str(body)[:200]))
        hosts = body.get("hosts", [])
        if not hosts:
            break
        ids += [h["id"] for h in hosts if h.get("status") == "online"]
        page += 1
    return ids[:wanted]


def run_many(admin, wanted, timeout):
    targets = online_hosts(admin, wanted)
    if len(targets) < wanted:
        print("only %d online hosts for %d campaigns" % (len(targets), wanted))
    if not targets:
        return 1
    start = threading.Barrier(len(targets) + 1)
    t0 = [0.0]
    outcomes = [dict() for _ in targets]
    deadline = [0.0]

    def campaign_on(index, host):
        outcome = outcomes[index]
        start.wait()
        campaign, error = admin.run({"hosts": [host]}, SQL_ONE, min(30, max(deadline[0] - time.monotonic(), 0.1)))
        outcome["created"] = time.monotonic() - t0[0]
        if campaign is None:
            outcome["error"] = error
            return
        outcome["id"] = campaign["id"]
        outcome["results"] = 0

        def on_event(name, data, arrival):
            if name == "result":
                outcome["results"] += 1
            elif name == "done":
                outcome["reason"] = json.loads(data).get("reason")
                outcome["done"] = arrival - t0[0]
            elif name == "closed":
                outcome["closed"] = data == "yes"

        try:
            outcome["finished"] = admin.follow(campaign["id"], deadline[0], on_event)
        except Exception as exc:  # reported, never raised past the thread
            outcome["stream_error"] = str(exc)

    threads = [threading.Thread(target=campaign_on, args=(i, h), daemon=True) for i, h in enumerate(targets)]
    for thread in threads:
        thread.start()
    t0[0] = time.monotonic()
    deadline[0] = t0[0] + timeout
    start.wait()
    for thread in threads:
        thread.join(max(0.0, deadline[0] + 5 - time.monotonic()))
    elapsed = time.monotonic() - t0[0]

    created = [o for o in outcomes if "id" in o]
    failed = [o for o in outcomes if "error" in o]
    finished = [o for o in outcomes if "done" in o]
    stream_errors = [o for o in outcomes if "stream_error" in o]
    timed_out = [o for o in created if "done" not in o and "stream_error" not in o]
    reasons = {}
    for o in finished:
        reasons[o["reason"]] = reasons.get(o["reason"], 0) + 1
    print("campaigns: %d requested on %d online hosts (one host each)" % (wanted, len(targets)))
    if created:
        print("created: %d, all POSTs answered %.2f s after the first was sent" % (len(created), max(o["created"] for o in created)))
    else:
        print("created: 0")
    if failed:
        print("not created: %d (first error: %s)" % (len(failed), failed[0]["error"]))
    print("finished (stream sent done): %d; reasons: %s" % (
        len(finished), ", ".join("%s %d" % kv for kv in sorted(reasons.items())) or "none"))
    if finished:
        print("streams the server ended within 2 s of done: %d of %d" % (sum(1 for o in finished if o.get("closed")), len(finished)))
    if stream_errors:
        print("stream errors: %d (first: %s)" % (len(stream_errors), stream_errors[0]["stream_error"]))
    print("timed out (no done within %.0f s): %d" % (timeout, len(timed_out)))
    print("answers received on the streams: %d" % sum(o.get("results", 0) for o in created))
    if finished:
        dones = [o["done"] for o in finished]
        per_campaign = [o["done"] - o["created"] for o in finished]
        if len(finished) == len(targets):
            print("time until all %d finished (first POST -> last done): %.2f s" % (len(finished), max(dones)))
        else:
            print("NOT all finished: %d of %d within %.1f s; last done at %.2f s" % (len(finished), len(targets), elapsed, max(dones)))
        print("per campaign, POST answered -> done: p50 %.2f s, p90 %.2f s, max %.2f s" % (
            percentile(per_campaign, 0.5), percentile(per_campaign, 0.9), max(per_campaign)))
    return 0 if len(finished) == len(targets) else 3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["all", "many"])
    parser.add_argument("--admin", required=True, help="admin listener, https://127.0.0.1:PORT")
    parser.add_argument("--token", required=True)
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds from the first POST")
    args = parser.parse_args()
    admin = Admin(args.admin, args.token)
    try:
        code = run_all(admin, args.timeout) if args.mode == "all" else run_many(admin, args.campaigns, args.timeout)
    except Exception as exc:
        print("live-query-stream: %s" % exc)
        code = 1
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
