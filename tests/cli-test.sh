#!/bin/sh
# cli-test.sh - the command line, on a host without VDUSE: --help tells
# every option, bad values give one line and exit 2, a --config file is
# the same as its options on the command line (which win over it), and a
# missing VDUSE module is explained.
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
    --tap-fd --bridge --pcap --pcap-filter --mgmt --restore --state-file \
    --features --speed --duplex --mgmt-group --mgmt-allow-uid --state-dir \
    --config --version; do
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
expect_usage --name x --tap t --speed fast
expect_usage --name x --tap t --speed -1
expect_usage --name x --tap t --speed 2147483648
expect_usage --name x --tap t --duplex both
expect_usage --name x --tap t --features -rss,nosuch
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
expect_usage --name x --tap t --mgmt-group root
expect_usage --name x --tap t --mgmt /run/x.sock --mgmt-group no-such-group-here
expect_usage --name x --tap t --mgmt /run/x.sock --mgmt-allow-uid no-such-user-here
expect_usage --name x --tap t --features foo
expect_usage --name x --tap t --features -csum,csum
expect_usage --name x --tap t --features -notf-coal,notf-coal
# The coalescing features and hash reports have names, and --help says
# --bus vhost leaves them out.
echo "$help" | tr -s ' \n' ' ' | grep -q "speed-duplex, rss, hash-report and ring-packed" ||
    fail "--help does not say hash-report is off with --bus vhost"
for f in notf-coal vq-notf-coal hash-report; do
    echo "$help" | tr -s ' \n' ' ' | grep -q "Names:.* $f" ||
        fail "--help does not name $f"
done
echo "$help" | tr -s ' \n' ' ' | grep -q "device-stats, notf-coal and vq-notf-coal" ||
    fail "--help does not say notf-coal is off with --bus vhost"
# host-tso4 needs csum: the error names both.
err=$("$bin" --name x --tap t --features -csum 2>&1 >/dev/null)
[ $? = 2 ] || fail "--features -csum: not exit 2"
echo "$err" | grep -q "host-tso4 needs csum" || fail "--features -csum: $err"

# A saved state gives the identity: contradicting options are refused, a
# state that cannot be read is one line and exit 1.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state='{"version":1,"device":{"name":"vm0","mac":"02:00:00:00:00:01",
"mtu":1500,"queue-pairs":1,"ctrl-vq":true,"features":0},"driver":{
"status":0,"features":0,"suspended":false},"config":{"mac":
"02:00:00:00:00:01","status":1},"group-asids":[0,0],"vqs":[],"link-up":true,
"shadow":{"mac":"02:00:00:00:00:01","rx-mode":{"promisc":true,"allmulti":
false,"alluni":false,"nomulti":false,"nouni":false,"nobcast":false},
"mac-table":{"unicast":[],"unicast-overflow":false,"multicast":[],
"multicast-overflow":false},"vlans":[],"queue-pairs":1,"guest-offloads":0,
"announce-acks":0}}'
echo "$state" >"$tmp/s.json"
# The source's command line plus --restore: contradictions are refused,
# naming the member and both values; agreement is fine.
expect_usage --restore "$tmp/s.json" --tap t --mac 02:00:00:00:00:02
expect_usage --restore "$tmp/s.json" --tap t --queues 2
expect_usage --restore "$tmp/s.json" --tap t --name other
expect_usage --restore "$tmp/s.json" --tap t --ctrl-vq off
expect_usage --state-file "$tmp/s.json" --tap t --mtu 9000
err=$("$bin" --restore "$tmp/s.json" --tap t --mtu 9000 2>&1 >/dev/null)
echo "$err" | grep -q "mtu 9000.*device.mtu 1500" || fail "contradiction not named: $err"
for agree in "--name vm0" "--mac 02:00:00:00:00:01" "--mtu 1500" "--queues 1" \
    "--ctrl-vq on" "--ctrl-vq auto"; do
    # shellcheck disable=SC2086
    err=$("$bin" --restore "$tmp/s.json" --tap t $agree 2>&1 >/dev/null)
    rc=$?
    [ $rc != 2 ] || fail "--restore with $agree refused: $err"
done
echo "$state" | sed 's/"version":1/"version":9/' >"$tmp/v9.json"
# 200 KB of '[' (json-glib's parser recursed until the stack overflowed),
# an empty file, a blank one.
head -c 200000 /dev/zero | tr '\0' '[' >"$tmp/deep.json"
: >"$tmp/empty.json"
printf '  \n' >"$tmp/blank.json"
for f in "$tmp/deep.json" "$tmp/empty.json" "$tmp/blank.json"; do
    err=$("$bin" --restore "$f" --tap t 2>&1 >/dev/null)
    rc=$?
    [ $rc = 1 ] || fail "--restore $f: exit $rc, not 1"
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "--restore $f printed: $err"
done
echo "$err" | grep -q "blank.json" || fail "the error does not name the file: $err"
for f in "$tmp/missing.json" "$tmp/v9.json"; do
    err=$("$bin" --restore "$f" --tap t 2>&1 >/dev/null)
    rc=$?
    [ $rc = 1 ] || fail "--restore $f: exit $rc, not 1"
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "--restore $f printed: $err"
done
echo "$err" | grep -q "version 9" || fail "--restore of version 9: $err"

# --config: a key file is the same as its options on the command line.
# Without VDUSE here the same result is the same first error: a usage
# line, a contradiction with a restored state, or the missing module.
# same_as_options FILE-LINES -- ARGS...: write the key file, compare.
same_as_options() {
    printf '[vduse-net]\n' >"$tmp/c.conf"
    while [ "$1" != -- ]; do
        printf '%s\n' "$1" >>"$tmp/c.conf"
        shift
    done
    shift
    want=$("$bin" "$@" 2>&1)
    want_rc=$?
    got=$("$bin" --config "$tmp/c.conf" 2>&1)
    got_rc=$?
    [ "$got_rc" = "$want_rc" ] && [ "$got" = "$want" ] ||
        fail "--config ($(tr '\n' ' ' <"$tmp/c.conf")) gave $got_rc '$got', the options $want_rc '$want'"
}
same_as_options 'name = x' 'tap = t' 'mtu = 67' -- --name x --tap t --mtu 67
same_as_options 'name = x' 'tap = t' 'queues = 17' -- --name x --tap t --queues 17
same_as_options 'name = x' 'tap = t' 'bus = pci' -- --name x --tap t --bus pci
same_as_options 'name = x' 'tap = t' 'features = -csum' -- --name x --tap t --features -csum
same_as_options 'name = x' 'tap = t' 'mgmt-group = root' -- --name x --tap t --mgmt-group root
same_as_options "restore = $tmp/s.json" 'tap = t' 'mtu = 9000' -- \
    --restore "$tmp/s.json" --tap t --mtu 9000
same_as_options 'name = x' 'tap = t' 'mtu = 9000' 'queues = 2' 'bus = vhost' \
    'ctrl-vq = on' 'replace = true' 'mac = 02:00:00:00:00:05' 'features = -guest-ecn' \
    "state-dir = $tmp" -- --name x --tap t --mtu 9000 --queues 2 --bus vhost \
    --ctrl-vq on --replace --mac 02:00:00:00:00:05 --features -guest-ecn \
    --state-dir "$tmp"
# A boolean that is false sets nothing: --tap-fd with "replace = false"
# is refused for --tap-fd, not for replace.
same_as_options 'name = x' 'tap-fd = 99' 'replace = false' -- --name x --tap-fd 99

# The command line wins over the file.
printf '[vduse-net]\nname = x\ntap = t\nmtu = 67\nbus = pci\n' >"$tmp/w.conf"
err=$("$bin" --config "$tmp/w.conf" --mtu 1500 --bus virtio 2>&1)
rc=$?
[ $rc != 2 ] || fail "--config with --mtu 1500 --bus virtio on the command line: $err"
err=$("$bin" --mtu 1500 --config "$tmp/w.conf" 2>&1)
echo "$err" | grep -q -- "--bus 'pci'" || fail "the file's bus not used: $err"

# A bad file: one line, exit 2 (1 if it cannot be read).
expect_config_usage() {
    printf '%b' "$1" >"$tmp/bad.conf"
    expect_usage --config "$tmp/bad.conf"
    echo "$err" | grep -q -- "$2" || fail "--config with '$1': $err"
}
expect_config_usage '[vduse-net]\nname = x\nfoo = 1\n' "unknown key 'foo'"
expect_config_usage '[vduse-net]\nname = x\nmtu = abc\n' "mtu: not a number"
expect_config_usage '[vduse-net]\nname = x\nreplace = maybe\n' "replace: use true or false"
expect_config_usage '[other]\nname = x\n' "unknown group \\[other\\]"
expect_config_usage 'name = x\n' "bad.conf: "
expect_config_usage '[vduse-net]\nconfig = /etc/x.conf\n' "unknown key 'config'"
expect_config_usage '[vduse-net]\nversion = true\n' "unknown key 'version'"
err=$("$bin" --config "$tmp/missing.conf" 2>&1)
rc=$?
[ $rc = 1 ] || fail "--config missing.conf: exit $rc, not 1"
[ "$err" = "vduse-net: --config $tmp/missing.conf: No such file or directory" ] ||
    fail "--config missing.conf: $err"

err=$("$bin" --name x --tap t --state-dir /nonexistent/dir 2>&1 >/dev/null)
rc=$?
[ $rc = 1 ] || fail "--state-dir /nonexistent/dir: exit $rc, not 1"
echo "$err" | grep -q "^vduse-net: --state-dir /nonexistent/dir: " ||
    fail "--state-dir /nonexistent/dir: $err"

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
