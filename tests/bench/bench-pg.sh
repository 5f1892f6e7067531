# tests/bench/bench-pg.sh -- sourced by the benchmarks that run on their own
# throwaway PostgreSQL cluster (bench-serve.sh, floor.sh), with $srcdir set.
#
# bench_pg_start NAME: skips the benchmark (exit 0, saying why) without
# python3 or PostgreSQL; otherwise starts the cluster (tests/pg-env.sh) and
# makes $tmp, a scratch directory named after NAME. At exit, and on INT or
# TERM (exit 130), the processes in $pids are stopped (stop_all, also for
# use between runs), the cluster too, and $tmp is removed.
bench_pg_start() {
	if ! command -v python3 >/dev/null 2>&1; then
		echo "skipped: python3 not found (apt-get install python3)"
		exit 0
	fi
	. "$srcdir/tests/pg-env.sh"
	if ! pg_start 2>/dev/null; then
		echo "skipped: PostgreSQL is not installed (apt-get install postgresql)"
		exit 0
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/frontline-$1.XXXXXX")
	pids=
	trap bench_pg_cleanup EXIT
	trap 'exit 130' INT TERM
}

stop_all() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=
}

bench_pg_cleanup() {
	stop_all
	pg_stop
	rm -rf "$tmp"
}
