"""Opens N TLS connections to a Pomona agent listener and reports the server's RSS growth per
connection: right after the handshakes, then after one distributed/read on each.
Usage: idle-connections.py PORT CA_PEM N SERVER_PID NODE_KEY"""
import json
import socket
import ssl
import sys
import time

port, ca, n, pid, key = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]


def rss_mib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024


context = ssl.create_default_context(cafile=ca)
before = rss_mib()
sockets = [context.wrap_socket(socket.create_connection(("localhost", port)), server_hostname="localhost") for _ in range(n)]
time.sleep(2)
idle = rss_mib()
print(f"{n} idle TLS connections: server RSS {before:.1f} -> {idle:.1f} MiB, {(idle - before) * 1024 / n:.1f} KB each")
body = json.dumps({"node_key": key}).encode()
request = b"POST /api/osquery/distributed/read HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(body) + body
for tls in sockets:
    tls.sendall(request)
for tls in sockets:
    tls.recv(65536)
time.sleep(2)
used = rss_mib()
print(f"after one distributed/read on each: server RSS {used:.1f} MiB, {(used - before) * 1024 / n:.1f} KB each")
