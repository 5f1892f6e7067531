#!/usr/bin/env python3
"""floor-chats.py -- the customers of the floor bench (python3 standard library only).

Usage: floor-chats.py --port PORT --token TOKEN --chats M --seconds S
                      [--period P] [--warmup W] [--cpu NAME=PID,...] [--pg-pid PID]
                      [--mark PID] [--out FILE]

M customers talk to frontline serve at once, each on two keep-alive
connections of its own: one opened its conversation and POSTs messages, the
other holds the conversation's event stream (SSE). All M conversations are
opened first; once the consoles have taken them in (at least W seconds, and
until no process watched used more than 50 ms of CPU in a second, two
minutes at most) the measured window of S seconds starts. Each customer posts a message every
P seconds (the first at a random point of its first period) and waits for
its reply on its stream: a message's latency is from just before its POST is
written to the moment its reply is read. Messages posted in the window count;
replies still due when it ends are waited for (and counted in the latencies).

CPU: at the window's start and end, the CPU time (utime + stime) of each
process named by --cpu (NAME=PID; names may repeat: summed) and of the
PostgreSQL server (--pg-pid: the postmaster), each with its children (exited
and live), is read from /proc; --mark PIDs get SIGUSR1 at both moments.
Prints one JSON object: messages posted and answered, messages/s, p50/p99
reply ms, escalations and timeouts, CPU seconds by name, and the window as
milliseconds since midnight UTC.
"""
import argparse
import asyncio
import importlib
import json
import os
import random
import signal
import sys
import time

# The HTTP and event-stream client of the serve bench, next to this file (no
# __pycache__ left in the source tree).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
_serve = importlib.import_module("bench-serve")
HttpError, read_head, request, sse_events, QUESTIONS = (
    _serve.HttpError, _serve.read_head, _serve.request, _serve.sse_events, _serve.QUESTIONS)


TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()  # fields from the state (3rd) on


def cpu_of(pid):
    """A process's CPU with its children's: its own, its reaped children's, every live child's."""
    try:
        f = stat_fields(pid)
    except OSError:
        return 0.0
    total = sum(int(x) for x in f[11:15]) / TICK
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            g = stat_fields(d)
        except OSError:
            continue
        if int(g[1]) == pid:
            total += (int(g[11]) + int(g[12])) / TICK
    return total


def sample(args, mark=False):
    out = {}
    for name, pid in args.cpu:
        out[name] = out.get(name, 0.0) + cpu_of(pid)
    if args.pg_pid:
        out["postgresql"] = cpu_of(args.pg_pid)
    for pid in args.mark if mark else []:
        try:
            os.kill(pid, signal.SIGUSR1)
        except OSError:
            pass
    return out


def ms_of_day():
    t = time.time()
    return int((t % 86400) * 1000)


class Chat:
    async def open(self, i, args):
        self.i = i
        self.r1, self.w1 = await asyncio.open_connection("127.0.0.1", args.port)
        status, body = await request(self.r1, self.w1, args.token, "POST", "/v1/conversations",
                                     {"customer": {"id": f"F-{i}", "name": f"Floor {i}"}})
        if status not in (200, 201):
            raise HttpError(f"create: {status} {body!r}")
        self.conv = json.loads(body)["id"]
        self.r2, self.w2 = await asyncio.open_connection("127.0.0.1", args.port)
        self.w2.write(f"GET /v1/conversations/{self.conv}/events HTTP/1.1\r\nHost: bench\r\n"
                      f"Authorization: Bearer {args.token}\r\n"
                      f"Accept: text/event-stream\r\n\r\n".encode())
        await self.w2.drain()
        status, _ = await read_head(self.r2)
        if status != 200:
            raise HttpError(f"events: {status}")
        self.queue = asyncio.Queue()
        self.reader = asyncio.create_task(sse_events(self.r2, self.queue))

    async def talk(self, args, window, result):
        """Posts every period until the window ends; each reply is awaited."""
        loop = asyncio.get_running_loop()
        due = window["start"] + random.uniform(0, args.period)
        k = 0
        while due < window["end"]:
            await asyncio.sleep(max(0.0, due - loop.time()))
            text = QUESTIONS[(self.i + k) % len(QUESTIONS)]
            k += 1
            t0 = time.perf_counter()
            try:
                status, body = await self.post(args, text)
            except (OSError, HttpError, asyncio.IncompleteReadError) as e:
                result["errors"].append(f"message: {e!r}")
                return
            if status != 202:
                result["errors"].append(f"message: {status} {body[:100]!r}")
                return
            result["posted"] += 1
            while True:
                try:
                    ev, data = await asyncio.wait_for(self.queue.get(), args.timeout)
                except asyncio.TimeoutError:
                    result["timeouts"] += 1
                    return
                d = json.loads(data)
                if ev == "message" and d.get("role") in ("ai", "human"):
                    result["latencies"].append((time.perf_counter() - t0) * 1000)
                    break
                if ev == "state" and (d.get("state") != "open" or d.get("handler") != "ai"):
                    result["escalated"] += 1
                    return
                if ev == "end":
                    result["timeouts"] += 1
                    return
            due += args.period

    async def post(self, args, text):
        """POSTs on the kept connection; one that serve closed meanwhile is opened again."""
        path = f"/v1/conversations/{self.conv}/messages"
        try:
            return await request(self.r1, self.w1, args.token, "POST", path, {"text": text})
        except (OSError, HttpError, asyncio.IncompleteReadError):
            self.w1.close()
            self.r1, self.w1 = await asyncio.open_connection("127.0.0.1", args.port)
            return await request(self.r1, self.w1, args.token, "POST", path, {"text": text})

    def close(self):
        self.reader.cancel()
        self.w1.close()
        self.w2.close()


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p / 100 * len(v)))], 1)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--chats", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--period", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--cpu", default="")
    ap.add_argument("--pg-pid", type=int, default=0)
    ap.add_argument("--mark", default="")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.cpu = [(n, int(p)) for n, _, p in (x.partition("=") for x in args.cpu.split(",") if x)]
    args.mark = [int(p) for p in args.mark.split(",") if p]
    random.seed(21)

    chats = [Chat() for _ in range(args.chats)]
    gate = asyncio.Semaphore(50)

    async def open_one(i):
        async with gate:
            await chats[i].open(i, args)

    t = time.perf_counter()
    await asyncio.gather(*(open_one(i) for i in range(args.chats)))
    opened_s = time.perf_counter() - t
    # The consoles take in the new conversations: the window waits until they are quiet.
    await asyncio.sleep(args.warmup)
    for _ in range(120):
        before = sample(args)
        await asyncio.sleep(1)
        busy = sample(args)
        if all(busy[k] - before[k] < 0.05 for k in busy):
            break

    loop = asyncio.get_running_loop()
    result = {"posted": 0, "latencies": [], "escalated": 0, "timeouts": 0, "errors": []}
    cpu0, start_ms = sample(args, True), ms_of_day()
    window = {"start": loop.time(), "end": loop.time() + args.seconds}
    async def talk(c):
        try:
            await c.talk(args, window, result)
        except Exception as e:  # counted, not raised: the others go on
            result["errors"].append(f"chat {c.i}: {e!r}")

    talks = [asyncio.create_task(talk(c)) for c in chats]
    await asyncio.sleep(args.seconds)
    cpu1, end_ms = sample(args, True), ms_of_day()
    posted = result["posted"]
    await asyncio.wait(talks, timeout=args.timeout)
    for c in chats:
        c.close()
    lat = result["latencies"]
    out = {
        "chats": args.chats,
        "seconds": args.seconds,
        "opened_s": round(opened_s, 2),
        "posted": posted,
        "answered": len(lat),
        "messages_per_s": round(posted / args.seconds, 1),
        "p50_reply_ms": pct(lat, 50),
        "p99_reply_ms": pct(lat, 99),
        "escalated": result["escalated"],
        "timeouts": result["timeouts"],
        "errors": len(result["errors"]),
        "first_errors": result["errors"][:3],
        "cpu_s": {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 3) for k in cpu1},
        "window_ms": [start_ms, end_ms],
    }
    text = json.dumps(out)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
