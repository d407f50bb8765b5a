# netctl.sh - vduse-netctl against a running vduse-net, every command once
# with what it prints: status and stats for a person and with --json,
# state, link down and up (seen by the driver and as events), announce,
# export to and restore from the state directory (and a path refused),
# suspend, events followed until interrupted, and errors as one line.
. /lib.sh

M=$R/vnet0.sock
S=$R/state
mkdir -p -m 0700 $S
start_dev --name vnet0 --tap tap0 --queues 2 --mgmt $M --state-dir $S
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "ping" ping -c 2 -W 5 10.0.0.1

vduse-netctl $M events >/tmp/events.out 2>&1 &
events=$!
vduse-netctl --json $M events >/tmp/events.json 2>&1 &
events_json=$!
sleep 0.5

# expect_out DESCRIPTION FILE PATTERN...: FILE has a line matching each.
expect_out() {
    what=$1 file=$2
    shift 2
    for p in "$@"; do
        grep -q -E -- "$p" "$file" || { cat "$file"; fail "$what: no line '$p'"; }
    done
    ok "$what"
}

check "status" sh -c "vduse-netctl $M status >/tmp/status.out"
cat /tmp/status.out
expect_out "status, for a person" /tmp/status.out '^name +vnet0$' \
    '^status +0x0f ACKNOWLEDGE DRIVER DRIVER_OK FEATURES_OK$' \
    '^features +0x[0-9a-f]{16}$' '^link-up +yes$' '^active-pairs +2$' \
    '^bus +virtio$' '^on-bus +yes$' "^netdev +$dev\$"
vduse-netctl --json $M status >/tmp/status.json || fail "status --json"
[ "$(wc -l </tmp/status.json)" = 1 ] || fail "status --json: not one line"
expect_out "status --json" /tmp/status.json \
    "^\\{\"name\":\"vnet0\",\"status\":15,.*\"netdev\":\"$dev\"\\}\$"

check "stats" sh -c "vduse-netctl $M stats >/tmp/stats.out"
cat /tmp/stats.out
expect_out "stats, a table" /tmp/stats.out '^ +pair 0 +pair 1 +total$' \
    '^running +yes +yes$' '^tx-packets +[0-9]+ +[0-9]+ +[1-9][0-9]*$' \
    '^rx-packets +[0-9]+ +[0-9]+ +[1-9][0-9]*$' '^rx-interrupts +[0-9]+ +[0-9]+ +[0-9]+$'
[ "$(wc -l </tmp/stats.out)" = 14 ] || fail "stats: not a header and 13 rows"
vduse-netctl --json $M stats >/tmp/stats.json || fail "stats --json"
expect_out "stats --json" /tmp/stats.json \
    '^\[\{"running":true,"tx-packets":[0-9]+,.*\},\{"running":true,.*\}\]$'

check "state" sh -c "vduse-netctl $M state >/tmp/state.out"
expect_out "state, indented JSON" /tmp/state.out '^\{$' '^  "version" : 1,$' \
    '"name" : "vnet0"' '"queue-pairs" : 2' '^\}$'

out=$(vduse-netctl $M link down) || fail "link down"
[ -z "$out" ] || fail "link down printed: $out"
wait_for 5 sh -c "$IP netns exec a $IP link show $dev | grep -q NO-CARRIER" ||
    fail "link down not seen by the driver"
ok "link down: seen by the driver, nothing printed"
[ "$(vduse-netctl --json $M link up)" = "{}" ] || fail "link up --json"
wait_for 5 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link up not seen by the driver"
ok "link up: seen by the driver, {} with --json"

check "announce" vduse-netctl $M announce
wait_for 5 sh -c "vduse-netctl --json $M state | grep -q '\"announce-acks\":[1-9]'" ||
    fail "announce not acknowledged by the driver"
ok "announce acknowledged by the driver"

check "export" vduse-netctl $M export vnet0.state
tr -d ' \n' <$S/vnet0.state | grep -q '"version":1,"device":{"name":"vnet0"' || fail "export: $S/vnet0.state: $(head -c 200 $S/vnet0.state)"
ok "export wrote $S/vnet0.state"
# Errors: the daemon's message, one line, exit 1.
vduse-netctl $M export /etc/passwd >/tmp/err.out 2>&1
rc=$?
[ $rc = 1 ] && [ "$(wc -l </tmp/err.out)" = 1 ] &&
    grep -q '^vduse-netctl: export-state: "file" must be a file name inside the state directory' /tmp/err.out ||
    fail "export /etc/passwd: exit $rc: $(cat /tmp/err.out)"
ok "export of a path refused: $(cat /tmp/err.out)"
vduse-netctl $M restore vnet0.state >/tmp/err.out 2>&1
rc=$?
[ $rc = 1 ] && grep -q '^vduse-netctl: restore-state: the driver runs the device already$' /tmp/err.out ||
    fail "restore while the driver runs: exit $rc: $(cat /tmp/err.out)"
ok "restore refused while the driver runs"
vduse-netctl $M restore missing.state >/tmp/err.out 2>&1
[ $? = 1 ] && [ "$(wc -l </tmp/err.out)" = 1 ] || fail "restore missing.state: $(cat /tmp/err.out)"
ok "restore of a missing file: $(cat /tmp/err.out)"

# restore taken by a device whose driver has not started it.
M1=$R/vnet1.sock
vduse-net --name vnet1 --tap tap1 --queues 2 --bus none --mgmt $M1 --state-dir $S \
    >/tmp/vnet1.out 2>&1 &
v1=$!
wait_for 20 test -S $M1 || fail "vnet1: $(cat /tmp/vnet1.out)"
out=$(vduse-netctl $M1 restore vnet0.state 2>&1) || fail "restore on vnet1: $out"
[ -z "$out" ] || fail "restore printed: $out"
ok "restore vnet0.state on a device not started: accepted, nothing printed"
kill -TERM $v1
wait $v1 || fail "vnet1 exited with $?"

check "suspend" vduse-netctl $M suspend
ping -c 1 -W 2 10.0.0.1 >/dev/null 2>&1 && fail "frames pass after suspend"
ok "suspend: the datapath stopped"

kill -INT $events
wait $events
rc=$?
[ $rc = 0 ] || fail "events: exit $rc after SIGINT"
kill -TERM $events_json
wait $events_json || fail "events --json: exit $? after SIGTERM"
cat /tmp/events.out
expect_out "events, for a person" /tmp/events.out \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{6} LINK_CHANGED \{"up":false\}$' \
    '^[0-9-]{10} [0-9:.]{15} LINK_CHANGED \{"up":true\}$'
expect_out "events --json" /tmp/events.json \
    '^\{"event":"LINK_CHANGED","data":\{"up":false\},"timestamp":\{"seconds":[0-9]+,"microseconds":[0-9]+\}\}$'

stop_dev
vduse-netctl $M status >/tmp/err.out 2>&1
rc=$?
[ $rc = 1 ] && [ "$(cat /tmp/err.out)" = "vduse-netctl: cannot connect to $M: No such file or directory" ] ||
    fail "after stop: exit $rc: $(cat /tmp/err.out)"
ok "no daemon: $(cat /tmp/err.out)"
exit 0
