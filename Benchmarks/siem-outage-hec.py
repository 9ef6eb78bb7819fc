#!/usr/bin/env python3
"""A fake Splunk HTTP Event Collector for Benchmarks/siem-outage.sh (stdlib only, plain HTTP).

Wire format as Splunk's HEC event endpoint: POST /services/collector[/event[/1.0]] with
`Authorization: Splunk <token>`, body = JSON event objects concatenated (whitespace between them
allowed), optionally gzip; answers 200 {"text":"Success","code":0}, or Splunk's error answers
(401 code 2/3, 403 code 4, 400 code 5 "No data", 400 code 6 "Invalid data format" and 12/13 for a
missing/blank "event", each with "invalid-event-number"). GET /services/collector/health answers
code 17. As Splunk does on a bad object, the objects before it are indexed (recorded) and the rest
of the request is not.

Every indexed event becomes one line of the record file, written and flushed before the answer is
sent, so an event the receiver acknowledged is always on file (a kill -9 between the write and the
answer leaves it on file unacknowledged: the sender resends it, which shows up as a duplicate):

    <pomona event id>\t<content key>\t<sourcetype>\t<hostIdentifier>\t<name>\t<unixTime>\t<counter>\t<received at>

(name and counter are "-" for status lines; "received at" is the request's arrival, Unix seconds.)

The id is the envelope's indexed field named by --id-field (Pomona's `event_id_field`: a stable id
from the spool position, the same on every resend). The content key identifies the event by what the
agent sent, independently of Pomona's ids: the host, sourcetype, and a SHA-1 of the `event` value
re-serialised with sorted keys (so it does not depend on member order or whitespace). The simulated
osquery lines carry hostIdentifier, name, unixTime, counter, action and the row's columns (random
pids, ports), so two different events practically never share a key.

SIGUSR1 makes the receiver crash the way an indexer can: the next request with events is recorded
(indexed) and then the process exits at once, without answering. The sender cannot know the events
arrived, so it must resend them: they come back as duplicates, which the script counts. The number
of events in that request goes to stderr ("crashed after indexing N events").

Usage: siem-outage-hec.py PORT TOKEN RECORD_FILE [--id-field NAME]
"""
import argparse
import gzip
import hashlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATHS = {"/services/collector", "/services/collector/event", "/services/collector/event/1.0"}
HEALTH = {"/services/collector/health", "/services/collector/health/1.0"}


def reply(code, text, status, event_number=None):
    body = {"text": text, "code": code}
    if event_number is not None:
        body["invalid-event-number"] = event_number
    return status, json.dumps(body, separators=(",", ":")).encode()


class Collector:
    def __init__(self, token, record_path, id_field):
        self.token = token
        self.id_field = id_field
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8")
        self.decoder = json.JSONDecoder()
        self.crash_next = threading.Event()

    def line(self, envelope, now):
        event = envelope["event"]
        sourcetype = str(envelope.get("sourcetype", ""))
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha1(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        key = "%s|%s|%s" % (envelope.get("host", ""), sourcetype, digest)
        fields = envelope.get("fields")
        event_id = fields.get(self.id_field, "-") if isinstance(fields, dict) and self.id_field else "-"
        # What the script's gap check needs: which host, query and logger period the event is from.
        if isinstance(event, dict):
            summary = "%s\t%s\t%s\t%s" % (event.get("hostIdentifier", "-"), event.get("name", "-"),
                                           event.get("unixTime", "-"), event.get("counter", "-"))
        else:
            summary = "-\t-\t-\t-"
        return "%s\t%s\t%s\t%s\t%s\n" % (event_id, key, sourcetype, summary, now)

    def index(self, text):
        """Records the concatenated objects in `text` up to the first bad one; returns the answer."""
        now = "%.3f" % time.time()
        lines = []
        position, number, length = 0, 0, len(text)
        answer = reply(0, "Success", 200)
        while True:
            while position < length and text[position] in " \t\r\n":
                position += 1
            if position >= length:
                break
            try:
                envelope, position = self.decoder.raw_decode(text, position)
            except ValueError:
                answer = reply(6, "Invalid data format", 400, number)
                break
            if not isinstance(envelope, dict):
                answer = reply(6, "Invalid data format", 400, number)
                break
            if "event" not in envelope:
                answer = reply(12, "Event field is required", 400, number)
                break
            if envelope["event"] in ("", None):
                answer = reply(13, "Event field cannot be blank", 400, number)
                break
            lines.append(self.line(envelope, now))
            number += 1
        if number == 0 and answer[0] == 200:
            return reply(5, "No data", 400)
        if lines:
            with self.lock:
                self.record.write("".join(lines))
                self.record.flush()
                if self.crash_next.is_set():
                    print("crashed after indexing %d events" % len(lines), file=sys.stderr, flush=True)
                    os._exit(137)
        return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    collector = None  # set in main

    def log_message(self, format, *args):  # quiet: thousands of requests
        pass

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if "gzip" in self.headers.get("Content-Encoding", "").lower():
            body = gzip.decompress(body)
        return body

    def do_GET(self):
        if self.path in HEALTH:
            self.send(*reply(17, "HEC is healthy", 200))
        else:
            self.send(404, b'{"text":"The requested URL was not found on this server.","code":404}')

    def do_POST(self):
        body = self.read_body()  # always read it, so the keep-alive connection stays in step
        if self.path not in PATHS:
            return self.send(404, b'{"text":"The requested URL was not found on this server.","code":404}')
        authorization = self.headers.get("Authorization")
        if authorization is None:
            return self.send(*reply(2, "Token is required", 401))
        if not authorization.startswith("Splunk "):
            return self.send(*reply(3, "Invalid authorization", 401))
        if authorization[len("Splunk "):] != self.collector.token:
            return self.send(*reply(4, "Invalid token", 403))
        try:
            text = body.decode("utf-8", "surrogateescape")
        except Exception:
            return self.send(*reply(6, "Invalid data format", 400, 0))
        self.send(*self.collector.index(text))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("token")
    parser.add_argument("record")
    parser.add_argument("--id-field", default="pomona_id")
    options = parser.parse_args()
    Handler.collector = Collector(options.token, options.record, options.id_field)
    signal.signal(signal.SIGUSR1, lambda number, frame: Handler.collector.crash_next.set())
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    print("fake HEC listening on 127.0.0.1:%d" % options.port, file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
