# fault-stop.sh - vduse-net stopped with SIGSTOP past the kernel's VDUSE
# message timeout (msg_timeout, 30 s), then continued.
#
# 1. Stopped while the kernel asks nothing (only traffic): the datapath
#    stands still and nothing times out; after SIGCONT the traffic
#    resumes and the device is as it was.
# 2. Stopped while the kernel waits for an answer (virtio_vdpa unbound:
#    the driver resets the device): after msg_timeout the kernel gives up,
#    the unbind completes, and the device is broken for good (the kernel
#    answers every later request itself with an error and polls POLLERR).
#    After SIGCONT vduse-net says so in one line, removes the device and
#    exits 1, without spinning; the same command again makes the device
#    anew from its --state-file (the shadow kept: the MAC the driver had
#    set is the new device's) and the traffic flows again.
# 3. A broken device left behind (the process killed before it noticed):
#    the same command makes it anew instead of taking it over.
. /lib.sh

S=$R/vnet0.state
M=$R/m.sock
run() {
    start_dev --name vnet0 --tap tap0 --state-file $S --mgmt $M
}
# tap_side: the TAP the process made, as the far end of the ping.
tap_side() {
    $IP link set tap0 address 02:00:00:00:00:99
    $IP addr add 10.0.0.2/24 dev tap0
    $IP link set tap0 up
}
# driver_side NETDEV: the device's netdev in namespace a, MAC 02::77.
driver_side() {
    move_to_ns "$1" a 10.0.0.1/24
    wait_for 10 sh -c "$IP netns exec a $IP link show $1 | grep -q LOWER_UP" ||
        fail "link of $1 not up"
}
# exited PID: the process exited (the shell may have reaped it already;
# `wait` still has its status).
exited() {
    [ ! -e /proc/"$1" ] || [ "$(sed 's/.*) \(.\).*/\1/' /proc/"$1"/stat)" = Z ]
}
cpu() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }

run
dev=$(dev_netdev)
tap_side
driver_side "$dev"
check "ping before" ping -c 2 -W 5 10.0.0.1
check "MAC change through the control queue" \
    in_ns a $IP link set "$dev" address 02:00:00:00:00:77
wait_for 5 grep -q '"02:00:00:00:00:77"' $S || fail "state file: $(cat $S)"
t=$(cat /sys/class/vduse/vnet0/msg_timeout) || fail "no msg_timeout in sysfs"
ok "the kernel's VDUSE message timeout: $t s"

# 1: stopped with nothing asked.
in_ns a ping -i 0.2 -w $((t + 20)) 10.0.0.2 >/tmp/ping1.out 2>&1 &
sleep 2
kill -STOP "$DEV_PID"
sleep $((t + 5))
before=$(grep -c 'bytes from' /tmp/ping1.out)
kill -CONT "$DEV_PID"
wait_for 10 sh -c "[ \$(grep -c 'bytes from' /tmp/ping1.out) -gt $((before + 5)) ]" ||
    { tail -n 5 /tmp/ping1.out; fail "traffic did not resume after SIGCONT"; }
killall ping 2>/dev/null
kill -0 "$DEV_PID" && ! exited "$DEV_PID" || fail "vduse-net died"
grep -q broken "$DEV_LOG.err" && fail "broken with no request pending: $(dev_log)"
ok "stopped $((t + 5)) s with nothing asked: traffic resumed after SIGCONT ($before replies before)"

# 2: stopped while the kernel waits for the answer to a reset.
old=$DEV_PID
kill -STOP "$old"
t0=$(cut -d' ' -f1 /proc/uptime)
echo vnet0 >/sys/bus/vdpa/drivers/virtio_vdpa/unbind || fail "unbind"
took=$(awk -v t0="$t0" '{ printf "%.0f", $1 - t0 }' /proc/uptime)
[ "$took" -ge $((t - 1)) ] || fail "unbind returned after $took s, before the timeout"
ok "unbind waited $took s for the stopped process, then the kernel gave up"
c0=$(cpu "$old")
kill -CONT "$old"
wait_for 15 exited "$old" || {
    used=$(($(cpu "$old") - c0))
    fail "vduse-net still runs 15 s after SIGCONT on a broken device ($used ticks, $(cut -d' ' -f1-3 /proc/"$old"/stat), in $(cat /proc/"$old"/wchan); threads: $(cat /proc/"$old"/task/*/wchan | tr '\0' ' ')): $(dev_log)"
}
wait "$old"
rc=$?
[ $rc = 1 ] || fail "vduse-net exited $rc, expected 1: $(dev_log)"
grep -q 'the kernel marked the device broken' "$DEV_LOG.err" ||
    fail "no line about the broken device: $(dev_log)"
ok "after SIGCONT: exit 1, $(grep -c . "$DEV_LOG.err") lines: $(grep 'broken' "$DEV_LOG.err" | tr '\n' ' ')"
[ -e /dev/vduse/vnet0 ] && fail "the broken device was left behind"
grep -q '"02:00:00:00:00:77"' $S || fail "the state file lost the shadow: $(cat $S)"
ok "the broken device was removed; the state file keeps the shadow"

# The same command again: a new device, from the state file.
run
dev=$(dev_netdev)
mac=$(cat /sys/class/net/"$dev"/address)
[ "$mac" = 02:00:00:00:00:77 ] || fail "new device's MAC $mac, not the shadow's"
tap_side
driver_side "$dev"
check "ping through the new device" in_ns a ping -c 3 -W 5 10.0.0.2
ok "made anew with the shadow's MAC $mac; traffic flows"

# 3: broken and left behind: kill -9 once the kernel gave up (a shorter
# timeout this time: the attribute is writable).
echo 3 >/sys/class/vduse/vnet0/msg_timeout || fail "msg_timeout not writable"
old=$DEV_PID
kill -STOP "$old"
echo vnet0 >/sys/bus/vdpa/drivers/virtio_vdpa/unbind || fail "unbind"
kill -9 "$old"
wait "$old" 2>/dev/null
[ -c /dev/vduse/vnet0 ] || fail "the device went away with the process"
run
grep -q 'marked vnet0 broken: making it anew' "$DEV_LOG.err" ||
    fail "no word of the broken device left behind: $(dev_log)"
grep -q 'taken over' "$DEV_LOG.out" && fail "took over a broken device"
dev=$(dev_netdev)
[ -n "$dev" ] || fail "no netdev: $(dev_log)"
ok "a broken device left behind is made anew: $(grep broken "$DEV_LOG.err")"
tap_side
driver_side "$dev"
check "ping through the device made anew" in_ns a ping -c 3 -W 5 10.0.0.2
stop_dev
exit 0
