#!/usr/bin/env python3
# mock-openai-selftest.py -- tests of tests/mock-openai.py, the loopback
# OpenAI-compatible server the other tests script. Standard library only
# (http.client and raw sockets: CI has libcurl, not necessarily curl(1)).
#
# Run by make check through tests/mock-openai-selftest.sh; by hand:
#   python3 tests/mock-openai-selftest.py
# Prints "ok"/"FAIL" per check and "N passed, M failed" last. Nothing here
# asserts a duration: delays are checked only as "not answered yet", with
# the delay many times longer than the probe.

import base64
import http.client
import importlib.util
import json
import math
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "mock-openai.py")
TMP = tempfile.mkdtemp(prefix="mock-openai-selftest.")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
spec = importlib.util.spec_from_file_location("mock_openai", MOCK)
mock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mock)

# ---------------------------------------------------------------- harness


class Mock:
    """A server process on its own script; stop() checks it exits cleanly."""
    count = 0

    def __init__(self, script=None, *args):
        Mock.count += 1
        base = os.path.join(TMP, f"m{Mock.count}")
        cmd = [sys.executable, MOCK, "--port-file", base + ".port",
               "--log", base + ".log", *args]
        if script is not None:
            with open(base + ".json", "w") as f:
                json.dump(script, f)
            cmd += ["--script", base + ".json"]
        self.log = base + ".log"
        self.err = open(base + ".err", "w+")  # a pipe nobody reads could fill
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.wait()
            self.err.seek(0)
            raise RuntimeError("mock did not start: " + self.err.read())
        self.port = int(line)
        with open(base + ".port") as f:
            self.port_file = f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.err.seek(0)
        noise = self.err.read()
        self.err.close()
        if noise:
            raise AssertionError("stderr: " + noise[:2000])
        return rc


def request(port, method, path, body=None, headers=None, conn=None):
    """(status, lowercased headers, body bytes)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if conn is None:
        c.close()
    return r.status, hdrs, out


def chat(port, model, conn=None, **extra):
    body = {"model": model,
            "messages": [{"role": "user", "content": "Where is my order A-1001?"}]}
    body.update(extra)
    return request(port, "POST", "/v1/chat/completions", body, conn=conn)


def stats(port):
    return json.loads(request(port, "GET", "/stats")[2])


def sse_events(raw):
    """The data: payloads of an SSE body, [DONE] as the string."""
    out = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            d = block[6:]
            out.append(d if d == "[DONE]" else json.loads(d))
    return out


def raw_exchange(port, data, timeout=10):
    """Sends bytes, reads until EOF; returns what came back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    return got


def post_bytes(model, extra=None, close=True):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    body.update(extra or {})
    b = json.dumps(body).encode()
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + (b"Connection: close\r\n" if close else b"")
            + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(b)
            + b)


def split_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, body


def wait_until(pred, what, limit=30):
    deadline = time.monotonic() + limit
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("never happened: " + what)
        time.sleep(0.02)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


passed = failed = 0
lock = threading.Lock()


def check(name, fn):
    global passed, failed
    try:
        fn()
    except Exception as e:  # a failing check must not stop the others
        with lock:
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    else:
        with lock:
            passed += 1
            print(f"ok   {name}", flush=True)


# ---------------------------------------------------------------- script

SCRIPT = {
    "models": ["alpha", "beta"],
    "rules": [
        {"name": "once", "match": {"contains": "ONCE"}, "times": 1,
         "respond": {"content": "first"}},
        {"name": "seq", "match": {"contains": "SEQ"},
         "sequence": [{"content": "a"}, {"status": 503}, {"content": "c"}]},
        {"name": "special", "match": {"model": "special"},
         "respond": {"content": "special model"}},
        {"name": "m-stream", "match": {"contains": "MATCH", "stream": True},
         "respond": {"content": "streamed"}},
        {"name": "m-tools", "match": {"contains": "MATCH", "has_tools": True},
         "respond": {"content": "tools"}},
        {"name": "m-schema",
         "match": {"contains": "MATCH", "response_format": "json_schema"},
         "respond": {"content": "schema"}},
        {"name": "m-none", "match": {"contains": "MATCH", "response_format": None},
         "respond": {"content": "no format"}},
        {"name": "emb-fail", "match": {"path": "/v1/embeddings", "contains": "FAIL"},
         "respond": {"status": 500}},
        {"name": "content", "match": {"model": "content"},
         "respond": {"content": "Your order ships tomorrow."}},
        {"name": "json", "match": {"model": "json"},
         "respond": {"json": {"intent": "refund", "score": 0.75, "tags": ["a"]}}},
        {"name": "tools", "match": {"model": "tools"},
         "respond": {"tool_calls": [
             {"name": "lookup_order", "arguments": {"order_id": "A-1001",
                                                    "include": ["items", "tracking"]}},
             {"name": "broken", "arguments": "{not json"}]}},
        {"name": "refusal", "match": {"model": "refusal"},
         "respond": {"refusal": "I cannot help with that."}},
        {"name": "overrides", "match": {"model": "overrides"},
         "respond": {"content": "cut", "finish_reason": "length", "usage": None}},
        {"name": "raw", "match": {"model": "raw"},
         "respond": {"raw": {"choices": [], "weird": True}}},
        {"name": "err-openai", "match": {"model": "err-openai"},
         "respond": {"error_shape": "openai", "status": 429, "retry_after": 2,
                     "retry_after_ms": 1500, "message": "slow down"}},
        {"name": "err-vllm", "match": {"model": "err-vllm"},
         "respond": {"error_shape": "vllm", "status": 400, "message": "bad"}},
        {"name": "err-llamacpp", "match": {"model": "err-llamacpp"},
         "respond": {"error_shape": "llamacpp", "status": 503,
                     "message": "Loading model"}},
        {"name": "err-ollama", "match": {"model": "err-ollama"},
         "respond": {"error_shape": "ollama", "status": 500, "message": "boom"}},
        {"name": "err-html", "match": {"model": "err-html"},
         "respond": {"error_shape": "html", "status": 502}},
        {"name": "err-body", "match": {"model": "err-body"},
         "respond": {"status": 401, "body": "denied",
                     "headers": {"WWW-Authenticate": "Bearer"}}},
        {"name": "err-default", "match": {"model": "err-default"},
         "respond": {"status": 500}},
        {"name": "invalid", "match": {"model": "invalid"},
         "respond": {"invalid_json": True}},
        {"name": "truncate", "match": {"model": "truncate"},
         "respond": {"truncate": True, "content": "x" * 200}},
        {"name": "close", "match": {"model": "close"}, "respond": {"close": True}},
        {"name": "reset", "match": {"model": "reset"}, "respond": {"reset": True}},
        {"name": "hang", "match": {"model": "hang"}, "respond": {"hang": True}},
        {"name": "delay", "match": {"model": "delay"},
         "respond": {"delay_ms": 1500, "content": "late"}},
        {"name": "body-delay", "match": {"model": "body-delay"},
         "respond": {"body_delay_ms": 1500, "content": "late body"}},
        {"name": "slow", "match": {"model": "slow"},
         "respond": {"delay_ms": 30000, "content": "very late"}},
        {"name": "stream-tools", "match": {"model": "stream-tools"},
         "respond": {"tool_calls": [
             {"name": "lookup_order",
              "arguments": {"order_id": "A-1001", "note": "arguments long enough to split"}},
             {"name": "second", "arguments": {}}],
             "chunk_delay_ms": 1}},
        {"name": "stream-chars", "match": {"model": "stream-chars"},
         "respond": {"content": "abcdefg", "chunk_chars": 1}},
        {"name": "stream-truncate", "match": {"model": "stream-truncate"},
         "respond": {"content": "one two three four five six seven eight",
                     "stream_truncate": True}},
        {"name": "stream-error", "match": {"model": "stream-error"},
         "respond": {"content": "one two three four", "stream_error_after": 2,
                     "stream_error": {"message": "overloaded", "type": "server_error"}}},
        {"name": "conn-close", "match": {"model": "conn-close"},
         "respond": {"content": "bye", "headers": {"Connection": "close"}}},
        {"name": "unknown-path", "match": {"path": "/v2/other"},
         "respond": {"raw": {"custom": 1}}},
    ],
    "default": {"content": "default"},
}

SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["refund", "billing"]},
        "confidence": {"type": "number", "minimum": 0.5, "maximum": 1},
        "count": {"type": "integer", "exclusiveMinimum": 3},
        "below": {"type": "integer", "maximum": -2},
        "step": {"type": "number", "minimum": 0.1, "multipleOf": 0.5},
        "tags": {"type": "array", "items": {"type": "string"}},
        "pair": {"type": "array", "minItems": 2, "uniqueItems": True,
                 "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "customer": {"$ref": "#/$defs/customer"},
        "maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 7}]},
        "when": {"type": "string", "format": "date-time"},
        "flag": {"type": "boolean"},
        "optional": {"type": "string"},
        "kind": {"const": "ticket"},
        "code": {"type": "string", "minLength": 5},
        "short": {"type": "string", "maxLength": 1},
        "nullable": {"type": ["null", "string"]},
        "nothing": {"type": "null"},
        "both": {"allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
    },
    "$defs": {"customer": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "tier": {"enum": ["gold", "silver"]},
                       "email": {"type": "string", "format": "email"}},
        "required": ["name", "tier"]}},
}
SCHEMA["required"] = [k for k in SCHEMA["properties"] if k != "optional"]
SCHEMA_INSTANCE = {
    "intent": "refund", "confidence": 0.5, "count": 4, "below": -2, "step": 0.5,
    "tags": [], "pair": ["a", "b"], "customer": {"name": "ok", "tier": "gold"},
    "maybe": 7, "when": "2024-01-01T00:00:00Z", "flag": False, "kind": "ticket",
    "code": "okkkk", "short": "o", "nullable": "ok", "nothing": None,
    "both": {"a": 0, "b": "ok"},
}

# ---------------------------------------------------------------- checks


def t_startup(m):
    def f():
        eq(m.port_file.strip(), str(m.port), "port file")
        with socket.create_connection(("127.0.0.1", m.port)) as s:
            eq(s.getpeername()[0], "127.0.0.1", "loopback")
    return f


def t_content(m):
    def f():
        st, h, b = chat(m.port, "content")
        eq(st, 200, "status")
        eq(h["content-type"], "application/json", "content type")
        d = json.loads(b)
        eq(d["object"], "chat.completion", "object")
        eq(d["model"], "content", "model echoed")
        assert d["id"].startswith("chatcmpl-"), d["id"]
        assert isinstance(d["created"], int)
        c = d["choices"][0]
        eq(c["message"], {"role": "assistant", "content": "Your order ships tomorrow."})
        eq(c["finish_reason"], "stop", "finish")
        u = d["usage"]
        eq(u["completion_tokens"], round(len("Your order ships tomorrow.") / 4), "completion")
        eq(u["prompt_tokens"], round(len("Where is my order A-1001?") / 4), "prompt")
        eq(u["total_tokens"], u["prompt_tokens"] + u["completion_tokens"], "total")
    return f


def t_json(m):
    def f():
        d = json.loads(chat(m.port, "json")[2])
        eq(json.loads(d["choices"][0]["message"]["content"]),
           {"intent": "refund", "score": 0.75, "tags": ["a"]}, "json content")
    return f


def t_tool_calls(m):
    def f():
        d = json.loads(chat(m.port, "tools")[2])
        c = d["choices"][0]
        eq(c["finish_reason"], "tool_calls", "finish")
        calls = c["message"]["tool_calls"]
        eq([x["id"] for x in calls], ["call_1", "call_2"], "ids")
        eq(calls[0]["type"], "function", "type")
        eq(calls[0]["function"]["name"], "lookup_order", "name")
        eq(json.loads(calls[0]["function"]["arguments"]),
           {"order_id": "A-1001", "include": ["items", "tracking"]}, "arguments")
        eq(calls[1]["function"]["arguments"], "{not json", "verbatim arguments")
        eq(c["message"]["content"], None, "no content")
    return f


def t_refusal_overrides(m):
    def f():
        d = json.loads(chat(m.port, "refusal")[2])
        msg = d["choices"][0]["message"]
        eq((msg["content"], msg["refusal"]), (None, "I cannot help with that."))
        d = json.loads(chat(m.port, "overrides")[2])
        eq(d["choices"][0]["finish_reason"], "length", "finish override")
        assert "usage" not in d, "usage left out"
    return f


def t_raw(m):
    def f():
        st, _, b = chat(m.port, "raw")
        eq((st, json.loads(b)), (200, {"choices": [], "weird": True}))
        st, _, b = chat(m.port, "raw", stream=True)
        eq((st, json.loads(b)), (200, {"choices": [], "weird": True}), "raw to a stream")
        st, _, b = request(m.port, "POST", "/v2/other", {})
        eq((st, json.loads(b)), (200, {"custom": 1}), "rule on an unknown path")
    return f


def t_errors(m):
    def f():
        st, h, b = chat(m.port, "err-openai")
        eq(st, 429, "status")
        eq((h["retry-after"], h["retry-after-ms"]), ("2", "1500"), "retry headers")
        eq(json.loads(b), {"error": {"message": "slow down", "type": "requests",
                                     "param": None, "code": "rate_limit_exceeded"}})
        st, _, b = chat(m.port, "err-vllm")
        eq((st, json.loads(b)), (400, {"object": "error", "message": "bad",
                                       "type": "BadRequestError", "param": None,
                                       "code": 400}), "vllm")
        st, _, b = chat(m.port, "err-llamacpp")
        eq((st, json.loads(b)), (503, {"error": {"code": 503, "message": "Loading model",
                                                 "type": "unavailable_error"}}), "llama.cpp")
        st, _, b = chat(m.port, "err-ollama")
        eq((st, json.loads(b)), (500, {"error": "boom"}), "ollama")
        st, h, b = chat(m.port, "err-html")
        eq((st, h["content-type"]), (502, "text/html"), "html")
        assert b"<h1>502 Bad Gateway</h1>" in b, b
        st, h, b = chat(m.port, "err-body")
        eq((st, h["www-authenticate"], b), (401, "Bearer", b"denied"), "explicit body")
        eq(h["content-type"], "text/plain; charset=utf-8", "text body type")
        st, _, b = chat(m.port, "err-default")
        eq(st, 500, "status alone")
        eq(set(json.loads(b)["error"]), {"message", "type", "param", "code"}, "openai shape")
        st, _, b = chat(m.port, "err-openai", stream=True)
        eq(st, 429, "error to a stream request is plain JSON")
    return f


def t_invalid_json(m):
    def f():
        st, h, b = chat(m.port, "invalid")
        eq((st, h["content-type"]), (200, "application/json"))
        try:
            json.loads(b)
        except ValueError:
            return
        raise AssertionError("body parsed as JSON")
    return f


def t_truncate(m):
    def f():
        st, h, body = split_response(raw_exchange(m.port, post_bytes("truncate", close=False)))
        eq(st, 200, "status")
        assert int(h["content-length"]) > len(body) > 0, (h["content-length"], len(body))
    return f


def t_close_reset(m):
    def f():
        eq(raw_exchange(m.port, post_bytes("close", close=False)), b"", "close")
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(post_bytes("reset", close=False))
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = None
        s.close()
        eq(got, None, "reset")
    return f


def t_hang(m):
    def f():
        s = socket.create_connection(("127.0.0.1", m.port), timeout=0.3)
        s.sendall(post_bytes("hang", close=False))
        try:
            got = s.recv(100)
        except socket.timeout:
            got = None
        eq(got, None, "no answer")
        wait_until(lambda: stats(m.port)["inflight"] == 1, "hang in flight")
        s.close()
        wait_until(lambda: stats(m.port)["inflight"] == 0, "hang released by the client")
    return f


def own_server(fn):
    """Runs fn on a server of its own, so its in-flight requests are its own."""
    def f():
        m = Mock(SCRIPT)
        try:
            fn(m)
        finally:
            eq(m.stop(), 0, "exit status")
    return f


@own_server
def t_delays(m):
    if True:
        s = socket.create_connection(("127.0.0.1", m.port), timeout=0.2)
        s.sendall(post_bytes("delay"))
        try:
            early = s.recv(100)
        except socket.timeout:
            early = None
        eq(early, None, "nothing before delay_ms")
        s.settimeout(20)
        got = b""
        while b := s.recv(65536):
            got += b
        s.close()
        st, _, body = split_response(got)
        eq(json.loads(body)["choices"][0]["message"]["content"], "late", "delayed answer")

        s = socket.create_connection(("127.0.0.1", m.port), timeout=20)
        s.sendall(post_bytes("body-delay"))
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        eq(head.split(b" ")[1], b"200", "headers first")
        s.settimeout(0.2)
        try:
            early = s.recv(100)
        except socket.timeout:
            early = None
        eq(early, None, "no body before body_delay_ms")
        s.settimeout(20)
        body = b""
        while b := s.recv(65536):
            body += b
        s.close()
        eq(json.loads(body)["choices"][0]["message"]["content"], "late body", "body")


def t_stream(m):
    def f():
        st, h, b = chat(m.port, "content", stream=True)
        eq((st, h["content-type"], h.get("transfer-encoding")),
           (200, "text/event-stream", "chunked"), "SSE headers")
        ev = sse_events(b)
        eq(ev[-1], "[DONE]", "last event")
        chunks = ev[:-1]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert len({c["id"] for c in chunks}) == 1, "one id"
        eq(chunks[0]["choices"][0]["delta"]["role"], "assistant", "role first")
        pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
        assert sum(1 for p in pieces if p) >= 3, pieces
        eq("".join(pieces), "Your order ships tomorrow.", "content joined")
        eq(chunks[-1]["choices"][0]["finish_reason"], "stop", "finish last")
        assert all("usage" not in c for c in chunks), "no usage unless asked"

        ev = sse_events(chat(m.port, "content", stream=True,
                             stream_options={"include_usage": True})[2])
        eq(ev[-1], "[DONE]")
        u = ev[-2]
        eq(u["choices"], [], "usage chunk has no choices")
        eq(u["usage"]["completion_tokens"], round(len("Your order ships tomorrow.") / 4))
        eq(ev[-3]["choices"][0]["finish_reason"], "stop", "finish before usage")

        ev = sse_events(chat(m.port, "stream-chars", stream=True)[2])
        eq([c["choices"][0]["delta"].get("content") for c in ev[1:-2]],
           list("abcdefg"), "chunk_chars")
    return f


def t_stream_tools(m):
    def f():
        ev = sse_events(chat(m.port, "stream-tools", stream=True)[2])
        eq(ev[-1], "[DONE]")
        deltas = [c["choices"][0]["delta"] for c in ev[:-1]]
        calls = {}
        for d in deltas:
            for tc in d.get("tool_calls", []):
                entry = calls.setdefault(tc["index"], {"first": tc, "frags": []})
                if entry["first"] is not tc:
                    assert "id" not in tc and "name" not in tc.get("function", {}), tc
                    entry["frags"].append(tc["function"]["arguments"])
        eq(sorted(calls), [0, 1], "indexes")
        first = calls[0]["first"]
        eq((first["id"], first["function"]["name"]), ("call_1", "lookup_order"), "first chunk")
        assert len(calls[0]["frags"]) >= 2, "arguments split across chunks"
        eq(json.loads("".join(calls[0]["frags"])),
           {"order_id": "A-1001", "note": "arguments long enough to split"}, "arguments")
        eq(calls[1]["first"]["id"], "call_2", "second id")
        eq(ev[-2]["choices"][0]["finish_reason"], "tool_calls", "finish")
    return f


def t_stream_faults(m):
    def f():
        raw = raw_exchange(m.port, post_bytes("stream-truncate", {"stream": True}, close=False))
        st, h, body = split_response(raw)
        eq((st, h["transfer-encoding"]), (200, "chunked"))
        assert b"data: " in body, "some events"
        assert b"[DONE]" not in body and not body.endswith(b"0\r\n\r\n"), "cut mid-stream"
        try:
            chat(m.port, "stream-truncate", stream=True)
        except http.client.IncompleteRead:
            pass
        else:
            raise AssertionError("http.client read a truncated stream whole")

        st, _, b = chat(m.port, "stream-error", stream=True)
        ev = sse_events(b)
        eq(len(ev), 3, "two events, then the error")
        eq(ev[-1], {"error": {"message": "overloaded", "type": "server_error"}}, "error event")
        assert "[DONE]" not in ev
    return f


def t_rules(m):
    def f():
        def content(text, **extra):
            body = {"model": "x", "messages": [{"role": "user", "content": text}]}
            body.update(extra)
            st, _, b = request(m.port, "POST", "/v1/chat/completions", body)
            if extra.get("stream"):
                return "".join(c["choices"][0]["delta"].get("content", "")
                               for c in sse_events(b)[:-1] if c["choices"])
            return st if st != 200 else json.loads(b)["choices"][0]["message"]["content"]
        eq(content("ONCE"), "first", "times 1: used")
        eq(content("ONCE"), "default", "times 1: then skipped")
        eq([content("SEQ") for _ in range(5)], ["a", 503, "c", "c", "c"], "sequence")
        eq(json.loads(chat(m.port, "special")[2])["choices"][0]["message"]["content"],
           "special model", "model")
        eq(content("MATCH", stream=True), "streamed", "stream")
        tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
        eq(content("MATCH", tools=tools), "tools", "has_tools")
        eq(content("MATCH", tools=[]), "no format", "empty tools are no tools")
        eq(content("MATCH", response_format={"type": "json_schema", "json_schema": {}}),
           "schema", "json_schema")
        eq(content("MATCH", response_format={"type": "json_object"}), "default",
           "json_object matches neither")
        eq(content("MATCH"), "no format", "response_format null")
        st, _, _ = request(m.port, "POST", "/v1/embeddings", {"input": "FAIL"})
        eq(st, 500, "path + contains")
        st, _, _ = request(m.port, "POST", "/v1/chat/completions",
                           {"model": "x", "messages": [{"role": "user", "content": "FAIL"}]})
        eq(st, 200, "path restricts")
        used = stats(m.port)["rules"]
        eq((used["once"], used["seq"]), (1, 5), "stats count rule uses")
    return f


def t_http(m):
    def f():
        before = stats(m.port)["connections_total"]
        c = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
        for _ in range(3):
            eq(chat(m.port, "content", conn=c)[0], 200)
        eq(chat(m.port, "content", conn=c, stream=True)[0], 200)
        eq(chat(m.port, "content", conn=c)[0], 200, "keep-alive after a stream")
        c.close()
        eq(stats(m.port)["connections_total"] - before, 2, "one connection reused")

        st, h, _ = split_response(raw_exchange(m.port, post_bytes("conn-close", close=False)))
        eq((st, h["connection"]), (200, "close"), "Connection: close from the script")

        body = json.dumps({"model": "content", "messages": [
            {"role": "user", "content": "x" * 3000}]}).encode()
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += s.recv(1)
        eq(interim, b"HTTP/1.1 100 Continue\r\n\r\n", "100 Continue")
        s.sendall(body)
        rest = b""
        while b := s.recv(65536):
            rest += b
        s.close()
        eq(split_response(rest)[0], 200, "answered after 100")

        data = json.dumps({"model": "content", "messages": []}).encode()
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (data[:10], data[10:]))
        raw = raw_exchange(m.port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                           + chunked + b"0\r\n\r\n")
        eq(json.loads(split_response(raw)[2])["model"], "content", "chunked request body")

        eq(request(m.port, "GET", "/nowhere")[0], 404, "unknown path")
        eq(request(m.port, "GET", "/v1/chat/completions")[0], 405, "wrong method")
        eq(split_response(raw_exchange(m.port, b"BROKEN\r\n\r\n"))[0], 400, "bad request")
    return f


def t_models_embeddings(m):
    def f():
        d = json.loads(request(m.port, "GET", "/v1/models")[2])
        eq([x["id"] for x in d["data"]], ["alpha", "beta"], "models")

        def vecs(inp, **extra):
            body = {"model": "emb", "input": inp}
            body.update(extra)
            st, _, b = request(m.port, "POST", "/v1/embeddings", body)
            eq(st, 200, "embeddings status")
            d = json.loads(b)
            eq(d["object"], "list")
            eq([x["index"] for x in d["data"]], list(range(len(d["data"]))), "indexes")
            return [x["embedding"] for x in d["data"]]
        a, b, c = vecs(["refund my order", "please refund the order", "weather in paris"])
        eq(len(a), 64, "default dimension")
        eq(vecs("refund my order")[0], a, "deterministic")
        assert abs(math.sqrt(sum(x * x for x in a)) - 1) < 1e-4, "unit length"
        dot = lambda u, v: sum(x * y for x, y in zip(u, v))
        assert dot(a, b) > dot(a, c), (dot(a, b), dot(a, c))
        assert a != c
        eq(len(vecs("x", dimensions=16)[0]), 16, "dimensions")
        e64 = vecs("refund my order", encoding_format="base64")[0]
        got = struct.unpack("<64f", base64.b64decode(e64))
        assert all(abs(x - y) < 1e-6 for x, y in zip(got, a)), "base64"
        eq(len(vecs([[1, 2, 3], [4]])), 2, "token lists")
    return f


def t_log(m):
    def f():
        with open(m.log) as fh:
            lines = [json.loads(line) for line in fh]
        eq([x["n"] for x in lines], list(range(1, len(lines) + 1)), "n counts from 1")
        first = next(x for x in lines if x["rule"] == "content")
        eq((first["method"], first["path"]), ("POST", "/v1/chat/completions"))
        eq(first["body"]["model"], "content", "parsed body")
        eq(first["headers"]["content-type"], "application/json", "lowercased headers")
        assert any(x["rule"] == "default" for x in lines), "default named"
        assert any(x["rule"] == "builtin" and x["path"] == "/nowhere" for x in lines), \
            "built-in answers named"
        assert not any(x["path"] == "/stats" for x in lines), "stats not logged"
        eq(stats(m.port)["requests"], len(lines), "stats count what the log holds")
    return f


@own_server
def t_concurrency(m):
    if True:
        socks = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
            s.sendall(post_bytes("slow"))
            socks.append(s)
        wait_until(lambda: stats(m.port)["inflight"] >= 50, "50 requests in flight")
        st = stats(m.port)
        assert st["max_inflight"] >= 50 and st["connections"] >= 51, st
        for s in socks:
            s.close()


def t_thousand(n):
    def f():
        m = Mock(None, "--auto", "--delay-ms", "300")
        try:
            sel = selectors.DefaultSelector()
            bufs = {}
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
                s.sendall(post_bytes("bench"))
                s.setblocking(False)
                bufs[s] = b""
                sel.register(s, selectors.EVENT_READ)
            open_ = n
            deadline = time.monotonic() + 60
            while open_ and time.monotonic() < deadline:
                for key, _ in sel.select(1):
                    d = key.fileobj.recv(65536)
                    if d:
                        bufs[key.fileobj] += d
                    else:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
                        open_ -= 1
            eq(open_, 0, "all answered")
            for raw in bufs.values():
                st, _, body = split_response(raw)
                eq(st, 200)
                eq(json.loads(body)["choices"][0]["message"]["content"], mock.AUTO_REPLY)
            st = stats(m.port)
            eq((st["requests"], st["inflight"]), (n, 0), "stats")
            assert st["max_inflight"] >= 1
        finally:
            eq(m.stop(), 0, "exit status")
    return f


def t_schema_instance():
    eq(mock.schema_instance(SCHEMA), SCHEMA_INSTANCE, "instance")
    eq(mock.schema_instance({}), "ok", "empty schema")
    eq(mock.schema_instance({"type": "integer", "minimum": 2.5}), 3, "integer ceil")
    eq(mock.schema_instance({"type": "number", "exclusiveMinimum": 1, "maximum": 2}), 1.5)
    eq(mock.schema_instance({"type": "array", "minItems": 1,
                             "items": {"$ref": "#/$defs/n"},
                             "$defs": {"n": {"type": "object", "required": ["k"],
                                             "properties": {"k": {"type": "boolean"}}}}}),
       [{"k": False}], "$ref from the root")
    loop = {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#"}}}
    v = mock.schema_instance(loop)  # recursion stops instead of hanging
    depth = 0
    while isinstance(v, dict):
        v, depth = v["next"], depth + 1
    assert depth > 5, depth


def t_auto(m):
    def f():
        def msg(**extra):
            st, _, b = chat(m.port, "gpt", **extra)
            eq(st, 200)
            return json.loads(b)["choices"][0]
        c = msg(response_format={"type": "json_schema",
                                 "json_schema": {"name": "t", "strict": True, "schema": SCHEMA}})
        eq(json.loads(c["message"]["content"]), SCHEMA_INSTANCE, "json_schema")
        c = msg(response_format={"type": "json_object"})
        eq(json.loads(c["message"]["content"]), {}, "json_object without a schema")
        small = {"type": "object", "properties": {"intent": {"enum": ["x", "y"]}},
                 "required": ["intent"]}
        c = msg(response_format={"type": "json_object", "schema": small})
        eq(json.loads(c["message"]["content"]), {"intent": "x"}, "llama.cpp schema")
        st, _, b = request(m.port, "POST", "/v1/chat/completions", {
            "model": "gpt", "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content":
                          "Answer with JSON matching " + json.dumps(small) + " only."},
                         {"role": "user", "content": "hi {not json"}]})
        eq(json.loads(json.loads(b)["choices"][0]["message"]["content"]),
           {"intent": "x"}, "schema found in the messages")
        tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
        c = msg(tools=tools)
        eq((c["message"]["content"], c["finish_reason"]), (mock.AUTO_REPLY, "stop"),
           "tools, no tool results: plain content")
        assert "tool_calls" not in c["message"]
        st, _, b = request(m.port, "POST", "/v1/chat/completions", {
            "model": "gpt", "tools": tools, "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "lookup", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]})
        eq(json.loads(b)["choices"][0]["message"]["content"], mock.AUTO_REPLY_AFTER_TOOLS)
        ev = sse_events(chat(m.port, "gpt", stream=True, response_format={
            "type": "json_schema", "json_schema": {"schema": SCHEMA}})[2])
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in ev[:-1])
        eq(json.loads(text), SCHEMA_INSTANCE, "streamed auto")
        eq(chat(m.port, "gpt", stream=False)[0], 200, "auto replaces the missing default")
    return f


def t_builtin(m):
    def f():
        st, _, b = chat(m.port, "any")
        eq(st, 500, "unscripted chat")
        assert "no rule matches" in json.loads(b)["error"]["message"]
        eq([x["id"] for x in json.loads(request(m.port, "GET", "/v1/models")[2])["data"]],
           ["mock-model"], "default models")
        eq(request(m.port, "POST", "/v1/embeddings", {"input": "x"})[0], 200, "embeddings")
    return f


def t_refuse():
    m = Mock(None, "--refuse")
    try:
        try:
            socket.create_connection(("127.0.0.1", m.port), timeout=5).close()
        except ConnectionRefusedError:
            pass
        else:
            raise AssertionError("connected")
    finally:
        eq(m.stop(), 0, "exit status")


def t_stall():
    m = Mock(None, "--stall-connect")
    try:
        try:
            socket.create_connection(("127.0.0.1", m.port), timeout=0.3).close()
        except socket.timeout:
            pass
        else:
            raise AssertionError("connected")
    finally:
        eq(m.stop(), 0, "exit status")


def t_bad_script():
    path = os.path.join(TMP, "bad.json")
    for script, why in (({"rules": [{"respond": {"contnt": "x"}}]}, "unknown key 'contnt'"),
                        ({"rules": [{"name": "r"}]}, "needs one of"),
                        ({"rules": [{"match": {"stream": "yes"}, "respond": {}}]}, "true or false"),
                        ({"default": {"error_shape": "iis"}}, "error_shape")):
        with open(path, "w") as fh:
            json.dump(script, fh)
        r = subprocess.run([sys.executable, MOCK, "--script", path],
                           capture_output=True, text=True, timeout=10)
        eq(r.returncode, 65, why)
        assert why in r.stderr, r.stderr
    r = subprocess.run([sys.executable, MOCK, "--no-such-option"],
                       capture_output=True, text=True, timeout=10)
    eq(r.returncode, 64, "bad option")


def main():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < 4096:
            soft = min(4096, hard) if hard != resource.RLIM_INFINITY else 4096
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    except (ImportError, ValueError, OSError):
        soft = 1024
    many = 1000 if soft == resource.RLIM_INFINITY or soft >= 2200 else max(50, soft // 2 - 100)

    m = Mock(SCRIPT)
    auto = Mock(None, "--auto")
    bare = Mock(None)
    # The slow checks (delays, the thousand connections) run beside the rest.
    slow = [threading.Thread(target=check, args=(name, fn)) for name, fn in (
        ("delay_ms and body_delay_ms", t_delays),
        (f"{many} concurrent connections with --auto --delay-ms 300", t_thousand(many)))]
    for t in slow:
        t.start()
    for name, fn in (
            ("startup: port file and stdout, loopback", t_startup(m)),
            ("content", t_content(m)),
            ("json", t_json(m)),
            ("tool_calls", t_tool_calls(m)),
            ("refusal, finish_reason and usage overrides", t_refusal_overrides(m)),
            ("raw", t_raw(m)),
            ("error statuses and shapes", t_errors(m)),
            ("invalid_json", t_invalid_json(m)),
            ("truncate", t_truncate(m)),
            ("close and reset", t_close_reset(m)),
            ("hang", t_hang(m)),
            ("streaming content and usage", t_stream(m)),
            ("streaming tool calls", t_stream_tools(m)),
            ("stream_truncate and stream_error", t_stream_faults(m)),
            ("rules: match keys, times, sequence", t_rules(m)),
            ("HTTP: keep-alive, 100-continue, chunked, 404/405/400", t_http(m)),
            ("models and embeddings", t_models_embeddings(m)),
            ("50 concurrent delayed requests in /stats", t_concurrency),
            ("schema instance generator", t_schema_instance),
            ("auto answers", t_auto(auto)),
            ("no script: built-in answers", t_builtin(bare)),
            ("--refuse", t_refuse),
            ("--stall-connect", t_stall),
            ("bad scripts and options", t_bad_script)):
        check(name, fn)
    for t in slow:
        t.join()
    check("request log", t_log(m))
    for name, srv in (("SIGTERM: clean exit", m), ("SIGTERM: clean exit (auto)", auto),
                      ("SIGTERM: clean exit (bare)", bare)):
        check(name, lambda srv=srv: eq(srv.stop(), 0, "exit status"))
    print(f"{passed} passed, {failed} failed")
    if failed:
        print(f"kept for a look: {TMP} (scripts, logs, stderr of each server)")
        return 1
    shutil.rmtree(TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
