#!/bin/sh
# train.sh -- frontline triage train|eval|--which end to end: a team's data
# changes the model the way it says, deterministically; bad lines; which
# model is in use; the agent version follows the model; the trainer loop
# (review export -> train -> eval -> canary -> promote).
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir; by
# hand: FRONTLINE=./frontline top_srcdir=. sh tests/train.sh
# Prints "ok"/"FAIL" per check and "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
case $FRONTLINE in /*) ;; *) FRONTLINE=$(pwd)/$FRONTLINE ;; esac
case $top_srcdir in /*) ;; *) top_srcdir=$(pwd)/$top_srcdir ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-train.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# A data directory like the installed one, with a small base corpus of its own.
D=$T/datadir
mkdir -p "$D/data/triage" "$T/home" "$T/state" "$T/config" "$T/share"
cp -R "$top_srcdir/policies" "$D/policies" # a copy: canary promote writes the policy file
ln -s "$top_srcdir/kb" "$D/kb"
for f in "$top_srcdir"/data/*; do
	[ "$(basename "$f")" = triage ] || ln -s "$f" "$D/data/$(basename "$f")"
done
for f in vader_lexicon.txt emoji_utf8_lexicon.txt profanity.txt urgency.rules dialogue.rules; do
	ln -s "$top_srcdir/data/triage/$f" "$D/data/triage/$f"
done
for i in 1 2 3 4 5 6; do
	for t in "where is my parcel" "my parcel locker delivery is late" \
		"the parcel locker did not open" "tracking for my parcel locker" \
		"parcel locker pickup code missing" "my parcel never reached the locker" \
		"when will my parcel arrive at the locker" "courier left the parcel in a locker" \
		"parcel locker shows no delivery" "I cannot find my parcel in the locker"; do
		printf 'shipping\t%s\n' "$t"
	done
	for t in "I was charged twice" "refund the extra charge on my card" \
		"why is my invoice so high" "my payment failed" "the fee on my bill is wrong" \
		"cancel the subscription charge" "I see an unknown charge" "my card was billed again" \
		"the invoice amount is wrong" "charge me less please"; do
		printf 'billing\t%s\n' "$t"
	done
	for t in "the app crashes" "the camera will not connect to wifi" "firmware update failed" \
		"device shows offline" "the light keeps blinking"; do
		printf 'technical\t%s\n' "$t"
	done
done >"$D/data/triage/base.tsv"
# The team's: a locker rental the base has never heard of is billed.
printf 'billing\t%s\n' "the parcel locker rental is billed monthly" "parcel locker rental charge" \
	"how much is the parcel locker rental" >"$T/team.tsv"

HOME=$T/home XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/share
XDG_CACHE_HOME=$T/home/.cache FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$D USER=ana LC_ALL=C
export HOME XDG_STATE_HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME FRONTLINE_TODAY
export FRONTLINE_DATADIR USER LC_ALL
unset FRONTLINE_MODEL

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	for f in "$T/out" "$T/err"; do [ -s "$f" ] && sed -n '1,20s/^/    | /p' "$f"; done
	return 0
}
run() {
	"$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
expect() { # expect STATUS MESSAGE [PATTERN FILE]
	if [ "$rc" -ne "$1" ]; then
		not_ok "$2 (exit $rc, wanted $1)"
	elif [ -n "$3" ] && ! grep -Eq -- "$3" "$4"; then
		not_ok "$2 (no /$3/ in $(basename "$4"))"
	else
		ok "$2"
	fi
}
fl() { "$FRONTLINE" "$@"; }
# intent MODEL TEXT: the category triage gives TEXT under MODEL.
intent() {
	fl triage --model "$1" "$2" 2>/dev/null | sed -n 's/^intent  *\([a-z_]*\) .*/\1/p'
}
sha_of() { fl triage --which --model "$1" 2>/dev/null | sed -n 's/^sha256  *//p'; }

# ------------------------------------------------------------ training
# The shipped model of this data directory: the base corpus and no data of a team's.
run fl triage train --out "$D/triage.model" /dev/null
expect 0 "the base alone trains" 'Trained on 150 base examples and 0 of yours' "$T/out"

run fl triage train --out "$T/team.model" "$T/team.tsv"
expect 0 "train on the base and a team's TSV" \
	'Trained on 150 base examples and 3 of yours, each of yours counted 50 times' "$T/out"
expect 0 "the held-out figures, new model next to the one in use" '^  model in use ' "$T/out"
# The same lines, the team's unweighted: the base's "parcel locker" wins.
cat "$D/data/triage/base.tsv" "$T/team.tsv" >"$T/flat.tsv"
run fl triage train --no-base --out "$T/flat.model" "$T/flat.tsv"
expect 0 "--no-base trains on the data alone" 'Trained on 0 base examples and 153 of yours' "$T/out"
q="parcel locker rental"
b=$(intent "$D/triage.model" "$q") w=$(intent "$T/team.model" "$q") f=$(intent "$T/flat.model" "$q")
if [ "$b" = shipping ] && [ "$f" = shipping ] && [ "$w" = billing ]; then
	ok "three of the team's lines change the answer, by their weight (base $b, unweighted $f, weighted $w)"
else
	not_ok "the team's data: base '$b', unweighted '$f', weighted '$w' (wanted shipping, shipping, billing)"
fi
[ "$(intent "$T/team.model" "where is my parcel")" = shipping ] &&
	ok "what the team did not teach stays" || not_ok "the base was forgotten"

# Determinism.
run fl triage train --out "$T/again.model" "$T/team.tsv"
cmp -s "$T/team.model" "$T/again.model" && ok "same data and seed: same bytes" ||
	not_ok "two trainings differ"
run fl triage train --progress=json --out "$T/progress.model" "$T/team.tsv"
expect 0 "--progress=json: the steps on stderr, to the end" '^\{"done":[0-9]+,"total":[0-9]+,"bad":0,"finished":true\}$' "$T/err"
cmp -s "$T/team.model" "$T/progress.model" && ok "--progress=json: the same model" ||
	not_ok "--progress=json changed the model"
run fl triage train --seed 7 --out "$T/seed7.model" "$T/team.tsv"
cmp -s "$T/team.model" "$T/seed7.model" && not_ok "--seed changes nothing" ||
	ok "another seed: another model"
rm -f "$T/again.model" "$T/seed7.model" "$T/flat.model"

# Bad lines: named, skipped, 65 at the end, the model written from the good ones.
printf 'billing\tparcel locker rental charge\nno tab here\nrefunds\tgive it back\n' >"$T/bad.tsv"
printf '{"id":"1","messages":[{"role":"customer","text":"locker fee"}],"labels":{"intent_category":"billing"}}\n{"id":\n' >"$T/bad.jsonl"
run fl triage train --out "$T/bad.model" "$T/bad.tsv" "$T/bad.jsonl"
expect 65 "bad lines exit 65" "bad.tsv:2: expected CATEGORY<TAB>TEXT" "$T/err"
expect 65 "an unknown category is an error" "bad.tsv:3: unknown category 'refunds'" "$T/err"
expect 65 "a bad ticket line" "bad.jsonl:2: not JSON" "$T/err"
expect 65 "the good lines are counted" 'bad.jsonl: tickets, 1 example, 1 bad line skipped' "$T/out"
[ -n "$(sha_of "$T/bad.model")" ] && ok "the model is written from the good lines" ||
	not_ok "no model after bad lines"
rm -f "$T/bad.model"
# The same JSON Lines rules as replay's (jsonl.h): a ticket id twice is a bad line.
printf '{"id":"1","messages":[{"role":"customer","text":"locker fee"}],"labels":{"intent_category":"billing"}}\n' >"$T/dup.jsonl"
cat "$T/dup.jsonl" "$T/dup.jsonl" >"$T/dup2.jsonl"
run fl triage eval --model "$D/triage.model" "$T/dup2.jsonl"
expect 65 "a ticket id twice, as replay says it" 'dup2.jsonl:2: duplicate ticket id "1" \(first at line 1\)' "$T/err"
run fl triage train --out "$T/x.model" "$T/none.tsv"
expect 66 "a missing data file" 'none.tsv' "$T/err"
run fl triage train
expect 64 "no data" 'no data' "$T/err"
run fl triage train --seed x "$T/team.tsv"
expect 64 "a bad --seed" 'seed' "$T/err"
run fl triage train --no-base --out "$T/x.model" /dev/null
expect 65 "nothing to train on" 'no labelled example' "$T/err"

# ------------------------------------------------------- the model in use
run fl triage --which
expect 0 "--which: the installed model" '^from +installed' "$T/out"
grep -q "^model  *$D/triage.model" "$T/out" && ok "--which names the file" || not_ok "--which: the file"
run fl triage train "$T/team.tsv"
expect 0 "train without --out" "Wrote $T/share/frontline/triage.model" "$T/out"
run fl triage --which
expect 0 "a trained model comes before the installed one" '^from +trained' "$T/out"
grep -q "^sha256  *$(sha_of "$T/team.model")" "$T/out" && ok "--which gives the model's SHA-256" ||
	not_ok "--which: the hash"
cp "$D/triage.model" "$T/env.model"
FRONTLINE_MODEL=$T/env.model run fl triage --which --json
expect 0 "FRONTLINE_MODEL comes before the trained model" '"source":"FRONTLINE_MODEL"' "$T/out"
FRONTLINE_MODEL=$T/env.model run fl triage --which --model "$T/team.model"
expect 0 "--model comes first" '^from +--model' "$T/out"
FRONTLINE_MODEL=$T/env.model run fl triage train "$T/team.tsv"
expect 0 "training says when its model is not the one in use" \
	"The model in use is still $T/env.model \(FRONTLINE_MODEL\)" "$T/out"
run fl triage --which --model "$T/none.model"
expect 66 "--which: a missing model" 'none.model' "$T/err"

# The agent version follows the model.
printf '{"id":"v1","messages":[{"role":"customer","text":"where is my parcel"}]}\n' >"$T/one.jsonl"
version() { FRONTLINE_MODEL=$1 fl replay --json --no-store "$T/one.jsonl" 2>/dev/null | sed -n 's/^[ \t]*"version":[ \t]*"\([0-9a-f]*\)".*/\1/p' | head -n 1; }
v1=$(version "$T/env.model") v2=$(version "$T/team.model") v3=$(version "$T/env.model")
if [ -n "$v1" ] && [ "$v1" = "$v3" ] && [ "$v1" != "$v2" ]; then
	ok "another model is another agent version ($v1, $v2)"
else
	not_ok "agent versions: '$v1' '$v2' '$v3'"
fi

# ------------------------------------------------------------- eval
printf 'billing\tI was charged twice\nshipping\tmy parcel is late\ntechnical\tthe app crashes\nbilling\twhere is my parcel\n' >"$T/eval.tsv"
run fl triage eval --model "$D/triage.model" "$T/eval.tsv"
expect 0 "eval" 'accuracy 75.0%, macro-F1 0.778, ECE ' "$T/out"
expect 0 "eval: the per-category table" '^  billing +2  1.000 +0.500 +0.667$' "$T/out"
run fl triage eval --json --model "$D/triage.model" "$T/eval.tsv"
tr -d ' \t\n' <"$T/out" >"$T/min"
expect 0 "eval --json: the figures" '"labelled":4,"correct":3,"accuracy":0.75,"macro_f1":0.778' "$T/min"
expect 0 "eval --json: the confusion" '"billing":\{"billing":1,"technical":0,"account":0,"shipping":1' "$T/min"
expect 0 "eval --json: the model" "\"sha256\":\"$(sha_of "$D/triage.model")\"" "$T/min"
run fl triage eval --model "$D/triage.model" "$T/eval.tsv" "$T/bad.tsv"
expect 65 "eval: bad lines" 'bad.tsv:2: expected CATEGORY<TAB>TEXT' "$T/err"

# ------------------------------------- the trainer loop: review -> export
DB=$T/loop.db
printf 'My lawyer will be in touch about this charge\n' |
	fl --db "$DB" chat --customer C-1002 >/dev/null 2>&1
run fl --db "$DB" handoff review 1 --category shipping
expect 0 "a trainer corrects the category" 'wrong: category' "$T/out"
run fl --db "$DB" handoff review --export "$T/export.jsonl"
expect 0 "the corrections are exported" '1 reviewed ticket' "$T/err"
run fl triage train --no-base --out "$T/loop.model" "$T/export.jsonl" "$T/flat.tsv"
expect 0 "the export trains" 'export.jsonl: review export, 1 example$' "$T/out"
[ "$(intent "$T/loop.model" "My lawyer will be in touch about this charge")" = shipping ] &&
	ok "the correction is learnt" || not_ok "the correction was not learnt"
run fl triage eval --json --model "$T/loop.model" "$T/export.jsonl"
tr -d ' \t\n' <"$T/out" >"$T/min"
expect 0 "and evaluates" '"labelled":1,"correct":1' "$T/min"

# --------------------------------------------- canary -> promote a model
cp "$D/triage.model" "$T/inuse.model"
FRONTLINE_MODEL=$T/inuse.model
export FRONTLINE_MODEL
C=$T/canary.db
run fl --db "$C" canary start "$T/inuse.model"
expect 1 "the model in use is no candidate" 'is the model in use' "$T/err"
run fl --db "$C" canary start "$T/none.model"
expect 66 "a missing candidate" 'none.model' "$T/err"
run fl --db "$C" canary start --share 50 "$T/team.model"
expect 0 "canary start takes a model" "model $(sha_of "$T/team.model" | cut -c1-12) from $T/team.model" "$T/out"
run fl --db "$C" canary status --json
tr -d ' \t\n' <"$T/out" >"$T/min"
expect 0 "canary status names the candidate model" "\"model_sha256\":\"$(sha_of "$T/team.model")\"" "$T/min"
cand=$(sed -n 's/.*"candidate":{"version":"\([0-9a-f]*\)".*/\1/p' "$T/min")
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	printf 'where is my parcel\n' | fl --db "$C" chat --customer "C-$i" >/dev/null 2>&1
done
if [ -n "$cand" ] && fl --db "$C" metrics --json --version "$cand" --arm canary 2>/dev/null |
	tr -d ' \t\n' | grep -Eq '"sessions":[1-9]'; then
	ok "conversations run on the candidate model"
else
	not_ok "no conversation on the candidate model ($cand)"
fi
run fl --db "$C" canary promote
expect 1 "promote waits for the comparison" 'comparison fails' "$T/err"
run fl --db "$C" canary promote --force --reason "the locker rental is billing"
expect 0 "promote a model" "$T/inuse.model now holds model" "$T/out"
cmp -s "$T/inuse.model" "$T/team.model" && ok "the model in use is the candidate" ||
	not_ok "the model in use was not replaced"
run fl policy check
expect 0 "a model's promotion leaves the policy alone" 'ok' "$T/out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
