#!/bin/sh
# install.sh -- where frontline finds its data (frontline(1), FILES): an
# installed copy whose prefix is not the configured one (make install
# prefix=DIR, make install DESTDIR=DIR) run from another directory, the
# uninstalled build run from another directory, the documented order
# (FRONTLINE_DATADIR, then a source tree in the current directory, then the
# data next to the executable), and the message when nothing is found.
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir; by
# hand from a build directory: FRONTLINE=./frontline top_srcdir=.. sh
# ../tests/install.sh. It runs `make install` of the build directory into a
# temporary directory (no root, no network). Prints "ok"/"FAIL" per check
# and "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-install.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/elsewhere"
HOME=$T/home XDG_CACHE_HOME=$T/home/cache XDG_STATE_HOME=$T/home/state
XDG_CONFIG_HOME=$T/home/config XDG_DATA_HOME=$T/home/data FRONTLINE_TODAY=2026-11-24 LC_ALL=C
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME XDG_DATA_HOME FRONTLINE_TODAY LC_ALL
# What the lookup decides must not come from the test harness.
unset FRONTLINE_DATADIR FRONTLINE_MODEL
case $FRONTLINE in /*) ;; *) FRONTLINE=$(pwd)/$FRONTLINE ;; esac
srcdir_abs=$(cd "$top_srcdir" && pwd -P)
builddir_abs=$(cd "$top_builddir" && pwd -P)

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

# at DIR CMD...: runs CMD in DIR, stdin from /dev/null; $rc, $T/out, $T/err.
at() {
	dir=$1
	shift
	(cd "$dir" && exec "$@") </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
expect() { # NAME WANT-RC FILE FIXED-STRING...
	name=$1 want=$2 file=$3
	shift 3
	if [ "$rc" -ne "$want" ]; then
		not_ok "$name: exit $rc, wanted $want" "$T/out" "$T/err"
		return
	fi
	for s in "$@"; do
		if ! grep -Fq -- "$s" "$file"; then
			not_ok "$name: no '$s'" "$T/out" "$T/err"
			return
		fi
	done
	ok "$name"
}

# make install of this build into $1 with the make arguments that follow.
install_to() {
	dest=$1
	shift
	# The harness's make flags (a jobserver) are not this make's.
	if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$builddir_abs" install "$@" \
		>"$T/install.log" 2>&1 && [ -x "$dest/bin/frontline" ]; then
		ok "make install $*"
	else
		not_ok "make install $*" "$T/install.log"
	fi
}

# --- make install prefix=DIR: the binary was configured for another prefix --
install_to "$T/p" prefix="$T/p"
P=$T/p/bin/frontline
at "$T/elsewhere" "$P" policy check
expect "prefix=DIR: the installed policy, from another directory" 0 "$T/out" \
	"$T/p/share/frontline/policies/support-agent-policy.yaml: ok"
at "$T/elsewhere" "$P" triage --which
expect "prefix=DIR: the installed triage model" 0 "$T/out" \
	"$T/p/share/frontline/triage.model" "installed"
at "$T/elsewhere" "$P" triage --json 'where is my order A12345?'
expect "prefix=DIR: triage runs on the installed data" 0 "$T/out" \
	'"intent_category":"shipping"' '"A12345"'
at "$T/elsewhere" "$P" demo
expect "prefix=DIR: the tour on the installed knowledge base" 0 "$T/out" \
	"knowledge base $T/p/share/frontline/kb: "
at "$T/elsewhere" "$P" kb search -k 1 'how long is the return window'
expect "prefix=DIR: kb search on the installed knowledge base" 0 "$T/out" "returns-window"
# A copy of the prefix elsewhere, through a symbolic link to the binary.
cp -R "$T/p" "$T/copied"
ln -s "$T/copied/bin/frontline" "$T/elsewhere/fl"
at "$T/elsewhere" ./fl policy check
expect "a copied prefix finds its own data, through a link" 0 "$T/out" \
	"$T/copied/share/frontline/policies/support-agent-policy.yaml: ok"
rm -rf "$T/copied" "$T/elsewhere/fl"

# --- make install DESTDIR=DIR prefix=PREFIX: a staged install ----------------
install_to "$T/dest/opt/fl" DESTDIR="$T/dest" prefix=/opt/fl
at "$T/elsewhere" "$T/dest/opt/fl/bin/frontline" triage --which
expect "DESTDIR: the staged triage model" 0 "$T/out" "$T/dest/opt/fl/share/frontline/triage.model"
at / "$T/dest/opt/fl/bin/frontline" policy check
expect "DESTDIR: the staged policy, run from /" 0 "$T/out" \
	"$T/dest/opt/fl/share/frontline/policies/support-agent-policy.yaml: ok"

# --- the order: FRONTLINE_DATADIR, a source tree here, then the installation -
mkdir -p "$T/team/policies" "$T/team/kb"
sed 's/confidence_threshold: 0.72/confidence_threshold: 0.7/' \
	"$top_srcdir/policies/support-agent-policy.yaml" >"$T/team/policies/support-agent-policy.yaml"
at "$T/team" "$P" policy check
expect "a source tree in the current directory comes before the installation" 0 "$T/out" \
	"./policies/support-agent-policy.yaml: ok"
at "$T/team" env FRONTLINE_DATADIR="$T/p/share/frontline" "$P" policy check
expect "FRONTLINE_DATADIR comes before the current directory" 0 "$T/out" \
	"$T/p/share/frontline/policies/support-agent-policy.yaml: ok"
at "$T/elsewhere" "$P" --policy "$T/team/policies/support-agent-policy.yaml" policy check
expect "--policy comes first" 0 "$T/out" "$T/team/policies/support-agent-policy.yaml: ok"

# --- the uninstalled build, run from another directory -------------------------
at "$T/elsewhere" "$FRONTLINE" policy check
expect "the build finds its source tree's policy" 0 "$T/out" \
	"$srcdir_abs/policies/support-agent-policy.yaml: ok"
at "$T/elsewhere" "$FRONTLINE" triage --which
expect "the build finds the model it trained" 0 "$T/out" "$builddir_abs/triage.model" "built"
at "$T/elsewhere" "$FRONTLINE" kb search -k 1 'how long is the return window'
expect "the build's kb search on its source tree" 0 "$T/out" "returns-window"
# Through a link from elsewhere, as a user's ~/bin/frontline would be.
ln -s "$FRONTLINE" "$T/elsewhere/fl"
at "$T/elsewhere" ./fl triage --json 'I was charged twice'
expect "the build through a link" 0 "$T/out" '"intent_category":"billing"'
rm -f "$T/elsewhere/fl"

# --- nothing found ----------------------------------------------------------------
mkdir -p "$T/lone/bin"
cp "$P" "$T/lone/bin/frontline"
at "$T/elsewhere" "$T/lone/bin/frontline" policy check
if [ "$rc" -eq 0 ]; then
	# Only where frontline is installed at its configured prefix.
	echo "ok - # SKIP nothing found: an installed copy answered ($(cut -d: -f1 "$T/out"))"
else
	for cmd in "policy check" "triage hello" "kb audit" "demo"; do
		# shellcheck disable=SC2086
		at "$T/elsewhere" "$T/lone/bin/frontline" $cmd
		expect "nothing found: $cmd says where it looked and the ways out" 78 "$T/err" \
			"$T/lone/share/frontline" "--policy" "--kb" "FRONTLINE_DATADIR" "make install"
	done
	at "$T/elsewhere" "$T/lone/bin/frontline" --policy "$T/team/policies/support-agent-policy.yaml" \
		kb search refund
	expect "nothing found: a missing kb names the ways out" 66 "$T/err" "--kb" "FRONTLINE_DATADIR"
	at "$T/elsewhere" "$T/lone/bin/frontline" triage --which
	expect "nothing found: a missing model names the ways out" 66 "$T/err" \
		"FRONTLINE_DATADIR" "make install"
fi
# A data directory named explicitly is never second-guessed.
at "$T/elsewhere" env FRONTLINE_DATADIR="$T/nowhere" "$T/lone/bin/frontline" policy check
if [ "$rc" -eq 78 ] && grep -Fq "$T/nowhere/policies/support-agent-policy.yaml" "$T/err" &&
	! grep -Fq "make install" "$T/err"; then
	ok "FRONTLINE_DATADIR without the data: its own path, no search"
else
	not_ok "FRONTLINE_DATADIR without the data: exit $rc" "$T/err"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
