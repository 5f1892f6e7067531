#!/bin/sh
# mock-openai-selftest.sh -- make check's entry to the self-test of the
# loopback OpenAI-compatible server (tests/mock-openai-selftest.py).
# Skipped (exit 77) when no python3 of version 3.8 or later is installed.
: "${top_srcdir:=$(dirname "$0")/..}"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
	exit 77
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 8))'; then
	echo "skipped: $(python3 --version 2>&1) is older than 3.8"
	exit 77
fi
exec python3 "$top_srcdir/tests/mock-openai-selftest.py"
