#!/bin/sh
# seeds.sh -- seed inputs for a fuzz target, made from the test fixtures and
# the shipped data (the committed seeds in fuzz/corpus/ are the ones that
# exist nowhere else: responses of model servers, HTTP requests).
#
# Usage: seeds.sh SRCDIR TARGET DIR -- writes the seeds into DIR.
src=$1 t=$2 out=$3
mkdir -p "$out" || exit 1

# each FILE...: a copy of each file, named by where it came from
each() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		cp "$f" "$out/$(echo "${f#"$src"/}" | tr '/' '_')"
	done
}

# lines PREFIX FILE...: every non-empty line of the files, one seed each
lines() {
	prefix=$1
	shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		awk -v out="$out" -v name="$prefix-$(basename "$f")" \
			'NF { file = out "/" name "-" NR; printf "%s", $0 > file; close(file) }' "$f"
	done
}

case $t in
policy)
	each "$src"/policies/*.yaml "$src"/tests/data/policies/*.yaml
	;;
kb)
	each $(find "$src/kb" "$src"/tests/data/kb-* -name '*.md' | LC_ALL=C sort)
	;;
ticket)
	lines ticket "$src"/data/tickets/*.jsonl "$src"/tests/fixtures/replay/tickets.jsonl
	;;
customer-proto)
	# the protocol's own examples, both ways
	sed -n 's/^\(> \)\{0,1\}\({"type".*\)$/\2/p' "$src/man/frontline-protocol.7" |
		sed 's/\\-/-/g; s/\\e/\\/g' >"$out/protocol"
	lines proto "$out/protocol"
	rm -f "$out/protocol"
	;;
esac
exit 0
