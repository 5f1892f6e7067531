#!/bin/sh
# doc-examples.sh -- every example in the README and the man pages, run
# (tests/doc-examples.py says how). Skipped (exit 77) without python3.
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir; by
# hand from a build directory: FRONTLINE=./frontline top_srcdir=..
# sh ../tests/doc-examples.sh [DOC:LINE...]
: "${top_srcdir:=$(dirname "$0")/..}"
if ! command -v python3 >/dev/null 2>&1; then
	echo "python3 is not installed: skipping"
	exit 77
fi
exec python3 "$top_srcdir/tests/doc-examples.py" "$@"
