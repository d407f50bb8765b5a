#!/bin/sh
# netctl-test.sh - vduse-netctl on the host, without a daemon: --help
# names every command, bad usage is one line and exit 2 (before anything is
# connected to), a socket nobody serves is one line and exit 1. Its
# commands against a running daemon: tests/vm/scenarios/netctl.sh.
#
# Usage: tests/netctl-test.sh BUILD/netctl/vduse-netctl
set -u
bin=${1:?usage: netctl-test.sh VDUSE_NETCTL}
failed=0

fail() {
    echo "not ok: $*"
    failed=1
}

help=$("$bin" --help) || fail "--help exits non-zero"
for word in status stats state 'export NAME' 'restore NAME' suspend \
    'link up|down' announce events --json --version; do
    echo "$help" | grep -q -- "$word" || fail "--help does not mention $word"
done
"$bin" --version | grep -q '^vduse-netctl [0-9]' || fail "--version"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nosock=$tmp/nobody.sock

# expect_rc RC PATTERN ARGS...: exit RC, one line on stderr matching
# PATTERN, nothing on stdout.
expect_rc() {
    want=$1 pattern=$2
    shift 2
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    err=$(cat "$tmp/err")
    [ $rc = "$want" ] || fail "'$*' exited $rc, not $want: $err"
    [ "$(wc -l <"$tmp/err")" = 1 ] || fail "'$*' printed: $err"
    [ ! -s "$tmp/out" ] || fail "'$*' printed on stdout: $(cat "$tmp/out")"
    echo "$err" | grep -q -- "$pattern" || fail "'$*': '$err' lacks '$pattern'"
}
# Usage: nothing is connected to (the socket does not exist: a usage
# error must be found first).
expect_rc 2 "give the daemon's SOCKET and a COMMAND (see --help)"
expect_rc 2 "give a COMMAND after the SOCKET (see --help)" "$nosock"
expect_rc 2 "unknown command 'frobnicate' (see --help)" "$nosock" frobnicate
expect_rc 2 "export needs NAME (see --help)" "$nosock" export
expect_rc 2 "restore needs NAME (see --help)" "$nosock" restore
expect_rc 2 "link needs up|down (see --help)" "$nosock" link
expect_rc 2 "link: 'sideways': use up or down (see --help)" "$nosock" link sideways
expect_rc 2 "status: unexpected argument 'now' (see --help)" "$nosock" status now
expect_rc 2 "export: unexpected argument 'b' (see --help)" "$nosock" export a b
expect_rc 2 "Unknown option --bogus (see --help)" --bogus "$nosock" status
# Errors: exit 1, one line.
expect_rc 1 "cannot connect to $nosock: No such file or directory" "$nosock" status
: >"$tmp/plain"
expect_rc 1 "cannot connect to $tmp/plain: Connection refused" "$tmp/plain" stats
long=$tmp/$(printf '%0120d' 0)
expect_rc 1 "the path is too long" "$long" status

[ $failed = 0 ] && echo "ok: vduse-netctl command line"
exit $failed
