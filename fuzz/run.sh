#!/bin/sh
# run.sh -- runs libFuzzer targets one after the other (what `make fuzz` does).
#
# Usage: run.sh BUILD SRCDIR SECONDS TARGET...
# Each BUILD/TARGET-fuzzer runs for SECONDS on its corpus: BUILD/corpus/TARGET
# (what it found, kept between runs), the seeds generated from the test
# fixtures (seeds.sh) and the committed ones in SRCDIR/fuzz/corpus/TARGET,
# with SRCDIR/fuzz/TARGET.dict when there is one. Its output goes to
# BUILD/TARGET.log; a line of figures per target is printed. A crash, leak,
# sanitizer report or timeout leaves the input in BUILD/artifacts/, prints
# how to run it again, and makes the exit status 1.
build=$1 src=$2 secs=$3
shift 3
status=0
mkdir -p "$build/artifacts" || exit 1
for t in "$@"; do
	bin=$build/$t-fuzzer
	if [ ! -x "$bin" ]; then
		echo "fuzz: no $bin" >&2
		status=1
		continue
	fi
	mkdir -p "$build/corpus/$t" "$build/seeds/$t"
	sh "$src/fuzz/seeds.sh" "$src" "$t" "$build/seeds/$t"
	set -- -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-artifact_prefix="$build/artifacts/$t-"
	[ -f "$src/fuzz/$t.dict" ] && set -- "$@" -dict="$src/fuzz/$t.dict"
	seeds=$src/fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	# shellcheck disable=SC2086
	"$bin" "$@" "$build/corpus/$t" "$build/seeds/$t" $seeds >"$build/$t.log" 2>&1
	rc=$?
	last=$(grep '^#[0-9]' "$build/$t.log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/$t.log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$build/$t.log")
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: ${runs:-?} runs in $secs s (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}," \
			"corpus ${corp:-?}, peak RSS ${rss:-?} MB, no crash"
	else
		status=1
		unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$build/$t.log" | tail -n 1)
		echo "fuzz $t: FAILED after ${runs:-?} runs (exit $rc); the end of $build/$t.log:"
		{ grep -E '^(==[0-9]+==|SUMMARY|    #[0-9]|.*runtime error)' "$build/$t.log" ||
			tail -n 5 "$build/$t.log"; } | head -n 30 | sed 's/^/    /'
		[ -n "$unit" ] && echo "    input: $unit (run again: $bin $unit)"
	fi
done
exit $status
