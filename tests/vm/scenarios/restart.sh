# restart.sh - kill -9 under traffic and come back with --state-file: the
# new process takes over /dev/vduse/NAME while the kernel's virtio-net
# driver keeps running, with its MAC, queue pairs and multicast table, and
# the traffic resumes. The rings are packed (offered by default): their
# used positions come back from the used log beside the state file.
. /lib.sh

S=/tmp/vnet0.state
start_dev --name vnet0 --tap tap0 --queues 2 --state-file $S
dev=$(dev_netdev)
check_ring_layout packed
[ -s $S.used ] || fail "no used log $S.used beside the state file"
move_to_ns "$dev" a 10.0.0.1/24
# The TAP is an IP endpoint here: the driver's side caches its MAC, so the
# TAP made again after the restart gets the same one.
$IP link set tap0 address 02:00:00:00:00:99
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "ping before" ping -c 2 -W 5 10.0.0.1
check "MAC change" in_ns a $IP link set "$dev" address 02:00:00:00:00:77
check "multicast join" in_ns a $IP maddr add 01:00:5e:00:00:42 dev "$dev"
wait_for 5 grep -q '"02:00:00:00:00:77"' $S || fail "state file: $(cat $S)"
# The driver sends MAC_TABLE_SET from a work item of its own, after the
# MAC: it may land a moment later.
wait_for 5 grep -q '"01:00:5e:00:00:42"' $S || fail "no multicast entry in $S"
grep -q '"queue-pairs" : 2' $S || fail "not 2 queue pairs in $S"
ok "state file follows the driver"

# Traffic from the driver's side, then kill -9 in the middle of it.
in_ns a ping -i 0.05 -w 40 10.0.0.2 >/tmp/ping.out 2>&1 &
pinger=$!
sleep 2
old=$DEV_PID
kill -9 "$old"
wait "$old" 2>/dev/null
before=$(grep -c 'bytes from' /tmp/ping.out)
ok "killed vduse-net (pid $old) after $before replies"
[ -c /dev/vduse/vnet0 ] || fail "the device went away with the process"

# The same command again: it takes the device over.
rc=0
# A contradiction with the state file is refused (agreement would be fine).
vduse-net --name vnet0 --tap tap0 --queues 1 --state-file $S 2>/tmp/err || rc=$?
[ $rc = 2 ] || fail "--queues 1 against a state of 2 pairs: exit $rc"
ok "refused in one line: $(cat /tmp/err)"
DEV_LOG=/tmp/vduse-net.restart
vduse-net --name vnet0 --tap tap0 --state-file $S >"$DEV_LOG.out" 2>"$DEV_LOG.err" &
DEV_PID=$!
wait_for 10 grep -q 'taken over' "$DEV_LOG.out" ||
    { dev_log; fail "no take-over"; }
ok "$(grep 'taken over' "$DEV_LOG.out")"
grep 'cannot be taken over\|used log' "$DEV_LOG.err" &&
    fail "packed queues not taken over"
# Our TAP died with the old process: the new one made it again.
$IP link set tap0 address 02:00:00:00:00:99
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 15 sh -c "[ \$(grep -c 'bytes from' /tmp/ping.out) -gt $((before + 20)) ]" ||
    { tail -n 5 /tmp/ping.out; dev_log; fail "traffic did not resume"; }
ok "traffic resumed: $(grep -c 'bytes from' /tmp/ping.out) replies so far"
kill "$pinger" 2>/dev/null
check "ping after" ping -c 2 -W 5 10.0.0.1

r=$(report)
echo "$r"
echo "$r" | grep -q '"mac":"02:00:00:00:00:77"' || fail "MAC lost: $r"
echo "$r" | grep -q '"multicast":\[[^]]*"01:00:5e:00:00:42"' || fail "multicast table lost"
echo "$r" | grep -q '"queue-pairs":2' || fail "queue pairs lost"
echo "$r" | grep -q '"active-pairs":2' || fail "active pairs: $r"
[ "$(echo "$r" | grep -o '"running":true' | wc -l)" = 2 ] ||
    fail "both pairs should run again: $r"
ok "MAC, multicast table and queue pairs kept; both pairs run"
stop_dev
# A clean stop resets the device first: the file says so, and the next
# start creates the device it describes (nothing to take over).
grep -q '"status" : 0' $S || fail "state after a clean stop: $(cat $S)"
grep -q '"queue-pairs" : 2' $S || fail "identity lost: $(cat $S)"
start_dev --name vnet0 --tap tap0 --state-file $S
grep -q 'taken over' "$DEV_LOG.out" && fail "took over a device that was gone"
ident=$(tr -d ' \n' <$S | sed -n 's/.*"device":{"name":"vnet0","mac":"\([^"]*\)".*/\1/p')
mac=$(cat "/sys/class/net/$(dev_netdev)/address")
[ -n "$ident" ] && [ "$mac" = "$ident" ] ||
    fail "new netdev has MAC $mac, the device was made with '$ident'"
ok "after a clean stop: the same device created again"
stop_dev
exit 0
