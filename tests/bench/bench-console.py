#!/usr/bin/env python3
"""bench-console.py -- what the console costs on a terminal (make bench).

    bench-console.py FRONTLINE SRCDIR

Runs `frontline console` on a pseudo-terminal (160x45, TERM=xterm-256color)
and measures:
  1. time to first frame: from exec to the first screen holding the queue,
     on an empty store and on a store of 1,000 live conversations;
  2. redraw cost per frame with 1,000 live conversations (the console's own
     count, FRONTLINE_CONSOLE_STATS) while 300 keys move the selection;
  3. keystroke-to-screen latency while 200 conversations stream replies:
     200 customers join over the socket, each reply streams from a loopback
     mock-openai for ~15 s, and '?' / any key toggle the help screen 40
     times; each latency is the time from writing the key to reading the
     frame that shows it.
Measurements only: nothing here passes or fails.
"""
import json
import os
import pty
import select
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import time

FL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix="frontline-console-bench.")
ENV = dict(os.environ, HOME=TMP, XDG_STATE_HOME=TMP + "/state", XDG_CACHE_HOME=TMP + "/cache",
           XDG_CONFIG_HOME=TMP + "/config", XDG_RUNTIME_DIR=TMP + "/run",
           FRONTLINE_DATADIR=SRC, FRONTLINE_TODAY="2026-11-24", TERM="xterm-256color",
           LANG="C.UTF-8", LC_ALL="C.UTF-8", FRONTLINE_CONSOLE_STATS="1")
ENV.pop("NO_COLOR", None)
os.makedirs(TMP + "/run", mode=0o700)
model = os.path.join(os.path.dirname(FL), "triage.model")
if os.path.exists(model):
    ENV["FRONTLINE_MODEL"] = model


class Console:
    """frontline console on a pty; reads what it draws."""

    def __init__(self, args):
        self.err = TMP + "/console.err"
        self.t0 = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            e = os.open(self.err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(e, 2)
            os.execve(FL, [FL] + args, ENV)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        self.buf = b""

    def read_until(self, needle, timeout=30):
        """Reads until needle was drawn; returns the time it arrived (monotonic)."""
        end = time.monotonic() + timeout
        while True:
            i = self.buf.find(needle)
            if i >= 0:
                self.buf = self.buf[i + len(needle):]
                return time.monotonic()
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(needle)
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    self.buf += os.read(self.fd, 65536)
                except OSError:
                    raise TimeoutError(needle)

    def drain(self):
        while select.select([self.fd], [], [], 0)[0]:
            try:
                if not os.read(self.fd, 65536):
                    break
            except OSError:
                break
        self.buf = b""

    def pump(self, seconds):
        """Reads (and drops) what is drawn for that long: a terminal always reads."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if select.select([self.fd], [], [], left)[0]:
                try:
                    os.read(self.fd, 65536)
                except OSError:
                    return
        self.buf = b""

    def key(self, k):
        os.write(self.fd, k)

    def finish(self):
        """Waits for the console to quit; returns its stats line."""
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    os.read(self.fd, 65536)
            except OSError:
                pass
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
        with open(self.err) as f:
            return [l.strip() for l in f if l.startswith("console:")]


def seed(db, n):
    """A store of n live conversations, each with a turn's panels."""
    p = subprocess.run([FL, "--db", db, "chat", "--json", "--customer", "seed"],
                       input="where is my order A12345?\n", capture_output=True, text=True,
                       env=ENV, check=True)
    con = sqlite3.connect(db)
    events = con.execute("SELECT kind, payload FROM events").fetchall()
    now = "2026-11-24T09:00:00.000Z"
    for i in range(n):
        cid = "C-%05d" % i
        con.execute("INSERT INTO customers (id, name, tier, created) VALUES (?, ?, 'standard', ?)",
                    (cid, "Customer %d" % i, now))
        cur = con.execute("INSERT INTO conversations (customer_id, state, handler, created)"
                          " VALUES (?, 'open', ?, ?)", (cid, "waiting" if i % 7 == 0 else "ai", now))
        conv = cur.lastrowid
        con.execute("INSERT INTO messages (conversation_id, role, text, at) VALUES (?, 'customer', ?, ?)",
                    (conv, "where is my order A%05d?" % i, now))
        con.execute("INSERT INTO messages (conversation_id, role, text, at) VALUES (?, 'ai', ?, ?)",
                    (conv, "Your order is on its way.", now))
        for kind, payload in events:
            con.execute("INSERT INTO events (conversation_id, kind, payload, at) VALUES (?, ?, ?, ?)",
                        (conv, kind, payload, now))
    con.commit()
    con.close()


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def first_frame(db, label):
    c = Console(["--db", db, "console", "--no-listen", "--exit-after", "2000"])
    t = c.read_until(b"Queue") - c.t0
    stats = c.finish()
    print("time to first frame, %s: %.0f ms from exec (%s)" % (label, t * 1000,
          stats[0] if stats else "no stats"))


def main():
    print("(pty 160x45, TERM=xterm-256color; wall times include process start and the store)")
    empty = TMP + "/empty.db"
    big = TMP + "/big.db"
    first_frame(empty, "empty store")
    seed(big, 1000)
    first_frame(big, "1,000 live conversations")

    c = Console(["--db", big, "console", "--no-listen", "--exit-after", "12000"])
    c.read_until(b"Queue")
    for i in range(300):
        c.key(b"j" if (i // 50) % 2 == 0 else b"k")
        c.pump(0.02)
    stats = c.finish()
    print("redraw with 1,000 live conversations, 300 selection moves: %s" %
          (stats[0] if stats else "no stats"))

    # 200 customers whose replies stream for ~15 s each.
    if shutil.which("python3") is None:
        print("keystroke latency: skipped (no python3 for the mock)")
        return
    script = {"rules": [{"name": "stream", "match": {"stream": True},
                         "respond": {"content": "Thanks for waiting. " * 40,
                                     "chunk_chars": 8, "chunk_delay_ms": 150}}],
              "default": {"auto": True}}
    with open(TMP + "/script.json", "w") as f:
        json.dump(script, f)
    mock = subprocess.Popen([sys.executable, SRC + "/tests/mock-openai.py", "--script",
                             TMP + "/script.json", "--port-file", TMP + "/port"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(TMP + "/port") and open(TMP + "/port").read().strip():
            break
        time.sleep(0.05)
    port = open(TMP + "/port").read().strip()
    os.makedirs(TMP + "/config/frontline", exist_ok=True)
    with open(TMP + "/cfg.yaml", "w") as f:
        f.write("endpoints:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n"
                "    timeouts: {total_ms: 60000}\n"
                "agents:\n  resolution: {backend: openai, model: gpt-4o, stream: true}\n" % port)
    sock = TMP + "/console.sock"
    c = Console(["--config", TMP + "/cfg.yaml", "--db", TMP + "/stream.db", "console",
                 "--socket", sock, "--exit-after", "60000"])
    c.read_until(b"Queue")
    clients = []
    for i in range(200):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(json.dumps({"type": "hello", "customer": "S-%03d" % i, "name": "Streamer %d" % i}).encode() + b"\n")
        s.sendall(json.dumps({"type": "say", "text": "how long does standard shipping take?"}).encode() + b"\n")
        clients.append(s)
    c.read_until(b"(writing)", timeout=30)  # replies are streaming
    c.pump(1)
    lat = []
    for i in range(40):
        c.drain()
        t = time.monotonic()
        c.key(b"?")
        lat.append(c.read_until(b"help (any key", timeout=10) - t)
        c.drain()
        t = time.monotonic()
        c.key(b" ")
        lat.append(c.read_until(b"Queue", timeout=10) - t)
        c.pump(0.05)
    streaming = sum(1 for s in clients if s.fileno() >= 0)
    c.key(b"q")
    stats = c.finish()
    for s in clients:
        s.close()
    mock.terminate()
    mock.wait()
    print("keystroke to screen while 200 conversations stream: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          " over %d keys" % (pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000, max(lat) * 1000, len(lat)))
    print("  (%s)" % (stats[0] if stats else "no stats"))


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
