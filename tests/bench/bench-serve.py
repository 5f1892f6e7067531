#!/usr/bin/env python3
"""bench-serve.py -- a load generator for frontline serve (python3 standard library only).

Usage: bench-serve.py --port PORT --token TOKEN [--conversations N] [--messages M]
                      [--label TEXT] [--timeout SECONDS]

N customers at once, each on two keep-alive connections of its own: one
opens a conversation and POSTs M messages, one after the other; the other
holds the conversation's event stream (SSE). A message's latency is from
just before its POST is written to the moment its reply (the next "message"
event) is read from the stream: stored by serve, claimed and answered by a
worker, stored, notified, read and sent by serve. Prints one JSON object:
messages answered, wall seconds, messages/s, p50/p99/max latency in ms,
and the conversations that escalated (a handoff stops them) or timed out.
"""
import argparse
import asyncio
import json
import statistics
import sys
import time

QUESTIONS = [
    "what are your support hours?",
    "how do I pair the motion sensor",
    "how long is the return window?",
    "how do I turn on two-step verification",
    "the firmware update failed on my hub",
]


class HttpError(Exception):
    pass


async def read_head(reader):
    line = await reader.readline()
    if not line:
        raise HttpError("connection closed")
    status = int(line.split()[1])
    headers = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


async def request(reader, writer, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()
    status, headers = await read_head(reader)
    n = int(headers.get("content-length", "0"))
    payload = await reader.readexactly(n) if n else b""
    return status, payload


async def sse_events(reader, queue):
    """Reads a chunked text/event-stream and puts (event, data) on the queue."""
    pending = b""
    event, data = None, []
    while True:
        size_line = await reader.readline()
        if not size_line:
            break
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            break
        chunk = await reader.readexactly(size + 2)
        pending += chunk[:-2]
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            line = line.rstrip(b"\r").decode()
            if line == "":
                if data:
                    queue.put_nowait((event or "message", "\n".join(data)))
                event, data = None, []
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
    queue.put_nowait(("end", "{}"))


async def customer(i, args, latencies, outcome, start_gate):
    r1, w1 = await asyncio.open_connection("127.0.0.1", args.port)
    status, body = await request(r1, w1, args.token, "POST", "/v1/conversations",
                                 {"customer": {"id": f"B-{args.label}-{i}", "name": f"Bench {i}"}})
    if status not in (200, 201):
        raise HttpError(f"create: {status} {body!r}")
    conv = json.loads(body)["id"]
    r2, w2 = await asyncio.open_connection("127.0.0.1", args.port)
    w2.write(f"GET /v1/conversations/{conv}/events HTTP/1.1\r\nHost: bench\r\n"
             f"Authorization: Bearer {args.token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await w2.drain()
    status, _ = await read_head(r2)
    if status != 200:
        raise HttpError(f"events: {status}")
    queue = asyncio.Queue()
    reader_task = asyncio.create_task(sse_events(r2, queue))
    outcome["ready"] += 1
    await start_gate.wait()
    try:
        for k in range(args.messages):
            text = QUESTIONS[(i + k) % len(QUESTIONS)]
            t0 = time.perf_counter()
            status, body = await request(r1, w1, args.token, "POST",
                                         f"/v1/conversations/{conv}/messages", {"text": text})
            if status != 202:
                raise HttpError(f"message: {status} {body!r}")
            while True:
                try:
                    ev, data = await asyncio.wait_for(queue.get(), args.timeout)
                except asyncio.TimeoutError:
                    outcome["timeouts"] += 1
                    return
                d = json.loads(data)
                if ev == "message" and d.get("role") in ("ai", "human"):
                    latencies.append((time.perf_counter() - t0) * 1000)
                    outcome["last"] = time.perf_counter()
                    break
                if ev == "state" and (d.get("state") != "open" or d.get("handler") != "ai"):
                    outcome["escalated"] += 1
                    return
                if ev == "end":
                    outcome["timeouts"] += 1
                    return
    finally:
        reader_task.cancel()
        w1.close()
        w2.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--messages", type=int, default=5)
    ap.add_argument("--label", default="x")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    latencies = []
    outcome = {"escalated": 0, "timeouts": 0, "last": 0.0, "ready": 0}
    gate = asyncio.Event()
    tasks = [asyncio.create_task(customer(i, args, latencies, outcome, gate))
             for i in range(args.conversations)]
    # Everyone is connected and streaming before the clock starts.
    while outcome["ready"] + sum(1 for t in tasks if t.done()) < len(tasks):
        await asyncio.sleep(0.01)
    start = time.perf_counter()
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    wall = (outcome["last"] or time.perf_counter()) - start
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) >= 2 else lat * 99
    print(json.dumps({
        "label": args.label,
        "messages": len(lat),
        "wall_s": round(wall, 3),
        "per_s": round(len(lat) / wall, 1) if wall > 0 else 0,
        "p50_ms": round(q[49], 1) if lat else None,
        "p99_ms": round(q[98], 1) if lat else None,
        "max_ms": round(lat[-1], 1) if lat else None,
        "escalated": outcome["escalated"],
        "timeouts": outcome["timeouts"],
        "errors": [str(e) for e in errors[:3]],
    }))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
