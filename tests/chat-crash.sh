#!/bin/sh
# chat-crash.sh -- kills frontline chat at random moments of a scripted
# conversation and checks that every turn it printed survived as printed,
# and that the conversation went on where it stopped: the script stored
# once, in order, every message answered exactly once.
#
# frontline chat --json runs again and again on one store, each time fed the
# messages the store does not hold yet and killed with SIGKILL at a random
# moment: a quarter a random delay after its start (in startup; on a round's
# first run, in the store's creation), the rest a random delay of under two
# turns after a random turn it printed (startup is most of a run: a delay
# from the start alone would seldom land in the turns). The delays are
# scaled by a startup and a turn measured first, so they land alike on a
# fast machine and in a sanitizer build. tests/chat-crash.c does the kill
# (chat_crash run), reads the store and checks it.
#
# Once the script is stored whole a round ends, and the next starts on a new
# store, until CHAT_CRASH_RUNS (default 40) runs were killed; the last round
# is finished by an uninterrupted run. Each round's store is then checked
# against the script and every turn chat printed (the acknowledged ones).
#
# Run by make check (FRONTLINE, top_srcdir, top_builddir set); by hand:
# FRONTLINE=./frontline top_srcdir=. top_builddir=. sh tests/chat-crash.sh
# The source tree is only read; temporary files go under mktemp -d. Prints
# "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"
: "${FRONTLINE_MODEL:=$top_builddir/triage.model}"
prog=${CHAT_CRASH:-$top_builddir/tests/chat_crash}
runs=${CHAT_CRASH_RUNS:-40}
seed=${CHAT_CRASH_SEED:-$$}
customer=C-1001

if [ ! -x "$prog" ]; then
	echo "chat-crash.sh: no $prog (make check builds it)" >&2
	exit 99
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-chat-crash.XXXXXX") || exit 99
cleanup() {
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_DATADIR=$top_srcdir FRONTLINE_TODAY=2026-11-24 LC_ALL=C
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_DATADIR FRONTLINE_TODAY \
	FRONTLINE_MODEL LC_ALL

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
		[ -s "$f" ] && sed -n '1,20s/^/    | /p' "$f" | cut -c 1-300
	done
	return 0
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# The conversation: questions the agent answers without a human, and at the
# end one that triage routes to a human, so the last turn is a handoff; the
# end of the input then closes it, abandoned (no human answered).
cat >"$T/script" <<'EOF'
where is my order A12345?
what is your return window?
how do I reset my doorbell?
what are your support hours?
how long does standard shipping take?
how do I change my email address?
how do I reset my password?
do you price match?
how long is the standard warranty?
can I trade in my old camera?
what languages do you support?
is there a free trial of Acme Protect?
how much is Acme Protect annual?
how do I turn on two-step verification?
can I share my account with family?
which payment methods do you accept?
how do I contact support by phone?
how do I set up the smart plug?
does the thermostat work with alexa?
how do I download an invoice?
is the service down right now?
EOF
nscript=$(wc -l <"$T/script")

# The shipped policy hands every conversation to a human at turn 4
# (escalation.max_turns): this one lets the script run its length.
sed 's/^\(  max_turns:\) 4$/\1 1000/' "$top_srcdir/policies/support-agent-policy.yaml" \
	>"$T/policy.yaml"
if ! grep -q '^  max_turns: 1000$' "$T/policy.yaml"; then
	not_ok "the test policy raises escalation.max_turns (the shipped policy changed?)"
	finish
fi

# chat DB [WRAPPER...]: the command under test (run by WRAPPER when given:
# chat_crash run or measure), on the script's policy, the customer's conversation.
chat() {
	chat_db=$1
	shift
	"$@" "$FRONTLINE" --policy "$T/policy.yaml" --kb "$top_srcdir/kb" --db "$chat_db" \
		chat --json --customer "$customer"
}

# stored DB: sets $n (customer messages stored), $pending (1: the last has no
# turn) and $schema (-1: no file yet; 0: the store is not created yet).
stored() {
	n=0 pending=0 schema=-1
	[ -e "$1" ] || return 0
	if ! "$prog" state "$1" "$customer" >"$T/stored" 2>"$T/stored.err" ||
		! read -r _ n _ pending _ schema <"$T/stored"; then
		not_ok "the store $1 can be read" "$T/stored.err"
		finish
	fi
}

# acks OUT FILE: appends the turns chat printed; a line cut short by the kill
# was not acknowledged.
acks() {
	if [ -n "$(tail -c 1 "$1")" ]; then
		sed '$d' "$1"
	else
		cat "$1"
	fi >>"$2"
}

# The next pseudo-random number in $r, 0 to 2^30 - 1, from the high bits of
# two steps of a linear congruential generator (the shell may have no
# $RANDOM). The seed is printed, for the record.
rand() {
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	r=$((seed / 65536))
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	r=$((r * 32768 + seed / 65536))
}

# ------------------------------------------------ the script, uninterrupted
# Three times: this warms the knowledge base's index cache, and measures when
# the first turn comes and how long a turn takes on this machine (the
# quickest of three: a busy machine only makes a run slower).
first_us= turn_us=
for i in 1 2 3; do
	chat "$T/warm.$i.db" "$prog" measure "$T/times" <"$T/script" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(wc -l <"$T/out")" -ne "$nscript" ] ||
		[ "$(grep -c '"handoff":null' "$T/out")" -ne $((nscript - 1)) ] ||
		! tail -n 1 "$T/out" | grep -q '"handoff":{'; then
		not_ok "uninterrupted, chat answers the $nscript messages and hands off at the last" \
			"$T/err" "$T/out"
		finish
	fi
	read -r _ f _ e <"$T/times"
	[ -z "$first_us" ] || [ "$f" -lt "$first_us" ] && first_us=$f
	[ -z "$turn_us" ] || [ "$e" -lt "$turn_us" ] && turn_us=$e
done
ok "uninterrupted, chat answers the $nscript messages and hands off at the last"
[ "$turn_us" -gt 0 ] || turn_us=1
echo "# the first turn after ${first_us} us, then one every ${turn_us} us; seed $seed"

# ------------------------------------------------ the runs, killed
killed=0 round=0 finished=0 in_startup=0 in_turn=0 with_acks=0 rounds_ok=0 tries=0
while [ "$killed" -lt "$runs" ]; do
	round=$((round + 1))
	db=$T/db.$round
	: >"$T/acks.$round"
	while [ "$killed" -lt "$runs" ]; do
		stored "$db"
		# The turns a run can print (a message stored without its turn first).
		# The last is left to the uninterrupted run: kills from the start
		# alone would not get past it when they all land in startup.
		left=$((nscript - n + pending))
		[ "$left" -le 1 ] && break
		n0=$n
		# (chats that are not killed, failing or finishing first, are not
		# counted: this bounds the loop when they all are)
		tries=$((tries + 1))
		if [ "$tries" -gt $((3 * runs + 10)) ]; then
			not_ok "$tries chats run, only $killed killed: the kills miss"
			finish
		fi
		tail -n "+$((n + 1))" "$T/script" >"$T/in"
		# A quarter of the kills come a delay after the start (in startup, in
		# the store's creation on a round's first run, in the first turn);
		# the rest a delay under two turns after a turn it printed.
		rand
		if [ $((r % 4)) -eq 0 ]; then
			k=0
			rand
			us=$((1000 + r % (first_us + turn_us)))
		else
			rand
			k=$((1 + r % (left - 1)))
			rand
			us=$((r % (2 * turn_us + 1)))
		fi
		chat "$db" "$prog" run "$k" "$us" <"$T/in" >"$T/out" 2>"$T/err"
		rc=$?
		acks "$T/out" "$T/acks.$round"
		# 137: killed; 0: it had finished the script first.
		case $rc in
		137)
			killed=$((killed + 1))
			[ -s "$T/out" ] && with_acks=$((with_acks + 1))
			stored "$db"
			[ "$schema" -le 0 ] && in_startup=$((in_startup + 1))
			# (a message left pending by an earlier run does not count)
			[ "$pending" -eq 1 ] && [ "$n" -gt "$n0" ] && in_turn=$((in_turn + 1))
			;;
		0) finished=$((finished + 1)) ;;
		*) not_ok "round $round: a chat (to be killed $us us after line $k) exited $rc" "$T/err" ;;
		esac
	done

	# The rest of the script, uninterrupted.
	stored "$db"
	if [ "$n" -lt "$nscript" ] || [ "$pending" -eq 1 ]; then
		tail -n "+$((n + 1))" "$T/script" >"$T/in"
		chat "$db" <"$T/in" >"$T/out" 2>"$T/err"
		rc=$?
		acks "$T/out" "$T/acks.$round"
		[ "$rc" -eq 0 ] || not_ok "round $round: the last chat exited $rc" "$T/err"
	fi

	if "$prog" verify "$db" "$customer" "$T/script" "$T/acks.$round" >"$T/verify" \
		2>"$T/verify.err"; then
		rounds_ok=$((rounds_ok + 1))
	else
		not_ok "round $round: the store holds the script once, every turn whole and as printed" \
			"$T/verify.err"
	fi
done
ok "$killed chats killed with SIGKILL in $round rounds ($in_startup before the store had its schema, $with_acks after printing turns; $finished finished first)"
[ "$rounds_ok" -eq "$round" ] &&
	ok "all $round rounds: the script stored once, in order, each message answered once; every printed turn stored as printed, with its events"

# A kill between a stored message and its turn is the case resuming is for.
if [ "$in_turn" -gt 0 ]; then
	ok "$in_turn chats were killed between a stored message and its turn"
else
	not_ok "no chat was killed between a stored message and its turn (the delays missed it)"
fi

# ------------------------------------------------ a message without its turn
# The state such a kill leaves, made on purpose: three turns (chat killed as
# it waits for a fourth line: the end of the input would close the
# conversation), then the fourth message stored alone. The next chat answers
# it before reading on.
db=$T/inject.db
rm -f "$T/verify.err"
head -n 6 "$T/script" >"$T/script6"
mkfifo "$T/held"
exec 5<>"$T/held"
head -n 3 "$T/script6" >&5
chat "$db" "$prog" run 3 100000 <"$T/held" >"$T/acks.inject" 2>"$T/err"
exec 5>&-
"$prog" inject "$db" "$customer" "$(sed -n 4p "$T/script6")" 2>>"$T/err"
tail -n 2 "$T/script6" | chat "$db" >"$T/out" 2>>"$T/err"
rc=$?
cat "$T/out" >>"$T/acks.inject"
if [ "$rc" -eq 0 ] && head -n 1 "$T/out" | grep -q '^{"turn":4,"customer":"what are your support hours?"' &&
	[ "$(wc -l <"$T/out")" -eq 3 ] &&
	"$prog" verify "$db" "$customer" "$T/script6" "$T/acks.inject" >"$T/verify" 2>"$T/verify.err"; then
	ok "a stored message without its turn is answered first when chat starts again"
else
	not_ok "a stored message without its turn is answered first when chat starts again (exit $rc)" \
		"$T/err" "$T/out" "$T/verify.err"
fi

finish
