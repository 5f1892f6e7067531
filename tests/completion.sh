#!/bin/sh
# completion.sh -- the bash completion: made from the command table, it
# completes commands, verbs, options and their values, and it names every
# command and option --help names.
#
# Run by make check (FRONTLINE, top_srcdir, top_builddir set); by hand:
# FRONTLINE=_build/frontline sh tests/completion.sh

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"

if ! command -v bash >/dev/null 2>&1; then
	echo "SKIP: no bash"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-completion.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
HOME=$T XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache
export HOME XDG_STATE_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
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
	[ -n "$2" ] && [ -s "$2" ] && sed -n '1,20s/^/    | /p' "$2"
	return 0
}

"$FRONTLINE" completion bash >"$T/frontline" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] && ok "completion bash: exit 0" || not_ok "completion bash: exit $rc" "$T/err"
if bash -n "$T/frontline" 2>"$T/err"; then ok "the script is bash"; else not_ok "the script is bash" "$T/err"; fi

# The file make installs is the one the binary prints.
if [ -f "${top_builddir:-.}/completion/frontline" ]; then
	if cmp -s "${top_builddir:-.}/completion/frontline" "$T/frontline"; then
		ok "the built completion/frontline is current"
	else
		not_ok "the built completion/frontline differs from 'frontline completion bash'"
	fi
fi

# comp WORD...: what bash offers for the last word, one a line, sorted, in $T/got.
comp() {
	bash -c '
script=$1
shift
. "$script" || exit 1
complete -p frontline >/dev/null || exit 1
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_frontline
printf "%s\n" "${COMPREPLY[@]}"' comp "$T/frontline" "$@" 2>"$T/comp.err" | sed '/^$/d' | sort >"$T/got"
}

# expect_comp NAME WANT WORD...: the offers are WANT (words, any order).
expect_comp() {
	name=$1 want=$2
	shift 2
	comp "$@"
	printf '%s\n' $want | sed '/^$/d' | sort >"$T/want"
	if cmp -s "$T/want" "$T/got"; then ok "$name"; else
		not_ok "$name: got $(tr '\n' ' ' <"$T/got")" "$T/comp.err"
	fi
}

# expect_has NAME WORD-WANTED WORD...: the offers include WORD-WANTED.
expect_has() {
	name=$1 want=$2
	shift 2
	comp "$@"
	if grep -qxF -- "$want" "$T/got"; then ok "$name"; else
		not_ok "$name: got $(tr '\n' ' ' <"$T/got")" "$T/comp.err"
	fi
}

# ------------------------------------------------------------ by hand

expect_comp "kb s<TAB>: search" "search" frontline kb s
expect_comp "kb <TAB>: the verbs" "search audit" frontline kb ""
expect_comp "triage <TAB>: its verbs" "train eval" frontline triage ""
expect_comp "replay --<TAB>: its options" \
	"--json --out --no-store --progress --target-agreement --limit --help" frontline replay --
expect_comp "replay --progress=<TAB>: json" "json" frontline replay --progress =
expect_comp "replay --progress=j<TAB>: json" "json" frontline replay --progress = j
expect_comp "chat --tier <TAB>: the tiers" "self-serve standard premium enterprise" \
	frontline chat --tier ""
expect_comp "--backend <TAB>: the backends" "offline openai" frontline --backend ""
expect_comp "metrics --source r<TAB>" "replay" frontline metrics --json --source r
expect_comp "a global option's value is skipped" "search audit" frontline --kb kb kb ""
expect_has "at the start: the commands" "completion" frontline ""
expect_has "at the start, --: the global options" "--policy" frontline --
expect_has "at the start, --: the console's options" "--no-listen" frontline --
expect_comp "after a console option: the console's options" "--speed" frontline --no-listen --sp
expect_comp "nothing after kb audit's options" "" frontline kb audit --json ""
mkdir "$T/dir"
: >"$T/tickets.jsonl"
expect_comp "replay TICKETS: file names" "$T/tickets.jsonl" frontline replay "$T/tick"
expect_comp "--out FILE: file names" "$T/tickets.jsonl" frontline replay --out "$T/ti"
expect_comp "--kb DIR: directories" "$T/dir" frontline --kb "$T/d"

# ------------------------------------------------------------ the table

# Every command --help lists, and every option of each, completes: the
# script is made from the table they are listed from.
"$FRONTLINE" --help | sed -n '/^commands:/,/^$/p' | sed '1d;/^$/d' >"$T/list"
: >"$T/entries"
while read -r w1 w2 rest; do
	if "$FRONTLINE" "$w1" "$w2" --help 2>/dev/null | head -n 1 | grep -q "^usage: frontline $w1 $w2\( \|\$\)"; then
		echo "$w1 $w2" >>"$T/entries"
	else
		echo "$w1" >>"$T/entries"
	fi
done <"$T/list"
n=$(wc -l <"$T/entries")
[ "$n" -ge 25 ] && ok "--help lists $n commands" || not_ok "--help lists $n commands" "$T/list"

comp frontline ""
cut -d' ' -f1 "$T/entries" | sort -u >"$T/want"
if cmp -s "$T/want" "$T/got"; then ok "every command completes, and nothing else"; else
	not_ok "the commands: got $(tr '\n' ' ' <"$T/got")"
fi

bad_opts= bad_verbs= bad_usage=
for cmd in $(cut -d' ' -f1 "$T/entries" | sort -u); do
	grep "^$cmd " "$T/entries" | cut -d' ' -f2 | sort >"$T/want"
	[ -s "$T/want" ] || continue
	comp frontline "$cmd" ""
	cmp -s "$T/want" "$T/got" || bad_verbs="$bad_verbs $cmd"
done
while read -r entry; do
	# shellcheck disable=SC2086
	"$FRONTLINE" $entry --help >"$T/help" 2>&1
	# The options: "  -k N", "  -q, --quiet", "  --progress=json"; long names complete.
	sed -n 's/^  \(-[a-zA-Z]\), \(--[a-z-]*\).*/\2/p; s/^  \(--[a-z-]*\).*/\1/p; s/^  \(-[a-zA-Z]\)\( .*\)\{0,1\}$/\1/p' \
		"$T/help" >"$T/opts"
	{ cat "$T/opts"; echo --help; } | sort >"$T/want"
	# shellcheck disable=SC2086
	comp frontline $entry -
	cmp -s "$T/want" "$T/got" || bad_opts="$bad_opts [$entry: $(tr '\n' ' ' <"$T/got")]"
	# The usage line (and its continuations) names every option.
	sed -n '1p;2,${/^ /!q;p}' "$T/help" >"$T/usage"
	while read -r o; do
		short=$(sed -n "s/^  \(-[a-zA-Z]\), $o.*/\1/p" "$T/help")
		grep -q -- "$o" "$T/usage" || { [ -n "$short" ] && grep -q -- "$short" "$T/usage"; } ||
			bad_usage="$bad_usage [$entry $o]"
	done <"$T/opts"
done <"$T/entries"
[ -z "$bad_verbs" ] && ok "every command's verbs complete" || not_ok "verbs of:$bad_verbs"
[ -z "$bad_opts" ] && ok "every command's options complete, as its --help lists them" ||
	not_ok "options:$bad_opts"
[ -z "$bad_usage" ] && ok "every command's usage names its options" || not_ok "usage:$bad_usage"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
