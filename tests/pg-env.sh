#!/bin/sh
# pg-env.sh -- a throwaway PostgreSQL cluster on loopback for the tests.
#
# Sourced by a shell suite:   . "$top_srcdir/tests/pg-env.sh"; pg_start || exit 77
#   pg_start        starts a cluster in a temporary directory (or uses
#                   $FRONTLINE_TEST_PG when it is set) and exports
#                   FRONTLINE_TEST_PG=postgresql://...; returns 1 (and says
#                   why on stderr) when PostgreSQL is not installed
#   pg_newdb NAME   creates database NAME and prints its connection string
#   pg_stop         stops the cluster pg_start started (an EXIT trap should call it)
# Run directly:     sh tests/pg-env.sh run CMD ARGS...
#                   runs CMD with FRONTLINE_TEST_PG set, then stops the cluster.
#
# Without PostgreSQL a suite skips (exit 77), unless FRONTLINE_REQUIRE_PG=1
# (set by .ci/run), when the missing server is a failure (exit 99).
# The cluster listens on 127.0.0.1 only, on a free port, with trust
# authentication for the loopback; it runs as the postgres user when the
# tests run as root (initdb refuses root). Nothing outside $TMPDIR is touched.

pg_dir=
pg_bin=

pg_find_bin() {
	for d in ${PG_BIN:-} /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			pg_bin=$d
			return 0
		fi
	done
	command -v initdb >/dev/null 2>&1 && pg_bin=$(dirname "$(command -v initdb)") && return 0
	return 1
}

# Runs a PostgreSQL program as the cluster's owner.
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}

pg_start() {
	if [ -n "${FRONTLINE_TEST_PG:-}" ]; then
		export FRONTLINE_TEST_PG
		return 0
	fi
	if ! pg_find_bin; then
		echo "pg-env: PostgreSQL is not installed (no initdb); apt-get install postgresql" >&2
		[ "${FRONTLINE_REQUIRE_PG:-0}" = 1 ] && exit 99
		return 1
	fi
	pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/frontline-pg.XXXXXX") || return 1
	chmod 755 "$pg_dir"
	[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
	if ! pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale \
		>"$pg_dir/initdb.log" 2>&1; then
		echo "pg-env: initdb failed:" >&2
		cat "$pg_dir/initdb.log" >&2
		[ "${FRONTLINE_REQUIRE_PG:-0}" = 1 ] && exit 99
		return 1
	fi
	port=$(pg_free_port)
	# fsync stays on: the store's guarantees are tested as users get them.
	if ! pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pg_dir -c max_connections=200" \
		start >/dev/null 2>&1; then
		echo "pg-env: the server did not start:" >&2
		cat "$pg_dir/server.log" >&2
		[ "${FRONTLINE_REQUIRE_PG:-0}" = 1 ] && exit 99
		return 1
	fi
	FRONTLINE_TEST_PG="postgresql://postgres@127.0.0.1:$port/postgres"
	export FRONTLINE_TEST_PG
	return 0
}

# pg_newdb NAME: a fresh database on the cluster; prints its connection string.
pg_newdb() {
	base=${FRONTLINE_TEST_PG%/*}
	PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 -d "$FRONTLINE_TEST_PG" \
		-c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null || return 1
	echo "$base/$1"
}

pg_stop() {
	if [ -n "$pg_dir" ] && [ -d "$pg_dir/data" ]; then
		pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1
	fi
	[ -n "$pg_dir" ] && rm -rf "$pg_dir"
	pg_dir=
}

if [ "${1:-}" = run ]; then
	shift
	pg_start || exit 77
	trap pg_stop EXIT
	trap 'exit 130' INT TERM
	"$@"
	exit $?
fi
