# lib.sh - helpers for the VM scenarios (sourced by each scenario, in the
# guest, with busybox's sh)
#
# A scenario is a shell script that exits 0 when everything it checked
# held (77: skipped). These helpers print one line per failed check and the
# device's log. The environment has VM_KERNEL (stock|cvq) and VM_SCENARIO.
# shellcheck shell=sh
# shellcheck disable=SC2034 # IP and VDPA are for the scenarios

IP=/usr/sbin/ip
VDPA=/usr/sbin/vdpa
# Management sockets and exported states: vduse-net refuses a
# world-writable directory (the guest's /tmp and /run are 1777 tmpfs).
R=/run/vduse-net
mkdir -p -m 0755 "$R"
DEV_PID=
DEV_LOG=

# fail MESSAGE: report, show the device's log, and end the scenario.
fail() {
    echo "FAIL: $*"
    if [ -n "$DEV_LOG" ]; then
        echo "--- vduse-net output"
        cat "$DEV_LOG.out" "$DEV_LOG.err" 2>/dev/null | tail -n 40
    fi
    exit 1
}

# ok MESSAGE: report a check that held.
ok() {
    echo "ok: $*"
}

# check DESCRIPTION COMMAND...: run COMMAND; fail with DESCRIPTION if it fails.
check() {
    what=$1
    shift
    "$@" >/tmp/check.out 2>&1 || {
        cat /tmp/check.out
        fail "$what"
    }
    ok "$what"
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
wait_for() {
    tries=$(($1 * 10))
    shift
    while [ $tries -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        tries=$((tries - 1))
        sleep 0.1
    done
    return 1
}

# vhost_driver_hold ARGS...: run tests/tools/vhost-driver ARGS in the
# background (output in /tmp/driver.out, its PID in $driver) until it holds
# the device; fail if it failed first.
vhost_driver_hold() {
    vhost-driver "$@" >/tmp/driver.out 2>&1 &
    driver=$!
    wait_for 30 grep -q -e "holding" -e FAIL /tmp/driver.out
    cat /tmp/driver.out
    grep -q holding /tmp/driver.out || fail "the VMM side failed"
}

# start_dev ARGS...: start vduse-net in the background and wait until it
# printed its ready line (or exited). Sets DEV_PID and DEV_LOG.
start_dev() {
    # A name of its own per start: a log left by an earlier start with as
    # many arguments could be read before this one's redirection truncated
    # it, and the ready line seen too early.
    DEV_SEQ=$((${DEV_SEQ:-0} + 1))
    DEV_LOG=/tmp/vduse-net.$$.$DEV_SEQ
    : >"$DEV_LOG.out"
    vduse-net "$@" >"$DEV_LOG.out" 2>"$DEV_LOG.err" &
    DEV_PID=$!
    wait_for 30 grep -q -e ' ready: ' -e ' created; ' "$DEV_LOG.out" ||
        fail "vduse-net $* did not become ready"
    ok "vduse-net $*: $(grep -e ' ready: ' -e ' created; ' "$DEV_LOG.out")"
}

# stop_dev: SIGTERM, and check it exits 0 and leaves nothing behind.
stop_dev() {
    kill -TERM "$DEV_PID"
    wait "$DEV_PID"
    rc=$?
    [ $rc = 0 ] || fail "vduse-net exited with $rc after SIGTERM"
    [ "$(ls /dev/vduse)" = control ] ||
        fail "VDUSE devices left behind: $(ls /dev/vduse)"
    [ -z "$(ls /sys/bus/vdpa/devices)" ] ||
        fail "vDPA devices left behind: $(ls /sys/bus/vdpa/devices)"
    ok "vduse-net stopped cleanly"
    DEV_PID=
}

# dev_netdev: the netdev name from the ready line.
dev_netdev() {
    sed -n 's/.* ready: netdev \([^ ]*\).*/\1/p' "$DEV_LOG.out"
}

# dev_log: everything vduse-net printed so far.
dev_log() {
    cat "$DEV_LOG.out" "$DEV_LOG.err"
}

# in_ns NS COMMAND...: run COMMAND in network namespace NS.
in_ns() {
    ns=$1
    shift
    $IP netns exec "$ns" "$@"
}

# move_to_ns IFNAME NS ADDR/PREFIX: move a netdev into a new namespace,
# give it an address and bring it up.
move_to_ns() {
    $IP netns add "$2" 2>/dev/null
    $IP link set "$1" netns "$2" || fail "moving $1 to $2"
    in_ns "$2" $IP link set lo up
    in_ns "$2" $IP addr add "$3" dev "$1" || fail "address on $1"
    in_ns "$2" $IP link set "$1" up || fail "setting $1 up"
}

# report: ask vduse-net for its state (SIGUSR1) and print the JSON line.
report() {
    before=$(wc -l <"$DEV_LOG.out")
    kill -USR1 "$DEV_PID"
    wait_for 5 sh -c "[ \$(wc -l <$DEV_LOG.out) -gt $before ]" ||
        fail "no report after SIGUSR1"
    tail -n 1 "$DEV_LOG.out"
}

# report_has PATTERN: the state report contains PATTERN (grep -E).
report_has() {
    report | grep -q -E "$1"
}

# check_ring_layout packed|split: the virtio_vdpa virtio-net device's
# negotiated features (a string of 0/1 by bit number in sysfs) have
# VIRTIO_F_RING_PACKED (bit 34) set, or not.
check_ring_layout() {
    f=$(cat /sys/bus/virtio/drivers/virtio_net/virtio*/features 2>/dev/null)
    [ -n "$f" ] || fail "no virtio_net device in /sys/bus/virtio"
    bit=$(echo "$f" | cut -c35)
    case $1 in
    packed) [ "$bit" = 1 ] || fail "the driver did not negotiate packed rings: $f" ;;
    split) [ "$bit" = 0 ] || fail "the driver negotiated packed rings: $f" ;;
    esac
    ok "the driver runs $1 rings (feature bit 34 = $bit)"
}
