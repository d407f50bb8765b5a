# fault-state.sh - the state file under faults: its directory full (the
# device keeps running, the old file stays whole, one log line, and it is
# written again once there is room), then kill -9 twenty times in a row
# under a ping, each restart taking the device over with nothing in the
# shadow lost.
. /lib.sh

D=/run/statefs
mkdir -p $D
mount -t tmpfs -o size=256k statefs $D || fail "tmpfs for the state"
S=$D/vnet0.state
start_dev --name vnet0 --tap tap0 --queues 2 --state-file $S
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
$IP link set tap0 address 02:00:00:00:00:99
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "MAC change" in_ns a $IP link set "$dev" address 02:00:00:00:00:77
wait_for 5 grep -q '"02:00:00:00:00:77"' $S || fail "state file: $(cat $S)"
ok "state file written"

# Fill the file system: the next saves fail; the file stays whole.
dd if=/dev/zero of=$D/filler bs=1k count=1024 2>/dev/null
check "multicast join" in_ns a $IP maddr add 01:00:5e:00:00:42 dev "$dev"
wait_for 5 grep -q "cannot write the state" "$DEV_LOG.err" ||
    { dev_log; fail "no log line for the failed save"; }
[ "$(grep -c 'cannot write the state' "$DEV_LOG.err")" = 1 ] ||
    fail "more than one log line: $(grep 'cannot write' "$DEV_LOG.err")"
ok "$(grep 'cannot write the state' "$DEV_LOG.err")"
tr -d ' \n' <$S | grep -q '"version":1.*"02:00:00:00:00:77"' ||
    fail "the old state is not whole: $(cat $S)"
grep -q '01:00:5e:00:00:42' $S && fail "the new state is in the file?"
check "ping while the disk is full" ping -c 2 -W 5 10.0.0.1
ok "old state whole, device running"
rm -f $D/filler
check "multicast join again" in_ns a $IP maddr add 01:00:5e:00:00:43 dev "$dev"
wait_for 5 grep -q '"01:00:5e:00:00:43"' $S || fail "not saved after room came back"
grep -q "written again" "$DEV_LOG.err" || fail "no recovery line"
ok "saved again: $(grep 'written again' "$DEV_LOG.err")"

# Twenty kill -9 under a ping, each followed by a take-over.
in_ns a ping -i 0.05 -w 120 10.0.0.2 >/tmp/ping.out 2>&1 &
pinger=$!
n=0
while [ $n -lt 20 ]; do
    sleep 0.5
    kill -9 "$DEV_PID"
    wait "$DEV_PID" 2>/dev/null
    DEV_LOG=/tmp/vduse-net.kill$n
    vduse-net --name vnet0 --tap tap0 --state-file $S >"$DEV_LOG.out" 2>"$DEV_LOG.err" &
    DEV_PID=$!
    wait_for 15 grep -q 'taken over' "$DEV_LOG.out" ||
        { dev_log; fail "restart $n: no take-over"; }
    # Our TAP died with the process: made again, set up again.
    $IP link set tap0 address 02:00:00:00:00:99
    $IP addr add 10.0.0.2/24 dev tap0 2>/dev/null
    $IP link set tap0 up
    n=$((n + 1))
done
before=$(grep -c 'bytes from' /tmp/ping.out)
wait_for 15 sh -c "[ \$(grep -c 'bytes from' /tmp/ping.out) -gt $((before + 10)) ]" ||
    { tail -n 5 /tmp/ping.out; dev_log; fail "traffic did not resume"; }
kill "$pinger" 2>/dev/null
ok "20 kill -9 and take-overs; ping resumed ($(grep -c 'bytes from' /tmp/ping.out) replies)"
r=$(report)
echo "$r" | grep -q '"mac":"02:00:00:00:00:77"' || fail "MAC lost: $r"
echo "$r" | grep -q '"01:00:5e:00:00:43"' || fail "multicast table lost: $r"
echo "$r" | grep -q '"queue-pairs":2' || fail "queue pairs lost: $r"
ok "shadow kept through 20 restarts"
stop_dev
umount $D
exit 0
