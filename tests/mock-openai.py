#!/usr/bin/env python3
# mock-openai.py -- a loopback OpenAI-compatible HTTP server for frontline's
# tests and benchmarks, scripted per test, able to misbehave on purpose.
#
# Standard library only (Python 3.8 to 3.13; Debian 12 has 3.11). HTTP/1.1
# is written by hand over asyncio streams (keep-alive, chunked request
# bodies, Expect: 100-continue), so one process holds thousands of concurrent
# connections and can break the protocol in exactly the ways a test asks for.
#
# ---------------------------------------------------------------- usage
#
#   python3 tests/mock-openai.py [--script FILE] [--port N] [--port-file FILE]
#                                [--log FILE] [--delay-ms N] [--auto]
#                                [--embedding-dim N] [--refuse | --stall-connect]
#
#   --script FILE      the rules (below); without one every chat request that
#                      no rule answers gets HTTP 500 "no rule matches"
#   --port N           port on 127.0.0.1 (default 0: the kernel picks one)
#   --port-file FILE   once listening, the port is written there (temporary
#                      file + rename, so a reader never sees half of it); the
#                      port is also printed on stdout, flushed
#   --log FILE         append one JSON line per request:
#                      {"n","method","path","headers":{lowercased names},
#                       "body": parsed JSON or the raw text (null if empty),
#                       "rule": name of the rule that answered,
#                       "t": the server's monotonic clock when it arrived, seconds}
#                      The rule is "default" for the script's default, "auto"
#                      for --auto, "builtin" for the built-in answers.
#                      GET /stats is not logged and not counted.
#   --delay-ms N       wait N ms before every answer (added to delay_ms)
#   --auto             the default RESPONSE is {"auto": true}, replacing the
#                      script's "default" (make bench: --auto --delay-ms 300)
#   --embedding-dim N  dimension of /v1/embeddings vectors (default 64; the
#                      script's "embedding_dim" and a request's "dimensions"
#                      take precedence, in that order)
#   --refuse           bind the port but never listen: every connection is
#                      refused, for as long as the process runs
#   --stall-connect    listen with a backlog of zero, never accept, and fill
#                      the accept queue itself: new connections never finish
#                      the TCP handshake (a connect timeout on loopback)
#
# SIGTERM or SIGINT ends it cleanly (exit 0). Exit 64: bad arguments; 65: bad
# script; 71: cannot bind.
#
# ---------------------------------------------------------------- endpoints
#
#   POST /v1/chat/completions   answered by the rules
#   POST /v1/embeddings         deterministic vectors: a signed feature hash of
#                               each input's lowercased words (texts sharing
#                               words are close), L2-normalised; input may be a
#                               string, a list of strings or token lists;
#                               "encoding_format": "base64" is honoured. The
#                               script's "embedding_synonyms" ({"parcel":
#                               "package", ...}) hashes a word as another, so
#                               a test can have texts close in meaning that
#                               share no word (what FTS5 cannot find)
#   GET  /v1/models             the script's "models" (default ["mock-model"])
#   GET  /stats                 {"requests": API requests so far,
#                                "inflight": requests not yet fully answered,
#                                "max_inflight", "connections": open now,
#                                "connections_total", "rules": {name: uses}}
#
# Rules apply to every path, so a rule can also fail /v1/embeddings or answer
# a path the server does not know. A request no rule matches gets the
# script's "default"; without one, embeddings and models get their natural
# answers, a chat completion gets HTTP 500 (so an unscripted request shows),
# and an unknown path gets 404 / a wrong method 405.
#
# ---------------------------------------------------------------- script
#
# A JSON file: {"rules": [RULE, ...], "default": RESPONSE,
#               "models": ["id", ...], "embedding_dim": N,
#               "embedding_synonyms": {"word": "word it counts as", ...}}
# Unknown keys anywhere are an error (a typo must not silently match).
#
# RULE: {"name": "...",
#        "match": {"path": "/v1/chat/completions",     exact, no query string
#                  "model": "gpt-4o-mini",             request "model"
#                  "contains": "refund",               substring of the body text
#                  "stream": true,                     request "stream" (absent = false)
#                  "has_tools": true,                  request has non-empty "tools"
#                  "response_format": "json_schema"},  its "type", or null for none
#        "times": N,              used at most N times, then skipped (omit: no limit)
#        "respond": RESPONSE      or  "sequence": [RESPONSE, ...]: one per
#                                 matching request, the last one repeats}
# Every "match" key is optional; the first rule whose keys all hold answers.
#
# RESPONSE (an object; forms combine where that makes sense):
#   {"content": "text"}        a chat.completion: id, object, created, model
#                              echoed from the request, choices[0].message,
#                              finish_reason "stop", usage (prompt tokens about
#                              a quarter of the request's text, completion
#                              tokens a quarter of the answer)
#   {"json": {...}}            content is that value serialised
#   {"tool_calls": [{"name": "lookup_order", "arguments": {...}}]}
#                              assistant tool calls (ids call_1, call_2, ... or
#                              "id"); arguments given as a string go out
#                              verbatim (so they can be invalid JSON);
#                              finish_reason "tool_calls"
#   {"refusal": "text"}        message.refusal set, content null
#   "finish_reason": "length"  overrides the finish reason
#   "usage": {...} | null      overrides the usage object (null: left out)
#   {"raw": {...} | "text"}    the body exactly as given (status 200 unless
#                              "status"), also for stream requests
#   {"status": 429, "headers": {"Retry-After": "2"}, "body": {...} | "text"}
#                              an error answer; "retry_after": S and
#                              "retry_after_ms": MS add Retry-After and
#                              retry-after-ms; "content_type" overrides
#   {"error_shape": "openai" | "vllm" | "llamacpp" | "ollama" | "html",
#    "status": N, "message": "...", "type": "...", "code": ...}
#                              an error body the way that server writes it:
#                              openai   {"error":{"message","type","param","code"}}
#                              vllm     {"object":"error","message","type","param","code"}
#                              llamacpp {"error":{"code","message","type"}}
#                              ollama   {"error":"message"}
#                              html     an nginx-style HTML error page
#                              ("status" alone means the openai shape)
#   {"delay_ms": N}            wait before the status line (first byte)
#   {"body_delay_ms": N}       wait between the headers and the body
#   {"truncate": true}         Content-Length larger than the body: half of
#                              it is sent, then the connection closes
#   {"close": true}            close the connection without answering
#   {"reset": true}            reset it (RST) without answering
#   {"hang": true}             never answer; the connection stays open until
#                              the client closes it
#   {"invalid_json": true | "text"}   status 200, a body that is not JSON
#   {"auto": true}             a valid answer to whatever was asked:
#                              response_format json_schema: a minimal instance
#                              of the schema (const, first enum value, first
#                              anyOf/oneOf branch, minimum or 0 for numbers,
#                              false, minItems items, "ok" for strings or a
#                              sample of their format, objects with all their
#                              required keys, $ref and allOf followed);
#                              json_object: an instance of a schema found in
#                              response_format.schema, "guided_json" or the
#                              messages, else {}; otherwise plain content
#                              ("Thanks, let me help with that.", or "Thanks,
#                              I have checked that for you." once the
#                              conversation holds tool results) -- never a
#                              tool call; a RESPONSE with no form that
#                              gives a body ({"delay_ms": 5000}) answers so too
#   Streaming: a request with "stream": true gets content, json, tool_calls
#   and auto answers as server-sent chat.completion.chunk events, in HTTP
#   chunked encoding: the role first, the content in small pieces (words of
#   up to 6 characters, or "chunk_chars": N characters each), each tool call
#   as one event with its index, id and name and then its arguments in pieces
#   of 8 characters, a last event with the finish reason, a usage event when
#   the request set stream_options.include_usage, then "data: [DONE]".
#   "stream": true | false in the RESPONSE overrides the request's choice.
#     "chunk_delay_ms": N      between events
#     "stream_truncate": true | N   stop after half of the events (or N) and
#                              close the connection mid-stream
#     "stream_error": {...}    after half of the events (or
#                              "stream_error_after": N) send
#                              data: {"error": {...}} and end the stream
#                              without a finish reason or [DONE]
#
# Connection refused needs no rule: run with --refuse (or stop the server).
#
# Example (tests/data/... or written by the test itself):
#
#   {"rules": [
#     {"name": "rate-limited-once", "times": 1,
#      "respond": {"status": 429, "retry_after_ms": 200, "message": "slow down"}},
#     {"name": "triage", "match": {"response_format": "json_schema"},
#      "respond": {"json": {"intent": "refund", "confidence": 0.9}}},
#     {"name": "tool", "match": {"has_tools": true, "contains": "order"},
#      "sequence": [{"tool_calls": [{"name": "lookup_order",
#                                    "arguments": {"order_id": "A-1001"}}]},
#                   {"content": "Your order ships tomorrow."}]},
#     {"name": "flaky-gateway", "match": {"model": "flaky"},
#      "sequence": [{"error_shape": "html", "status": 502},
#                   {"truncate": true, "content": "cut short"},
#                   {"content": "finally"}]},
#     {"name": "slow-stream", "match": {"stream": true},
#      "respond": {"content": "Hello there, streaming slowly.",
#                  "chunk_delay_ms": 50}}],
#    "default": {"content": "OK"}}

import argparse
import asyncio
import base64
import hashlib
import json
import math
import os
import re
import select
import signal
import socket
import struct
import sys
import time

EX_USAGE, EX_DATAERR, EX_OSERR = 64, 65, 71

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024

REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 401: "Unauthorized",
    402: "Payment Required", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict",
    413: "Payload Too Large", 422: "Unprocessable Entity",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}

AUTO_REPLY = "Thanks, let me help with that."
AUTO_REPLY_AFTER_TOOLS = "Thanks, I have checked that for you."

# ---------------------------------------------------------------- script


class ScriptError(Exception):
    pass


MATCH_KEYS = {"path", "model", "contains", "stream", "has_tools",
              "response_format"}
RULE_KEYS = {"name", "match", "times", "respond", "sequence"}
RESPONSE_KEYS = {
    "content", "json", "tool_calls", "refusal", "finish_reason", "usage",
    "raw", "status", "headers", "body", "content_type", "retry_after",
    "retry_after_ms", "error_shape", "message", "type", "code", "delay_ms",
    "body_delay_ms", "truncate", "close", "reset", "hang", "invalid_json",
    "auto", "stream", "chunk_chars", "chunk_delay_ms", "stream_truncate",
    "stream_error", "stream_error_after",
}
ERROR_SHAPES = {"openai", "vllm", "llamacpp", "ollama", "html"}


def _check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ScriptError(f"{where}: expected an object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScriptError(f"{where}: unknown key {unknown[0]!r}")


def _check_int(obj, key, where, minimum=0):
    v = obj.get(key)
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ScriptError(f"{where}: {key!r} must be an integer >= {minimum}")


def check_response(resp, where):
    _check_keys(resp, RESPONSE_KEYS, where)
    for k in ("delay_ms", "body_delay_ms", "chunk_delay_ms", "retry_after",
              "retry_after_ms", "stream_error_after"):
        _check_int(resp, k, where)
    _check_int(resp, "chunk_chars", where, 1)
    st = resp.get("stream_truncate")
    if st is not None and not isinstance(st, bool):
        _check_int(resp, "stream_truncate", where)
    if "status" in resp:
        _check_int(resp, "status", where, 100)
        if resp["status"] > 599:
            raise ScriptError(f"{where}: 'status' must be below 600")
    if "error_shape" in resp and resp["error_shape"] not in ERROR_SHAPES:
        raise ScriptError(f"{where}: 'error_shape' must be one of "
                          + ", ".join(sorted(ERROR_SHAPES)))
    if "headers" in resp:
        h = resp["headers"]
        if not isinstance(h, dict) or not all(
                isinstance(v, (str, int)) for v in h.values()):
            raise ScriptError(f"{where}: 'headers' must map names to strings")
    if "content" in resp and not isinstance(resp["content"], str):
        raise ScriptError(f"{where}: 'content' must be a string")
    if "tool_calls" in resp:
        tcs = resp["tool_calls"]
        if not isinstance(tcs, list):
            raise ScriptError(f"{where}: 'tool_calls' must be a list")
        for i, tc in enumerate(tcs):
            _check_keys(tc, {"name", "arguments", "id"},
                        f"{where}: tool_calls[{i}]")
            if not isinstance(tc.get("name"), str):
                raise ScriptError(f"{where}: tool_calls[{i}] needs a name")
    if "stream_error" in resp and not isinstance(resp["stream_error"], dict):
        raise ScriptError(f"{where}: 'stream_error' must be an object")


def load_script(path):
    """Reads and validates a script; returns it as a dict."""
    if path is None:
        return {"rules": []}
    try:
        with open(path, encoding="utf-8") as f:
            script = json.load(f)
    except OSError as e:
        raise ScriptError(f"{path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise ScriptError(f"{path}:{e.lineno}:{e.colno}: {e.msg}")
    _check_keys(script, {"rules", "default", "models", "embedding_dim",
                         "embedding_synonyms"}, path)
    rules = script.setdefault("rules", [])
    if not isinstance(rules, list):
        raise ScriptError(f"{path}: 'rules' must be a list")
    for i, rule in enumerate(rules):
        where = f"{path}: rules[{i}]"
        _check_keys(rule, RULE_KEYS, where)
        rule.setdefault("name", f"rule{i + 1}")
        where = f"{path}: rule {rule['name']!r}"
        m = rule.setdefault("match", {})
        _check_keys(m, MATCH_KEYS, where + " match")
        for k in ("stream", "has_tools"):
            if k in m and not isinstance(m[k], bool):
                raise ScriptError(f"{where}: match {k!r} must be true or false")
        if "response_format" in m and m["response_format"] not in (
                None, "json_schema", "json_object", "text"):
            raise ScriptError(f"{where}: match 'response_format' must be "
                              "json_schema, json_object, text or null")
        _check_int(rule, "times", where)
        if ("respond" in rule) == ("sequence" in rule):
            raise ScriptError(f"{where}: needs one of 'respond', 'sequence'")
        if "respond" in rule:
            check_response(rule["respond"], where)
        else:
            seq = rule["sequence"]
            if not isinstance(seq, list) or not seq:
                raise ScriptError(f"{where}: 'sequence' must be a non-empty list")
            for j, r in enumerate(seq):
                check_response(r, f"{where} sequence[{j}]")
    if "default" in script:
        check_response(script["default"], f"{path}: default")
    models = script.get("models", ["mock-model"])
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ScriptError(f"{path}: 'models' must be a list of strings")
    _check_int(script, "embedding_dim", path, 1)
    syn = script.get("embedding_synonyms", {})
    if not isinstance(syn, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in syn.items()):
        raise ScriptError(f"{path}: 'embedding_synonyms' must map words to words")
    script["embedding_synonyms"] = {k.lower(): v.lower() for k, v in syn.items()}
    return script


# ---------------------------------------------------------------- schemas


def _resolve_ref(ref, root):
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(schema, integer, variant):
    lo, lo_strict = None, False
    if _is_num(schema.get("minimum")):
        lo = schema["minimum"]
        lo_strict = schema.get("exclusiveMinimum") is True  # draft 4
    if _is_num(schema.get("exclusiveMinimum")):
        if lo is None or schema["exclusiveMinimum"] >= lo:
            lo, lo_strict = schema["exclusiveMinimum"], True
    hi, hi_strict = None, False
    if _is_num(schema.get("maximum")):
        hi = schema["maximum"]
        hi_strict = schema.get("exclusiveMaximum") is True
    if _is_num(schema.get("exclusiveMaximum")):
        if hi is None or schema["exclusiveMaximum"] <= hi:
            hi, hi_strict = schema["exclusiveMaximum"], True
    if lo is None:
        v = 0
        if hi is not None and (v > hi or (hi_strict and v >= hi)):
            v = hi - 1 if hi_strict else hi
    elif not lo_strict:
        v = lo
    elif integer:
        v = math.floor(lo) + 1
    elif hi is not None:
        v = (lo + hi) / 2
    else:
        v = lo + 1
    v += variant
    step = schema.get("multipleOf")
    if _is_num(step) and step > 0:
        v = math.ceil(v / step) * step
    if integer:
        v = math.ceil(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return v


STRING_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "ok@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
}


def _merge_all_of(schema, root):
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for sub in schema["allOf"]:
        if isinstance(sub, dict) and "$ref" in sub:
            sub = _resolve_ref(sub["$ref"], root)
        if not isinstance(sub, dict):
            continue
        if "allOf" in sub:
            sub = _merge_all_of(sub, root)
        for k, v in sub.items():
            if k == "properties":
                merged.setdefault("properties", {}).update(v)
            elif k == "required":
                req = merged.setdefault("required", [])
                req.extend(x for x in v if x not in req)
            else:
                merged.setdefault(k, v)
    return merged


def schema_instance(schema, root=None, depth=0, variant=0):
    """A minimal value valid against the JSON schema (see the manual above).

    variant shifts enum choices, numbers and strings so that the items of a
    uniqueItems array differ."""
    if root is None:
        root = schema
    if depth > 40 or schema is True or not isinstance(schema, dict):
        return "ok"
    if "$ref" in schema:
        return schema_instance(_resolve_ref(schema["$ref"], root), root,
                               depth + 1, variant)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][variant % len(schema["enum"])]
    if isinstance(schema.get("allOf"), list):
        return schema_instance(_merge_all_of(schema, root), root, depth + 1,
                               variant)
    for key in ("anyOf", "oneOf"):
        alts = schema.get(key)
        if isinstance(alts, list) and alts:
            pick = alts[0]
            for alt in alts:
                if not (isinstance(alt, dict) and alt.get("type") == "null"):
                    pick = alt
                    break
            rest = {k: v for k, v in schema.items() if k != key}
            if isinstance(pick, dict) and "$ref" in pick:
                pick = _resolve_ref(pick["$ref"], root)
            if isinstance(pick, dict):
                rest.update(pick)
            return schema_instance(rest, root, depth + 1, variant)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null" if t else None)
    if t is None:
        if "properties" in schema or "required" in schema:
            t = "object"
        elif "items" in schema or "prefixItems" in schema:
            t = "array"
        elif any(k in schema for k in ("minimum", "maximum",
                                       "exclusiveMinimum", "exclusiveMaximum")):
            t = "number"
        else:
            t = "string"
    if t == "object":
        props = schema.get("properties") or {}
        out = {}
        for k in schema.get("required") or []:
            out[k] = schema_instance(props.get(k, {}), root, depth + 1)
        want = schema.get("minProperties", 0)
        for k, sub in props.items():
            if len(out) >= want:
                break
            if k not in out:
                out[k] = schema_instance(sub, root, depth + 1)
        return out
    if t == "array":
        n = schema.get("minItems", 0)
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        if isinstance(items, list):  # draft 4 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        unique = schema.get("uniqueItems") is True
        out = []
        for i in range(n):
            sub = prefix[i] if i < len(prefix) else items
            out.append(schema_instance(sub, root, depth + 1,
                                       i if unique else 0))
        return out
    if t in ("integer", "number"):
        return _number(schema, t == "integer", variant)
    if t == "boolean":
        return variant % 2 == 1
    if t == "null":
        return None
    s = STRING_FORMATS.get(schema.get("format"), "ok")
    if variant:
        s += str(variant)
    if isinstance(schema.get("minLength"), int) and len(s) < schema["minLength"]:
        s += "k" * (schema["minLength"] - len(s))
    if isinstance(schema.get("maxLength"), int):
        s = s[:schema["maxLength"]]
    return s


def _looks_like_schema(d):
    return isinstance(d, dict) and (
        "$schema" in d or "properties" in d
        or d.get("type") in ("object", "array"))


def _message_texts(req):
    for m in req.get("messages") or []:
        if not isinstance(m, dict):
            continue
        c = m.get("content")
        if isinstance(c, str):
            yield c
        elif isinstance(c, list):
            for part in c:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    yield part["text"]


def find_schema(req):
    """The schema a json_object request hints at, or None."""
    rf = req.get("response_format")
    if isinstance(rf, dict):
        if isinstance(rf.get("schema"), dict):  # llama.cpp
            return rf["schema"]
        js = rf.get("json_schema")
        if isinstance(js, dict) and isinstance(js.get("schema"), dict):
            return js["schema"]
    if isinstance(req.get("guided_json"), dict):  # vLLM
        return req["guided_json"]
    dec = json.JSONDecoder()
    for text in _message_texts(req):
        tries = 0
        for m in re.finditer(r"\{", text):
            tries += 1
            if tries > 200:
                break
            try:
                d, _ = dec.raw_decode(text, m.start())
            except ValueError:
                continue
            if isinstance(d, dict) and "schema" in d and _looks_like_schema(d["schema"]):
                return d["schema"]
            if _looks_like_schema(d):
                return d
    return None


def auto_answer(req):
    """The RESPONSE {"auto": true} stands for, given the request."""
    rf = req.get("response_format")
    rtype = rf.get("type") if isinstance(rf, dict) else None
    if rtype == "json_schema":
        js = rf.get("json_schema")
        schema = js.get("schema") if isinstance(js, dict) else None
        return {"json": schema_instance(schema if isinstance(schema, dict) else {"type": "object"})}
    if rtype == "json_object":
        schema = find_schema(req)
        return {"json": schema_instance(schema) if schema is not None else {}}
    msgs = req.get("messages") or []
    if any(isinstance(m, dict) and m.get("role") == "tool" for m in msgs):
        return {"content": AUTO_REPLY_AFTER_TOOLS}
    return {"content": AUTO_REPLY}


# ---------------------------------------------------------------- answers


def request_text_len(req):
    n = sum(len(t) for t in _message_texts(req))
    if req.get("tools"):
        n += len(json.dumps(req["tools"]))
    if isinstance(req.get("input"), (str, list)):
        n += len(json.dumps(req["input"]))
    return n


def tokens(nchars):
    return max(1, round(nchars / 4))


def error_body(resp):
    """(content type, body bytes) of an error RESPONSE."""
    status = resp.get("status", 500)
    reason = REASONS.get(status, "Error")
    if "body" in resp:
        b = resp["body"]
        if isinstance(b, str):
            try:
                json.loads(b)
                ctype = "application/json"
            except ValueError:
                ctype = "text/plain; charset=utf-8"
            return ctype, b.encode()
        return "application/json", json.dumps(b).encode()
    shape = resp.get("error_shape", "openai")
    msg = resp.get("message", f"mock-openai: {status} {reason}")
    if shape == "html":
        html = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n"
                f"<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        return "text/html", html.encode()
    if shape == "ollama":
        return "application/json", json.dumps({"error": msg}).encode()
    if shape == "vllm":
        vtypes = {400: "BadRequestError", 401: "UnauthorizedError",
                  404: "NotFoundError", 429: "TooManyRequestsError",
                  503: "ServiceUnavailableError"}
        body = {"object": "error", "message": msg,
                "type": resp.get("type", vtypes.get(status, "InternalServerError")),
                "param": None, "code": resp.get("code", status)}
        return "application/json", json.dumps(body).encode()
    if shape == "llamacpp":
        ltypes = {400: "invalid_request_error", 401: "authentication_error",
                  403: "permission_error", 404: "not_found_error",
                  501: "not_supported_error", 503: "unavailable_error"}
        body = {"error": {"code": resp.get("code", status), "message": msg,
                          "type": resp.get("type", ltypes.get(status, "server_error"))}}
        return "application/json", json.dumps(body).encode()
    otypes = {400: ("invalid_request_error", None),
              401: ("invalid_request_error", "invalid_api_key"),
              403: ("invalid_request_error", "unsupported_country_region_territory"),
              404: ("invalid_request_error", "model_not_found"),
              429: ("requests", "rate_limit_exceeded")}
    otype, ocode = otypes.get(status, ("server_error", None))
    body = {"error": {"message": msg, "type": resp.get("type", otype),
                      "param": None, "code": resp.get("code", ocode)}}
    return "application/json", json.dumps(body).encode()


def completion_parts(resp):
    """(content, tool calls, refusal, finish reason) of a success RESPONSE."""
    content = None
    if "json" in resp:
        content = json.dumps(resp["json"], ensure_ascii=False)
    if "content" in resp:
        content = resp["content"]
    calls = None
    if "tool_calls" in resp:
        calls = []
        for i, tc in enumerate(resp["tool_calls"]):
            args = tc.get("arguments", {})
            if not isinstance(args, str):
                args = json.dumps(args, ensure_ascii=False)
            calls.append({"id": tc.get("id", f"call_{i + 1}"), "type": "function",
                          "function": {"name": tc["name"], "arguments": args}})
    refusal = resp.get("refusal")
    finish = resp.get("finish_reason", "tool_calls" if calls else "stop")
    return content, calls, refusal, finish


def completion_usage(resp, req, content, calls):
    if "usage" in resp:
        return resp["usage"]
    n = len(content or "")
    for c in calls or []:
        n += len(c["function"]["name"]) + len(c["function"]["arguments"])
    p, c = tokens(request_text_len(req)), tokens(n)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def split_text(text, size=None):
    if size:
        return [text[i:i + size] for i in range(0, len(text), size)]
    return re.findall(r"\s*\S{1,6}|\s+", text, re.S)


def embed(text, dim, synonyms=None):
    """A deterministic unit vector: signed feature hashing of the words
    (each replaced by its synonym when the script gives one)."""
    vec = [0.0] * dim
    words = re.findall(r"\w+", text.lower()) or [text]
    for w in words:
        w = (synonyms or {}).get(w, w)
        h = hashlib.sha256(w.encode("utf-8", "replace")).digest()
        for off, weight in ((0, 1.0), (5, 0.5)):
            idx = int.from_bytes(h[off:off + 4], "big") % dim
            vec[idx] += weight if h[off + 4] & 1 else -weight
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [round(x / norm, 6) for x in vec]


# ---------------------------------------------------------------- server


class Closed(Exception):
    """The connection is done (client went away, or we closed it on purpose)."""


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.path = target.split("?", 1)[0]
        self.version = version
        self.headers = headers
        self.raw = body
        self.text = body.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text) if self.text.strip() else None
        except ValueError:
            self.json = None
        self.obj = self.json if isinstance(self.json, dict) else {}

    def keep_alive(self):
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


class Server:
    def __init__(self, script, args):
        self.script = script
        self.args = args
        self.rules = script["rules"]
        self.used = {r["name"]: 0 for r in self.rules}
        self.requests = 0
        self.inflight = 0
        self.max_inflight = 0
        self.connections = 0
        self.connections_total = 0
        self.tasks = set()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    # -- rules

    def _matches(self, rule, req):
        m, o = rule["match"], req.obj
        if "path" in m and m["path"] != req.path:
            return False
        if "model" in m and o.get("model") != m["model"]:
            return False
        if "contains" in m and m["contains"] not in req.text:
            return False
        if "stream" in m and bool(o.get("stream")) != m["stream"]:
            return False
        if "has_tools" in m and bool(o.get("tools") or o.get("functions")) != m["has_tools"]:
            return False
        if "response_format" in m:
            rf = o.get("response_format")
            t = rf.get("type") if isinstance(rf, dict) else None
            if t != m["response_format"]:
                return False
        return True

    def choose(self, req):
        """(rule name, RESPONSE or None for the built-in answer)."""
        for rule in self.rules:
            name = rule["name"]
            if "times" in rule and self.used[name] >= rule["times"]:
                continue
            if not self._matches(rule, req):
                continue
            k = self.used[name]
            self.used[name] = k + 1
            if "respond" in rule:
                return name, rule["respond"]
            seq = rule["sequence"]
            return name, seq[min(k, len(seq) - 1)]
        if self.args.auto:
            return "auto", {"auto": True}
        if "default" in self.script:
            return "default", self.script["default"]
        return "builtin", None

    # -- connection

    async def handle(self, reader, writer):
        task = asyncio.current_task()
        self.tasks.add(task)
        self.connections += 1
        self.connections_total += 1
        try:
            while True:
                req = await self.read_request(reader, writer)
                if req is None:
                    break
                if req.path == "/stats" and req.method == "GET":
                    await self.send(writer, 200, {}, "application/json",
                                    json.dumps(self.stats()).encode(),
                                    req.keep_alive())
                else:
                    self.requests += 1
                    self.inflight += 1
                    self.max_inflight = max(self.max_inflight, self.inflight)
                    try:
                        keep = await self.answer(req, reader, writer, self.requests)
                    finally:
                        self.inflight -= 1
                    if not keep:
                        break
                if not req.keep_alive():
                    break
        except (Closed, ConnectionError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: no traceback per open connection
        finally:
            self.connections -= 1
            self.tasks.discard(task)
            try:
                writer.close()
            except (ConnectionError, RuntimeError):
                pass

    async def read_request(self, reader, writer):
        """The next request on the connection, or None at a clean EOF."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if e.partial.strip():
                raise Closed()
            return None
        except asyncio.LimitOverrunError:
            await self.send(writer, 431, {}, "text/plain", b"header too large\n", False)
            raise Closed()
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            await self.send(writer, 400, {}, "text/plain", b"bad request line\n", False)
            raise Closed()
        headers = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                await self.send(writer, 400, {}, "text/plain", b"bad header\n", False)
                raise Closed()
            name, value = name.strip().lower(), value.strip()
            headers[name] = headers[name] + ", " + value if name in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        body = b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            total = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise Closed()
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if n < 0 or n > MAX_BODY:
                await self.send(writer, 413, {}, "text/plain", b"too large\n", False)
                raise Closed()
            body = await reader.readexactly(n)
        return Request(parts[0], parts[1], parts[2], headers, body)

    def stats(self):
        return {"requests": self.requests, "inflight": self.inflight,
                "max_inflight": self.max_inflight,
                "connections": self.connections,
                "connections_total": self.connections_total,
                "rules": dict(self.used)}

    def write_log(self, n, req, rule):
        if not self.log:
            return
        body = req.json if req.json is not None else (req.text or None)
        line = {"n": n, "method": req.method, "path": req.path,
                "headers": req.headers, "body": body, "rule": rule, "t": round(time.monotonic(), 3)}
        self.log.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.log.flush()

    async def send(self, writer, status, headers, ctype, body, keep_alive,
                   body_delay_ms=0, truncate=False):
        hdrs = {"Content-Type": ctype, "Content-Length": str(len(body))}
        if truncate:
            hdrs["Content-Length"] = str(len(body) + max(16, len(body)))
            body = body[:len(body) // 2]
        hdrs.update({k: str(v) for k, v in headers.items()})
        if not keep_alive:
            hdrs["Connection"] = "close"
        head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        if body_delay_ms:
            await writer.drain()
            await asyncio.sleep(body_delay_ms / 1000)
        writer.write(body)
        await writer.drain()
        if truncate:
            raise Closed()

    async def answer(self, req, reader, writer, n):
        """Answers one request; returns whether the connection stays open."""
        rule, resp = self.choose(req)
        natural = {("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings"),
                   ("GET", "/v1/models")}
        known_paths = {p for _, p in natural}
        if resp is None or (rule in ("default", "auto") and (req.method, req.path) not in natural):
            if (req.method, req.path) not in natural:
                if req.path in known_paths:
                    resp = {"status": 405, "message": f"{req.method} not allowed on {req.path}"}
                else:
                    resp = {"status": 404, "message": f"unknown path {req.path}"}
            elif req.path == "/v1/chat/completions":
                resp = {"status": 500, "message": "mock-openai: no rule matches this request"}
            else:
                resp = {}
            rule = "builtin"
        self.write_log(n, req, rule)
        delay = self.args.delay_ms + resp.get("delay_ms", 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        if resp.get("close"):
            raise Closed()
        if resp.get("reset"):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            writer.transport.abort()
            raise Closed()
        if resp.get("hang"):
            while await reader.read(65536):
                pass
            raise Closed()
        keep = req.keep_alive()
        headers = dict(resp.get("headers", {}))
        if "retry_after" in resp:
            headers["Retry-After"] = resp["retry_after"]
        if "retry_after_ms" in resp:
            headers["retry-after-ms"] = resp["retry_after_ms"]
        if any(k.lower() == "connection" and "close" in str(v).lower()
               for k, v in headers.items()):
            keep = False
        bd, trunc = resp.get("body_delay_ms", 0), bool(resp.get("truncate"))
        ctype_override = resp.get("content_type")

        def out(status, ctype, body):
            return self.send(writer, status, headers, ctype_override or ctype,
                             body, keep, bd, trunc)

        if "status" in resp or "error_shape" in resp or "body" in resp:
            if "raw" in resp:
                raw = resp["raw"]
                ctype, body = "application/json", (
                    raw.encode() if isinstance(raw, str) else json.dumps(raw).encode())
            else:
                ctype, body = error_body(resp)
            await out(resp.get("status", 500 if "body" not in resp else 200), ctype, body)
            return keep
        if "raw" in resp:
            raw = resp["raw"]
            body = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
            await out(200, "application/json", body)
            return keep
        if resp.get("invalid_json"):
            iv = resp["invalid_json"]
            body = iv if isinstance(iv, str) else (
                '{"id": "chatcmpl-mock", "object": "chat.completion", '
                '"choices": [{"index": 0, "message": {"role": "assistant", '
                '"content": "unterminated')
            await out(200, "application/json", body.encode())
            return keep
        o = req.obj
        model = o.get("model") if isinstance(o.get("model"), str) else "mock-model"
        if req.path == "/v1/embeddings" and req.method == "POST":
            await out(200, "application/json",
                      json.dumps(self.embeddings(o, model)).encode())
            return keep
        if req.path == "/v1/models" and req.method == "GET":
            models = self.script.get("models", ["mock-model"])
            body = {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000,
                 "owned_by": "mock-openai"} for m in models]}
            await out(200, "application/json", json.dumps(body).encode())
            return keep
        if resp.get("auto") or not any(
                k in resp for k in ("content", "json", "tool_calls", "refusal")):
            resp = {**resp, **auto_answer(o)}
        content, calls, refusal, finish = completion_parts(resp)
        usage = completion_usage(resp, o, content, calls)
        cid = f"chatcmpl-mock-{n}"
        created = int(time.time())
        stream = resp.get("stream", bool(o.get("stream")))
        if stream:
            await self.stream(req, writer, resp, headers, keep, cid, created,
                              model, content, calls, refusal, finish, usage)
            return keep
        msg = {"role": "assistant", "content": content}
        if refusal is not None:
            msg["refusal"] = refusal
        if calls:
            msg["tool_calls"] = calls
        body = {"id": cid, "object": "chat.completion", "created": created,
                "model": model, "system_fingerprint": "fp_mock",
                "choices": [{"index": 0, "message": msg, "logprobs": None,
                             "finish_reason": finish}]}
        if usage is not None:
            body["usage"] = usage
        await out(200, "application/json", json.dumps(body, ensure_ascii=False).encode())
        return keep

    def embeddings(self, o, model):
        inp = o.get("input", "")
        items = inp if isinstance(inp, list) and inp and not all(
            isinstance(x, int) for x in inp) else [inp]
        dim = o.get("dimensions")
        if not (isinstance(dim, int) and not isinstance(dim, bool) and dim > 0):
            dim = self.script.get("embedding_dim", self.args.embedding_dim)
        data = []
        for i, item in enumerate(items):
            text = item if isinstance(item, str) else json.dumps(item)
            vec = embed(text, dim, self.script.get("embedding_synonyms"))
            if o.get("encoding_format") == "base64":
                vec = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": vec})
        t = tokens(request_text_len(o))
        return {"object": "list", "data": data, "model": model,
                "usage": {"prompt_tokens": t, "total_tokens": t}}

    async def stream(self, req, writer, resp, headers, keep, cid, created,
                     model, content, calls, refusal, finish, usage):
        o = req.obj
        so = o.get("stream_options")
        include_usage = isinstance(so, dict) and so.get("include_usage") is True

        def chunk(delta, finish_reason=None):
            c = {"id": cid, "object": "chat.completion.chunk", "created": created,
                 "model": model, "system_fingerprint": "fp_mock",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                              "finish_reason": finish_reason}]}
            if include_usage:
                c["usage"] = None
            return c

        events = [chunk({"role": "assistant", "content": "" if content is not None else None})]
        for piece in split_text(content or "", resp.get("chunk_chars")):
            events.append(chunk({"content": piece}))
        if refusal is not None:
            for piece in split_text(refusal, resp.get("chunk_chars")):
                events.append(chunk({"refusal": piece}))
        for i, call in enumerate(calls or []):
            fn = call["function"]
            events.append(chunk({"tool_calls": [{
                "index": i, "id": call["id"], "type": "function",
                "function": {"name": fn["name"], "arguments": ""}}]}))
            for piece in split_text(fn["arguments"], 8):
                events.append(chunk({"tool_calls": [{
                    "index": i, "function": {"arguments": piece}}]}))
        events.append(chunk({}, finish))
        if include_usage and usage is not None:
            events.append({"id": cid, "object": "chat.completion.chunk",
                           "created": created, "model": model,
                           "system_fingerprint": "fp_mock", "choices": [],
                           "usage": usage})
        wire = [b"data: " + json.dumps(e, ensure_ascii=False).encode() + b"\n\n"
                for e in events]
        wire.append(b"data: [DONE]\n\n")

        cut = None
        st = resp.get("stream_truncate", resp.get("truncate"))
        if st is True:
            cut = max(1, len(events) // 2)
        elif isinstance(st, int) and not isinstance(st, bool):
            cut = st
        err_at = None
        if "stream_error" in resp:
            err_at = resp.get("stream_error_after", max(1, len(events) // 2))
            err = resp["stream_error"]
            if "error" not in err:
                err = {"error": err}
            wire = wire[:err_at] + [b"data: " + json.dumps(err).encode() + b"\n\n"]

        chunked = req.version != "HTTP/1.0"
        if not chunked:
            keep = False
        hdrs = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        if chunked:
            hdrs["Transfer-Encoding"] = "chunked"
        hdrs.update({k: str(v) for k, v in headers.items()})
        hdrs["Connection"] = "keep-alive" if keep else "close"
        head = "HTTP/1.1 200 OK\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        await writer.drain()
        if resp.get("body_delay_ms"):
            await asyncio.sleep(resp["body_delay_ms"] / 1000)
        gap = resp.get("chunk_delay_ms", 0) / 1000
        for i, data in enumerate(wire):
            if cut is not None and i >= cut:
                raise Closed()
            if i and gap:
                await asyncio.sleep(gap)
            writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        if not keep:
            raise Closed()


# ---------------------------------------------------------------- main


def write_port(args, port):
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)


def raise_fd_limit():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = hard if hard != resource.RLIM_INFINITY else 65536
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


def stop_event():
    """An event SIGTERM and SIGINT set; installed before the port is
    announced, so a test that stops the server at once still gets exit 0."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def bind_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    return s


async def run_refuse(args):
    stop = stop_event()
    s = bind_socket(args.port)  # bound, never listening: connect gets RST
    write_port(args, s.getsockname()[1])
    await stop.wait()
    s.close()


async def run_stall(args):
    stop = stop_event()
    s = bind_socket(args.port)
    s.listen(0)
    addr = s.getsockname()
    fillers = []
    # Connect to ourselves until the accept queue is full: from then on the
    # kernel drops every SYN, so clients wait in connect().
    for _ in range(64):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(addr)
        _, w, _ = select.select([], [c], [], 0.2)
        if not w:
            c.close()
            break
        fillers.append(c)
    write_port(args, addr[1])
    await stop.wait()
    for c in fillers:
        c.close()
    s.close()


async def run_server(args, script):
    stop = stop_event()
    server = Server(script, args)
    try:
        srv = await asyncio.start_server(server.handle, "127.0.0.1", args.port,
                                         limit=MAX_HEAD, backlog=4096,
                                         reuse_address=True)
    except OSError as e:
        print(f"mock-openai: cannot listen on 127.0.0.1:{args.port}: {e.strerror}",
              file=sys.stderr)
        return EX_OSERR
    write_port(args, srv.sockets[0].getsockname()[1])
    await stop.wait()
    srv.close()
    for t in list(server.tasks):
        t.cancel()
    await asyncio.gather(*server.tasks, return_exceptions=True)
    if server.log:
        server.log.close()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="mock-openai.py",
        description="Loopback OpenAI-compatible server for tests "
                    "(the manual is the comment at the top of this file).")
    p.add_argument("--script")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--auto", action="store_true")
    p.add_argument("--embedding-dim", type=int, default=64)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--refuse", action="store_true")
    mode.add_argument("--stall-connect", action="store_true")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return EX_USAGE if e.code else 0
    if args.delay_ms < 0 or args.embedding_dim < 1 or not 0 <= args.port < 65536:
        print("mock-openai: --delay-ms, --embedding-dim or --port out of range",
              file=sys.stderr)
        return EX_USAGE
    try:
        script = load_script(args.script)
    except ScriptError as e:
        print(f"mock-openai: {e}", file=sys.stderr)
        return EX_DATAERR
    raise_fd_limit()
    try:
        if args.refuse:
            return asyncio.run(run_refuse(args)) or 0
        if args.stall_connect:
            return asyncio.run(run_stall(args)) or 0
        return asyncio.run(run_server(args, script))
    except OSError as e:
        print(f"mock-openai: {e}", file=sys.stderr)
        return EX_OSERR


if __name__ == "__main__":
    sys.exit(main())
