#!/bin/sh
# cli-test.sh - the command line, on a host without VDUSE: --help tells
# every option, bad values give one line and exit 2, and a missing VDUSE
# module is explained.
#
# Usage: tests/cli-test.sh BUILD/vduse-net
set -u
bin=${1:?usage: cli-test.sh VDUSE_NET}
failed=0

fail() {
    echo "not ok: $*"
    failed=1
}

help=$("$bin" --help) || fail "--help exits non-zero"
for opt in --name --mac --mtu --queues --bus --ctrl-vq --replace --tap \
    --tap-fd --bridge --pcap --pcap-filter --mgmt --version; do
    echo "$help" | grep -q -- "$opt" || fail "--help does not mention $opt"
done
"$bin" --version | grep -q '^vduse-net [0-9]' || fail "--version"

# expect_usage ARGS...: exit 2 and exactly one line on stderr.
expect_usage() {
    err=$("$bin" "$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc = 2 ] || fail "'$*' exited $rc, not 2"
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "'$*' printed: $err"
    case $err in vduse-net:*) ;; *) fail "'$*' printed: $err" ;; esac
}
expect_usage --name x --tap t --mtu 67
expect_usage --name x --tap t --mtu 65521
expect_usage --name x --tap t --mtu abc
expect_usage --name x --tap t --queues 17
expect_usage --name x --tap t --queues 2 --ctrl-vq off
expect_usage --name x --tap t --mac 00:00:00:00:00:00
expect_usage --name x --tap t --mac 02:00:00:00:00
expect_usage --name x --tap t --mac 02:00:00:00:00:0g
expect_usage --name x --tap t --bus pci
expect_usage --name x --tap t --ctrl-vq maybe
expect_usage --name "" --tap t
expect_usage --name x --tap t --tap-fd 3
expect_usage --name x --tap-fd 3 --bridge br0
expect_usage --name x --tap t --pcap-filter tcp
expect_usage --tap t
expect_usage --name x --tap t extra
expect_usage --bogus

if [ ! -e /dev/vduse/control ]; then
    err=$("$bin" --name x --tap t 2>&1)
    rc=$?
    [ $rc = 1 ] || fail "without VDUSE: exit $rc, not 1"
    echo "$err" | grep -q "modprobe vduse" || fail "without VDUSE: $err"
else
    echo "# /dev/vduse/control exists here: the missing-module message is checked in the VM"
fi
[ $failed = 0 ] && echo "ok: command line"
exit $failed
