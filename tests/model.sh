#!/bin/sh
# model.sh -- frontline against a scripted loopback OpenAI-compatible server.
#
# Every case starts tests/mock-openai.py with its own script, points the
# config file's endpoint at it and runs `frontline --backend openai` chat or
# triage: valid answers, tool calls, schema violations (repaired, then not),
# 429 with Retry-After, 5xx, refused connections, a hung server, truncated and
# invalid bodies, streamed answers cut short, error-body shapes, the circuit
# breaker. Every conversation must end in a reply or a handoff, the offline
# engine must take over triage and handoff when the model fails, and the API
# key must never show. Needs python3 (skipped without it); no network.
#
# Run by make check; by hand: FRONTLINE=./frontline top_srcdir=. sh tests/model.sh

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

if ! command -v python3 >/dev/null 2>&1; then
	echo "model.sh: python3 not found (apt-get install python3): skipped"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-model.XXXXXX") || exit 99
mock_pid=
stop_mock() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
		mock_pid=
	fi
}
cleanup() {
	stop_mock
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
KEY=sk-test-9f8e7d6c5b4a3210fedcba
OPENAI_API_KEY=$KEY
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_DATADIR \
	FRONTLINE_MODEL OPENAI_API_KEY
unset OPENAI_BASE_URL
LC_ALL=C
export LC_ALL

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed -n '1,12s/^/    | /p' "$f" | cut -c1-300
	done
	return 0
}

# mock SCRIPT-JSON [ENDPOINT-YAML-LINES] [MOCK-ARGS...]: (re)starts the server
# with that script; writes $T/cfg.yaml for it. The extra YAML lines go under
# the endpoint (timeouts, retries, breaker...).
mock() {
	stop_mock
	printf '%s\n' "$1" >"$T/script.json"
	extra=$2
	shift 2
	rm -f "$T/port" "$T/log.jsonl"
	python3 "$top_srcdir/tests/mock-openai.py" --script "$T/script.json" \
		--port-file "$T/port" --log "$T/log.jsonl" "$@" >/dev/null 2>"$T/mock.err" &
	mock_pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	{
		echo "endpoints:"
		echo "  openai:"
		echo "    base_url: http://127.0.0.1:$(cat "$T/port")/v1"
		echo "    backoff: {base_ms: 20, cap_ms: 200}"
		[ -n "$extra" ] && printf '%s\n' "$extra" | sed 's/^/    /'
		echo "prices:"
		echo "  gpt-4o-mini: {input_per_mtok: 0.15, output_per_mtok: 0.60}"
		echo "  gpt-4o: {input_per_mtok: 2.50, output_per_mtok: 10.00}"
	} >"$T/cfg.yaml"
}

# chat MESSAGE...: one conversation of these messages for C-1001; output in
# $T/out, stderr in $T/err, exit status in $rc. A hang is a failure (timeout).
# Every agent is on the model backend unless $BACKEND says otherwise.
BACKEND="--backend openai"
chat() {
	rm -f "$T/db" "$T/db-wal" "$T/db-shm"
	printf '%s\n' "$@" >"$T/in"
	timeout 60 "$FRONTLINE" --db "$T/db" --config "$T/cfg.yaml" $BACKEND \
		chat --json --customer C-1001 <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
}

# jq-less checks: py EXPR over the turns (a list of dicts, t = the last).
check() { # NAME PYTHON-EXPRESSION
	if python3 -c '
import json, sys
turns = [json.loads(l) for l in open(sys.argv[1])]
t = turns[-1] if turns else {}
m = {s["agent"]: s for s in t.get("models", [])}
log = [json.loads(l) for l in open(sys.argv[2])] if sys.argv[2] else []
sys.exit(0 if eval(sys.argv[3]) else 1)
' "$T/out" "$([ -f "$T/log.jsonl" ] && echo "$T/log.jsonl")" "$2" 2>"$T/check.err"; then
		ok "$1"
	else
		not_ok "$1" "$T/check.err" "$T/out" "$T/err"
	fi
}

expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $rc, wanted $2" "$T/err" "$T/out"; fi
}

no_key() { # NAME: the key is in no output, error, store or event
	if grep -F -q -- "$KEY" "$T/out" "$T/err" "$T/db"* 2>/dev/null; then
		not_ok "$1: the API key leaked"
	else
		ok "$1: the API key never shows"
	fi
}

TRIAGE='{"intent_category":"shipping","urgency":"normal","sentiment":"neutral","entities":{"order_numbers":["A12345","Z99999"],"account_ids":[],"emails":[],"phones":[],"amounts":[],"products":[]},"complexity_signal":"simple","has_legal_language":false,"intent_confidence":0.93,"route":"human-queue-priority"}'
BADTRIAGE='{"intent_category":"shipping","urgency":"urgent","sentiment":"neutral"}'
HANDOFF='{"summary":"Customer wants order A12345 refunded now.","next_steps":["Check the order"],"tone":"Impatient; be brief."}'
REPLY='Your order A12345 shipped with UPS, tracking 1Z999AA10123456784.'
r_triage() { echo "{\"name\":\"triage\",\"match\":{\"contains\":\"triage_result\"},$1}"; }
r_handoff() { echo "{\"name\":\"handoff\",\"match\":{\"contains\":\"handoff_judgement\"},$1}"; }

# ------------------------------------------------ dialogue state in the prompt
# The model sees what the message does and what the agent waits for, and a
# fact's agent-only text apart from what it may quote.
mock "{\"rules\":[$(r_triage "\"respond\":{\"json\":$TRIAGE}"),
 {\"name\":\"reply\",\"match\":{\"model\":\"gpt-4o\"},\"respond\":{\"content\":\"Happy to help with that.\"}}]}" ""
BACKEND="--backend openai" chat "hello?" "how do goodwill credits work?"
expect_rc "dialogue: chat" 0
check "dialogue: the greeting is named as one in the model's context" \
	'any("This message is a greeting." in mm.get("content", "") for e in log for mm in e["body"].get("messages", []))'
check "dialogue: agent-only knowledge is given apart, marked never to be quoted" \
	'any("Guidance for you only, never to be quoted: agents may offer" in mm.get("content", "") and "never paid out as cash" in mm.get("content", "") for e in log for mm in e["body"].get("messages", []))'

# ------------------------------------------------------ valid answers
mock "{\"rules\":[$(r_triage "\"respond\":{\"json\":$TRIAGE}"),
 {\"name\":\"tools\",\"match\":{\"model\":\"gpt-4o\",\"has_tools\":true},\"times\":1,
  \"respond\":{\"tool_calls\":[{\"name\":\"get_order_status\",\"arguments\":{\"order_id\":\"A12345\"}},
                           {\"name\":\"get_customer_account\",\"arguments\":{\"customer_id\":\"C-1002\"}}]}},
 {\"name\":\"reply\",\"match\":{\"model\":\"gpt-4o\"},\"respond\":{\"content\":\"$REPLY\"}}]}" ""
chat "where is my order A12345"
expect_rc "valid answers: chat" 0
check "triage: the model's category" 't["triage"]["intent_category"] == "shipping" and m["triage"]["ok"]'
check "triage: the route is the policy's, not the model's" 't["triage"]["route"] == "resolution-agent-general"'
check "triage: an order number not in the message is dropped" 't["triage"]["entities"]["order_numbers"] == ["A12345"]'
check "resolution: the model's reply, validated, with the AI disclosure" \
	't["reply"].endswith("'"$REPLY"'") and t["validation"]["passed"] and "ai_disclosure" in t["disclosures"]'
check "resolution: tool calls go through the governed registry" \
	'[(k["name"], k["allowed"]) for k in t["tools"]] == [("get_order_status", True), ("get_order_status", True), ("get_customer_account", False)]'
check "resolution: a tool the route lacks is refused and the refusal is reported back" \
	'"does not grant" in t["tools"][2]["refusal"] and any(mm.get("role") == "tool" and "refused" in mm.get("content", "") for e in log for mm in e["body"].get("messages", []))'
check "requests: the key is sent as a bearer token" 'all(e["headers"].get("authorization") == "Bearer '"$KEY"'" for e in log)'
check "requests: triage asks for json_schema, resolution offers tools and streams" \
	'log[0]["body"]["response_format"]["type"] == "json_schema" and any(e["body"].get("tools") and e["body"].get("stream") for e in log)'
check "tokens are counted per step" 'm["resolution"]["prompt_tokens"] > 0 and m["triage"]["completion_tokens"] > 0'
check "cost from the price table, per step" \
	'abs(m["resolution"]["cost_usd"] - (m["resolution"]["prompt_tokens"] * 2.5 + m["resolution"]["completion_tokens"] * 10) / 1e6) < 1e-9 and m["triage"]["cost_usd"] > 0'
no_key "valid answers"

TRIAGE_OK="$(r_triage "\"respond\":{\"json\":$TRIAGE}")"
RESOLVE_OK='{"name":"reply","match":{"model":"gpt-4o"},"respond":{"content":"'"$REPLY"'"}}'

# ------------------------------------------- a model's promise is held
PROMISE='I guarantee you will get a full refund of $129.99 tomorrow.'
mock "{\"rules\":[$TRIAGE_OK,{\"name\":\"reply\",\"match\":{\"model\":\"gpt-4o\"},\"respond\":{\"content\":\"$PROMISE\"}}]}" ""
chat "where is my order A12345"
expect_rc "promise: chat" 0
check "promise: the model's reply promising beyond authority never reaches the customer" \
	't["reply"] is None and not t["validation"]["passed"] and t["escalation"]["escalate"]'
check "promise: held for the guarantee, the amount and the day" \
	'{"commitment:guarantee:I guarantee", "commitment:amount:$129.99", "commitment:date:tomorrow"} <= set(t["validation"]["violations"])'

# ------------------------------------------------ capability presets
mock "{\"rules\":[$TRIAGE_OK,$RESOLVE_OK]}" "preset: llama.cpp"
chat "where is my order A12345"
check "preset llama.cpp: tools offered without tool_choice, no stream usage, max_tokens" \
	'any(e["body"].get("tools") for e in log) and not any("tool_choice" in e["body"] or "stream_options" in e["body"] or "max_completion_tokens" in e["body"] for e in log) and all("max_tokens" in e["body"] for e in log)'
mock "{\"rules\":[$TRIAGE_OK,$RESOLVE_OK]}" "preset: llama.cpp
tool_choice: true"
chat "where is my order A12345"
check "preset llama.cpp with tool_choice: true: the flag wins" 'any(e["body"].get("tool_choice") == "auto" for e in log)'
mock "{\"rules\":[$TRIAGE_OK,$RESOLVE_OK]}" "preset: openai"
chat "where is my order A12345"
check "preset openai: max_completion_tokens" 'all("max_completion_tokens" in e["body"] and "max_tokens" not in e["body"] for e in log)'
mock '{"rules":[]}' "preset: vllm-nightly"
chat "hello"
expect_rc "an unknown preset" 78
if grep -q "cfg.yaml:5:13: preset: no preset named 'vllm-nightly'" "$T/err"; then ok "an unknown preset: file:line:col and why"; else not_ok "an unknown preset: file:line:col and why" "$T/err"; fi

# ------------------------------------------------ tools over HTTP, on the loop
# The tool backend is the mock too (a rule answers the order path): the
# model's tool call goes out as an asynchronous request on the same loop.
ORDER='{"found":true,"order":{"id":"A12345","status":"shipped","carrier":"UPS","tracking":"1Z999AA10123456784"}}'
mock "{\"rules\":[$TRIAGE_OK,
 {\"name\":\"order\",\"match\":{\"path\":\"/tools/orders/A12345\"},\"respond\":{\"raw\":$ORDER}},
 {\"name\":\"tools\",\"match\":{\"model\":\"gpt-4o\",\"has_tools\":true},\"times\":1,
  \"respond\":{\"tool_calls\":[{\"name\":\"get_order_status\",\"arguments\":{\"order_id\":\"A12345\"}}]}},
 $RESOLVE_OK]}" ""
port=$(cat "$T/port")
http_tools() { # ORDER-URL
	{
		echo "tools:"
		echo "  backend: http"
		echo "  http: {account_url: \"http://127.0.0.1:$port/tools/accounts/{customer_id}\", order_url: \"$1\", timeout_ms: 2000}"
	} >>"$T/cfg.yaml"
}
http_tools "http://127.0.0.1:$port/tools/orders/{order_id}"
chat "where is my order A12345"
expect_rc "http tools: chat" 0
check "http tools: the plan's read and the model's call both went out over HTTP" \
	'[(k["name"], k["allowed"], (k["result"] or {}).get("order", {}).get("carrier")) for k in t["tools"]] == [("get_order_status", True, "UPS")] * 2 and sum(e["path"] == "/tools/orders/A12345" and e["method"] == "GET" for e in log) == 2'
check "http tools: the model saw the result and answered" \
	't["reply"].endswith("'"$REPLY"'") and any(mm.get("role") == "tool" and "1Z999AA10123456784" in mm.get("content", "") for e in log for mm in (e["body"] or {}).get("messages", []))'
# A dead tool endpoint: the calls fail, the model hears why, the turn still ends.
mock "{\"rules\":[$TRIAGE_OK,
 {\"name\":\"tools\",\"match\":{\"model\":\"gpt-4o\",\"has_tools\":true},\"times\":1,
  \"respond\":{\"tool_calls\":[{\"name\":\"get_order_status\",\"arguments\":{\"order_id\":\"A12345\"}}]}},
 $RESOLVE_OK]}" ""
http_tools "http://127.0.0.1:9/tools/orders/{order_id}"
chat "where is my order A12345"
expect_rc "dead tool endpoint: chat" 0
check "dead tool endpoint: each call is a backend error, recorded" \
	'len(t["tools"]) == 2 and all(k["allowed"] and k["result"] is None and k["refusal"].startswith("backend error: get_order_status: http://127.0.0.1:9/") for k in t["tools"])'
check "dead tool endpoint: the model is told, and the turn ends" \
	'any(mm.get("role") == "tool" and "backend error" in mm.get("content", "") for e in log for mm in e["body"].get("messages", [])) and (t["reply"] is not None or t["handoff"] is not None)'

# --------------------------------------------- schema: repair, then fallback
mock "{\"rules\":[$(r_triage "\"sequence\":[{\"json\":$BADTRIAGE},{\"json\":$TRIAGE}]"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
check "schema violation: one repair request, then valid" 'm["triage"]["ok"] and m["triage"].get("repaired") and m["triage"]["attempts"] == 2'
check "schema violation: the repair request says what was wrong" \
	'any("not valid: $" in mm.get("content", "") for e in log for mm in e["body"]["messages"])'
mock "{\"rules\":[$(r_triage "\"respond\":{\"json\":$BADTRIAGE}"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
expect_rc "invalid twice: chat" 0
check "invalid twice: triage falls back to the offline engine" \
	'not m["triage"]["ok"] and m["triage"]["fault"] == "schema" and m["triage"]["fallback"] == "offline" and t["triage"]["intent_category"] == "shipping"'
check "invalid twice: the conversation goes on" 't["reply"] is not None'
mock "{\"rules\":[$(r_triage "\"respond\":{\"content\":\"Sure! The category is shipping.\"}"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
check "prose instead of JSON: offline fallback" 'm["triage"]["fault"] == "schema" and t["reply"] is not None'

# ------------------------------------- answers as servers really send them
# Servers without strict structured output (llama.cpp, Ollama, vLLM in
# json_object mode) and the models behind them add keys, fence the JSON,
# talk around it, leave out what they were not sure of, quote numbers. Each
# is read on the first answer (no repair), the model's category wins over
# the offline one (shipping), and what is really wrong is still refused.
Q='{"intent_category":"billing","urgency":"high","sentiment":"frustrated","intent_confidence":0.88'
QREST=',"entities":{"order_numbers":["A12345"],"account_ids":[],"emails":[],"phones":[],"amounts":[],"products":[]},"complexity_signal":"simple","has_legal_language":false}'
quirk() { # NAME RESPONSE-JSON CHECK (no \n escape in it: r_triage echoes, and dash's echo expands it)
	mock "{\"rules\":[$(r_triage "\"respond\":$2"),$RESOLVE_OK]}" ""
	chat "where is my order A12345"
	check "$1" 'm["triage"]["ok"] and m["triage"]["attempts"] == 1 and not m["triage"].get("repaired") and t["triage"]["intent_category"] == "billing" and '"$3"
}
quirk "an extra key (\"confidence\": 0.97) is ignored and counted" \
	"{\"json\":${Q},\"confidence\":0.97${QREST}}" 'm["triage"]["ignored_keys"] == 1'
quirk "a fenced \`\`\`json block" \
	"{\"content\":\"\`\`\`json\\u000a$(printf '%s' "$Q$QREST" | sed 's/"/\\"/g')\\u000a\`\`\`\"}" '"ignored_keys" not in m["triage"]'
quirk "prose before and after the JSON" \
	"{\"content\":\"Here is the triage you asked for: $(printf '%s' "$Q$QREST" | sed 's/"/\\"/g') Let me know if anything is unclear.\"}" 'True'
quirk "missing optional keys: the offline entities and complexity stand" \
	"{\"json\":${Q}}}" 't["triage"]["entities"]["order_numbers"] == ["A12345"] and t["triage"]["complexity_signal"] in ("simple", "moderate", "complex", "unknown")'
quirk "a number as a string (\"0.9\")" \
	"{\"json\":$(printf '%s' "$Q$QREST" | sed 's/"intent_confidence":0.88/"intent_confidence":"0.9"/')}" \
	'abs(t["triage"]["intent_confidence"] - 0.9) < 1e-9'
check "the request asks for no route: not in the schema, not in the prompt" \
	'"route" not in log[0]["body"]["response_format"]["json_schema"]["schema"]["properties"] and "resolution-agent-general" not in log[0]["body"]["messages"][0]["content"]'
# Really wrong: a missing required key gets the repair, then the offline fallback.
mock "{\"rules\":[$(r_triage "\"respond\":{\"json\":{\"intent_category\":\"billing\",\"sentiment\":\"neutral\",\"intent_confidence\":0.9,\"confidence\":1}}"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
check "a missing required key: repaired once, then the offline triage" \
	'not m["triage"]["ok"] and m["triage"]["attempts"] == 2 and m["triage"]["fallback"] == "offline" and "missing required key" in m["triage"]["error"] and t["triage"]["intent_category"] == "shipping"'

# --------------------------------------------------------------- faults
mock "{\"rules\":[$(r_triage "\"sequence\":[{\"status\":429,\"retry_after\":1,\"error_shape\":\"openai\",\"message\":\"Rate limit reached\"},{\"json\":$TRIAGE}]"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
check "429 with Retry-After: retried, then answered" 'm["triage"]["ok"] and m["triage"]["attempts"] == 2'
check "429: the retry waited for Retry-After" 'log[1]["t"] - log[0]["t"] >= 0.9'

mock "{\"rules\":[],\"default\":{\"status\":503,\"error_shape\":\"vllm\",\"message\":\"model overloaded\"}}" "retries: 2"
chat "where is my order A12345"
expect_rc "5xx always: chat" 0
check "5xx: bounded retries, then the offline triage" 'm["triage"]["attempts"] == 3 and m["triage"]["fallback"] == "offline" and "model overloaded" in m["triage"]["error"]'
check "5xx: a failed resolution hands off to a human" 't["reply"] is None and t["escalation"]["reason"] == "resolution-unavailable" and t["handoff"] is not None'
check "5xx: the handoff packet comes from the offline agent" 'm["handoff"]["fallback"] == "offline" and "Customer: C-1001" in t["handoff"]["text"]'
no_key "5xx"

for shape in openai llamacpp ollama html; do
	mock "{\"rules\":[],\"default\":{\"status\":400,\"error_shape\":\"$shape\",\"message\":\"bad thing $shape\"}}" ""
	chat "where is my order A12345"
	check "error body ($shape): read, not retried" 'm["triage"]["attempts"] == 1 and "400" in m["triage"]["error"] and (t["reply"] is not None or t["handoff"] is not None)'
done

mock '{"rules":[]}' "retries: 1" --refuse
chat "where is my order A12345"
expect_rc "connection refused: chat" 0
check "connection refused: the offline engine answers triage" 'm["triage"]["fault"] == "refused" and m["triage"]["fallback"] == "offline"'
check "connection refused: the customer gets a handoff, not silence" 't["handoff"] is not None'

mock '{"rules":[],"default":{"hang":true}}' "timeouts: {first_byte_ms: 300, total_ms: 2000}
retries: 0"
chat "where is my order A12345"
expect_rc "hung server: chat" 0
check "hung server: first-byte timeout, then the fallback" 'm["triage"]["fault"] == "timeout" and t["handoff"] is not None'

mock "{\"rules\":[$(r_triage "\"sequence\":[{\"truncate\":true},{\"invalid_json\":true},{\"json\":$TRIAGE}]"),$RESOLVE_OK]}" ""
chat "where is my order A12345"
check "truncated, then invalid JSON: both retried" 'm["triage"]["ok"] and m["triage"]["attempts"] == 3'

mock "{\"rules\":[$TRIAGE_OK,{\"name\":\"cut\",\"match\":{\"model\":\"gpt-4o\"},\"sequence\":[{\"content\":\"$REPLY\",\"stream_truncate\":true},{\"content\":\"$REPLY\",\"chunk_delay_ms\":5}]}]}" ""
chat "where is my order A12345"
check "stream cut short: retried, the whole reply arrives" 't["reply"].endswith("'"$REPLY"'") and m["resolution"]["attempts"] == 2'

# ---------------------------------------------------- circuit breaker
mock '{"rules":[],"default":{"status":500,"error_shape":"openai","message":"boom"}}' "retries: 0
breaker: {failures: 2, cooldown_ms: 60000}"
chat "where is my order A12345" "and my refund?" "hello?"
expect_rc "breaker: chat" 0
check "breaker: after two failures the endpoint is not called" \
	'any(s.get("fault") == "breaker-open" for tt in turns for s in tt.get("models", []))'
# (after the handoff the customer's messages are stored for the human, and chat says so)
check "breaker: every turn still ends in a reply or a handoff" 'len(turns) == 3 and all(tt.get("stored_for") == "human" if "stored_for" in tt else tt["reply"] is not None or tt["handoff"] is not None for tt in turns)'

# ------------------------------------------------- hybrid retrieval
# Only the embeddings agent on the model backend: the other agents stay
# offline (no --backend), so what changes is retrieval alone. The mock's
# vectors hash words, with synonyms: "parcel" counts as "package" and
# "vanished" as "lost", so "my parcel vanished" is near the lost-package
# facts while sharing no word with them.
embeddings_cfg() {
	{
		echo "  text-embedding-3-small: {input_per_mtok: 0.02, output_per_mtok: 0}"
		echo "agents:"
		echo "  embeddings: {backend: openai, model: text-embedding-3-small}"
	} >>"$T/cfg.yaml"
}
SYN='"embedding_synonyms":{"parcel":"package","vanished":"lost"}'
BACKEND=
rm -rf "$T/cache"
mock "{\"rules\":[],$SYN}" ""
embeddings_cfg
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" kb search -k 3 --json "my parcel vanished" >"$T/out" 2>"$T/err"
rc=$?
expect_rc "kb search, hybrid" 0
check "hybrid: finds the lost-package facts with no word in common" \
	't["retrieval"] == "hybrid" and t["hits"][0]["id"].startswith("shipping-lost-package/") and t["hits"][0]["ranks"] == {"fts": None, "vector": 1}'
check "hybrid: a fact found by its vector keeps the calibrated (lexical) confidence" \
	't["hits"][0]["confidence"] < 0.05 and t["hits"][0]["cosine"] > 0.2'
check "hybrid: every fact was embedded once, in batches, with the key" \
	'sum(len(e["body"]["input"]) for e in log[:-1]) == t["facts_embedded"] and len(log[0]["body"]["input"]) == 64 and all(e["path"] == "/v1/embeddings" and e["headers"].get("authorization") == "Bearer '"$KEY"'" for e in log)'
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --backend offline kb search -k 3 --json "my parcel vanished" >"$T/out" 2>"$T/err"
check "FTS5 alone (--backend offline) finds nothing for it" 't["hits"] == [] and "retrieval" not in t'
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" kb search -k 5 --json "lost package" >"$T/out" 2>"$T/err"
cp "$T/out" "$T/hybrid.json"
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --backend offline kb search -k 5 --json "lost package" >"$T/out" 2>"$T/err"
if python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["hits"]; f = json.load(open(sys.argv[2]))["hits"]
fc = {x["id"]: x["confidence"] for x in f}
same = [x for x in h if x["id"] in fc]
sys.exit(0 if same and all(x["confidence"] == fc[x["id"]] for x in same) else 1)' "$T/hybrid.json" "$T/out"; then
	ok "hybrid and FTS5 give a fact one confidence for one query"
else
	not_ok "hybrid and FTS5 give a fact one confidence for one query" "$T/hybrid.json" "$T/out"
fi

# The chat turn: the same retrieval, asynchronously. The first turn embeds the facts...
rm -rf "$T/cache"
: >"$T/log.jsonl"
chat "my parcel vanished"
expect_rc "chat, hybrid, empty cache" 0
check "chat: the first turn embeds every fact, then the query" \
	'm["embeddings"]["facts_embedded"] >= 100 and m["embeddings"]["attempts"] == len(log) == 3 and log[-1]["body"]["input"] == ["my parcel vanished"]'
# ...and the cache means no fact is sent again.
: >"$T/log.jsonl"
chat "my parcel vanished"
expect_rc "chat, hybrid" 0
check "chat: the turn's knowledge is hybrid" \
	'any(h["id"].startswith("shipping-lost-package/") for h in t["knowledge"]) and t["knowledge"][0]["ranks"]["vector"] is not None'
check "chat: an embeddings step, its tokens and cost counted" \
	'm["embeddings"]["ok"] and m["embeddings"]["retrieval"] == "hybrid" and m["embeddings"]["prompt_tokens"] > 0 and m["embeddings"]["cost_usd"] > 0'
check "chat: the facts were cached: only the query is embedded" \
	'len(log) == 1 and log[0]["body"]["input"] == ["my parcel vanished"] and "facts_embedded" not in m["embeddings"]'
no_key "hybrid"

# An edited fact is embedded again, alone.
mkdir -p "$T/kb"
cp -R "$top_srcdir/kb/." "$T/kb/"
chmod -R u+w "$T/kb"
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --kb "$T/kb" kb search --json "return window" >"$T/out" 2>"$T/err"
: >"$T/log.jsonl"
sed 's/within 30 days/within 31 days/' "$top_srcdir/kb/returns/return-window.md" >"$T/kb/returns/return-window.md"
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --kb "$T/kb" kb search --json "return window" >"$T/out" 2>"$T/err"
check "cache: an edited fact alone is embedded again" \
	't["facts_embedded"] == 1 and len(log) == 2 and "31 days" in log[0]["body"]["input"][0]'

# A dead endpoint: FTS5 alone, said in the turn's model step; the turn goes on.
mock '{"rules":[]}' "retries: 1" --refuse
embeddings_cfg
chat "how long is the return window"
expect_rc "embeddings refused: chat" 0
check "embeddings refused: FTS5 alone, recorded as the fallback" \
	'not m["embeddings"]["ok"] and m["embeddings"]["fault"] == "refused" and m["embeddings"]["fallback"] == "fts" and m["embeddings"]["retrieval"] == "fts"'
check "embeddings refused: the FTS5 hits and a reply" \
	't["knowledge"][0]["id"] == "returns-window" and "ranks" not in t["knowledge"][0] and t["reply"] is not None'
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" kb search --json "return window" >"$T/out" 2>"$T/err"
rc=$?
expect_rc "embeddings refused: kb search" 0
check "embeddings refused: kb search says it fell back" 't["retrieval"] == "fts" and t["fallback"] == "refused" and t["hits"][0]["id"] == "returns-window"'
if grep -q "FTS5 alone" "$T/err"; then ok "embeddings refused: a warning on stderr"; else not_ok "embeddings refused: a warning on stderr" "$T/err"; fi

# Vectors that are not vectors: refused, not retried, FTS5 alone.
for bad in '{"data":[{"embedding":[0,0,0]}]}' '{"data":[{"embedding":[1,2]},{"embedding":[1,2]}]}' '{"data":[{"embedding":"AACAfw=="}]}'; do
	mock "{\"rules\":[{\"name\":\"bad\",\"match\":{\"path\":\"/v1/embeddings\"},\"respond\":{\"raw\":$bad}}]}" ""
	embeddings_cfg
	chat "how long is the return window"
	check "bad vectors ($bad): FTS5 alone" \
		'm["embeddings"]["fault"] == "invalid-vectors" and m["embeddings"]["attempts"] == 1 and t["knowledge"][0]["id"] == "returns-window" and t["reply"] is not None'
done


BACKEND="--backend openai"

# ------------------------------------------------------------- triage
mock "{\"rules\":[$TRIAGE_OK]}" ""
printf 'hi\nwhere is my order A12345\nthird\n' >"$T/in"
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --backend openai triage <"$T/in" >"$T/out" 2>"$T/err"
rc=$?
expect_rc "triage --backend openai, stdin" 0
check "triage stdin: one model answer per line, in order" 'len(turns) == 3 and all(x["intent_category"] == "shipping" for x in turns) and turns[1]["entities"]["order_numbers"] == ["A12345"]'
stop_mock
timeout 30 "$FRONTLINE" --config "$T/cfg.yaml" --backend openai triage --json "where is my order A12345" >"$T/out" 2>"$T/err"
rc=$?
expect_rc "triage with the server gone: the offline result" 0
check "triage with the server gone: still a TriageResult" 'turns[0]["entities"]["order_numbers"] == ["A12345"]'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
