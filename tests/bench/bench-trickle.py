#!/usr/bin/env python3
"""bench-trickle.py -- how long /v1/health waits while one address trickles.

Usage: bench-trickle.py FRONTLINE [N]

Starts frontline serve (SQLite, loopback) and opens N connections (default
1,000, serve's default --max-connections) from 127.0.0.1 that each send a
request line and then one header line every 20 s, never the blank line
(every byte resets libmicrohttpd's idle timeout). A client on 127.0.0.2
then asks for /v1/health; the table gives how long it waited and how many
of the trickling connections serve had closed by then. Two runs: the
defaults (the per-address limit refuses most of them at once) and
--max-per-address N (the header deadline alone). Before the deadlines the
answer took over 130 s (issue 18).
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

TOKEN = "bench-trickle-token-0123456789"


def run(frontline, n, extra):
    tmp = tempfile.mkdtemp(prefix="frontline-trickle.")
    port_file = os.path.join(tmp, "port")
    env = dict(os.environ, FRONTLINE_SERVE_TOKEN=TOKEN, HOME=tmp)
    serve = subprocess.Popen([frontline, "--db", os.path.join(tmp, "t.db"), "serve",
                              "--listen", "127.0.0.1:0", "--port-file", port_file] + extra,
                             env=env, stderr=open(os.path.join(tmp, "serve.log"), "w"))
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        port = int(open(port_file).read())
        conns = []
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            conns.append(s)
        time.sleep(0.5)
        for s in conns:
            try:
                s.send(b"GET /v1/health HTTP/1.1\r\n")
            except OSError:
                pass
        t0 = time.time()
        h = socket.create_connection(("127.0.0.1", port), timeout=300,
                                     source_address=("127.0.0.2", 0))
        h.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        h.settimeout(0.5)
        got, trickled = b"", time.time()
        while b'"status"' not in got and time.time() - t0 < 300:
            try:
                d = h.recv(4096)
                if not d:
                    break
                got += d
            except socket.timeout:
                pass
            if time.time() - trickled >= 20:
                trickled = time.time()
                for s in conns:
                    try:
                        s.send(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
        waited = time.time() - t0
        closed = 0
        for s in conns:
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            s.close()
        status = got.split(b"\r\n", 1)[0].decode() if got else "no answer"
        return waited, status, closed
    finally:
        serve.terminate()
        serve.wait()
        subprocess.run(["rm", "-rf", tmp])


def main():
    frontline = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000))
    print("| serve options          | /v1/health answered after | answer | trickling connections closed |")
    print("|------------------------|---------------------------|--------|------------------------------|")
    for extra in ([], ["--max-per-address", str(n)]):
        waited, status, closed = run(frontline, n, extra)
        answer = status.split(" ")[1] if " " in status else status
        print("| %-22s | %23.2f s | %-6s | %28s |" % (" ".join(extra) or "(defaults)", waited,
                                                    answer, "%d of %d" % (closed, n)))


if __name__ == "__main__":
    main()
