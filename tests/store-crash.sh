#!/bin/sh
# store-crash.sh -- kills a store writer at random moments and checks that
# every turn it acknowledged survived, whole, and nothing else did.
#
# tests/store_crash (tests/store-crash.c) writes turns in transactions and
# prints "ack N" after each commit. It is started again and again, each
# time killed with SIGKILL after a few milliseconds (the first runs while the
# store is still being created), and resumes from the store. Then a verify
# run checks the store: turns 1..K whole and in order, every ack <= K.
#
# Run by make check (top_builddir set); by hand: top_builddir=. sh tests/store-crash.sh
# Temporary files go under mktemp -d. Prints "N passed, M failed" last.

: "${top_builddir:=.}"
prog=${STORE_CRASH:-$top_builddir/tests/store_crash}
runs=${STORE_CRASH_RUNS:-30}

if [ ! -x "$prog" ]; then
	echo "store-crash.sh: no $prog (make check builds it)" >&2
	exit 99
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-crash.XXXXXX") || exit 99
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db=$T/store.db
: >"$T/acks"
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
		[ -s "$f" ] && sed -n '1,20s/^/    | /p' "$f"
	done
	return 0
}

# ------------------------------------------------ the writer, killed
# Delays in milliseconds, spread by the shell's pid and the run number: the
# first three die within 1-3 ms (inside store_open and the migration), the
# rest within 1-90 ms.
i=0 died=0 silent=0 bad_exit=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	if [ "$i" -le 3 ]; then
		ms=$i
	else
		ms=$(((($$ % 90) + i * 37) % 90 + 1))
	fi
	"$prog" "$db" 1000000000 >"$T/out.$i" 2>"$T/err.$i" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	pid=
	# 137: killed. Anything else: the writer stopped by itself, which it must not.
	if [ "$rc" -eq 137 ]; then
		died=$((died + 1))
	else
		bad_exit=$((bad_exit + 1))
		not_ok "run $i (killed after $ms ms) exited $rc by itself" "$T/err.$i"
	fi
	[ -s "$T/out.$i" ] || silent=$((silent + 1))
	echo "run $i" >>"$T/acks"
	cat "$T/out.$i" >>"$T/acks"
done
[ "$bad_exit" -eq 0 ] && ok "$died runs killed with SIGKILL ($silent before acknowledging anything)"

# Every line is "ack N" ("run N" lines mark where each run starts). Within a
# run N grows by one; across runs it only grows (a run may commit a turn and
# die before acking it): a turn acked once is never written, nor acked, again.
if awk '
	/^run [0-9]+$/ { first = 1; next }
	$0 !~ /^ack [0-9]+$/ { print "line " NR ": " $0; bad = 1; next }
	seen && $2 <= last { print "line " NR ": ack " $2 " again, after ack " last; bad = 1 }
	!first && $2 != last + 1 { print "line " NR ": ack " $2 " after ack " last; bad = 1 }
	{ last = $2; seen = 1; first = 0 }
	END { exit bad }' "$T/acks" >"$T/ackcheck" 2>&1; then
	ok "acks are a single increasing sequence ($(grep -c '^ack' "$T/acks") acks)"
else
	not_ok "acks are a single increasing sequence" "$T/ackcheck"
fi
last_ack=$(sed -n 's/^ack //p' "$T/acks" | tail -n 1)
: "${last_ack:=0}"
if [ "$last_ack" -gt 0 ]; then
	ok "the writers acknowledged $last_ack turns"
else
	not_ok "the writers acknowledged nothing: the delays are too short for this machine"
fi

# ------------------------------------------------ verify
verify() {
	"$prog" "$db" verify >"$T/verify" 2>"$T/verify.err"
	vrc=$?
	turns=$(sed -n 's/^turns //p' "$T/verify")
	: "${turns:=0}"
}

verify
if [ "$vrc" -eq 0 ]; then
	ok "the store holds whole turns 1..$turns in order, and passes integrity_check"
else
	not_ok "the store holds whole turns in order (verify exited $vrc)" "$T/verify.err"
fi
# A turn may be committed and the writer killed before its ack: K >= the last ack.
if [ "$turns" -ge "$last_ack" ]; then
	ok "every acknowledged turn is stored ($turns stored, $last_ack acknowledged)"
else
	not_ok "every acknowledged turn is stored ($turns stored, $last_ack acknowledged)"
fi

# ------------------------------------------------ and it goes on
more=$((turns + 5))
"$prog" "$db" "$more" >"$T/out.last" 2>"$T/err.last"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(head -n 1 "$T/out.last")" = "ack $((turns + 1))" ] &&
	[ "$(tail -n 1 "$T/out.last")" = "ack $more" ]; then
	ok "a writer after the crashes resumes at turn $((turns + 1)) and runs to the end"
else
	not_ok "a writer after the crashes resumes at turn $((turns + 1)) (exit $rc)" \
		"$T/out.last" "$T/err.last"
fi
verify
if [ "$vrc" -eq 0 ] && [ "$turns" -eq "$more" ]; then
	ok "then the store holds turns 1..$more"
else
	not_ok "then the store holds turns 1..$more (verify: $turns, exit $vrc)" "$T/verify.err"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
