# vmm-lib.sh - helpers for the VMM scenarios: QEMU inside the test VM runs
# a guest of its own on a vduse-net device
#
# Sourced after /lib.sh by the scenarios whose header has "# vm-qemu:";
# run-vm.sh then puts into the test VM (mkvmm.sh) /usr/bin/vmm-qemu (the
# QEMU under test, with its own libraries and firmware), /vmm/bzImage (the
# kernel this VM booted) and /vmm/guest.cpio.gz (a busybox initramfs), and
# this file and vmm-guest.sh (the guest's scenario) beside /lib.sh.
# The guest is the test kernel under TCG in TCG: it boots in about a
# minute, so every wait here has a limit of its own.
# shellcheck shell=sh

GUEST_MEM=128M
# Seconds until the guest's first step: two thirds of the scenario's time.
GUEST_BOOT_LIMIT=${GUEST_BOOT_LIMIT:-$((${VM_TIMEOUT:-360} * 2 / 3))}
# Killed by /init's time limit: show what the guest got to.
# shellcheck disable=SC2154 # c is the loop's
trap 'for c in /tmp/*.console; do vmm_console "$c"; done; exit 143' TERM

# vmm_serve TAP ADDR: the TAP side: ADDR/24 on TAP, busybox udhcpd
# leasing .100-.120 of that /24, and an iperf3 server on ADDR.
vmm_serve() {
    $IP addr add "$2/24" dev "$1" || fail "address on $1"
    echo 1 >/proc/sys/net/ipv6/conf/"$1"/disable_ipv6
    $IP link set "$1" up || fail "$1 up"
    net=${2%.*}
    cat >/tmp/udhcpd-"$1".conf <<EOF
start $net.100
end $net.120
interface $1
lease_file /tmp/udhcpd-$1.leases
option subnet 255.255.255.0
option lease 3600
EOF
    touch /tmp/udhcpd-"$1".leases
    udhcpd -f /tmp/udhcpd-"$1".conf >/tmp/udhcpd-"$1".log 2>&1 &
    iperf3 -s -D -B "$2" >/dev/null 2>&1 || fail "iperf3 server on $2"
}

# vmm_guest_initrd OUT VAR=VALUE...: the guest's initramfs: the base one,
# then vmm-guest.sh as its /scenario.sh, lib.sh, and scenario.env with
# the VAR=VALUE lines.
vmm_guest_initrd() {
    out=$1
    shift
    d=/tmp/guest-initrd.$$
    rm -rf "$d"
    mkdir -p "$d"
    cp /vmm-guest.sh "$d/scenario.sh"
    cp /lib.sh "$d/lib.sh"
    printf '%s\n' "VM_KERNEL=$VM_KERNEL" "VM_SCENARIO=$VM_SCENARIO-guest" \
        "VM_TIMEOUT=$GUEST_BOOT_LIMIT" "$@" >"$d/scenario.env"
    (cd "$d" && printf 'scenario.sh\nlib.sh\nscenario.env\n' |
        cpio -o -H newc 2>/dev/null | gzip -1) >"$d/scenario.cpio.gz"
    cat /vmm/guest.cpio.gz "$d/scenario.cpio.gz" >"$out"
    rm -rf "$d"
}

# vmm_qemu NAME VHOST_VDPA INITRD MAC [ARGS...]: start vmm-qemu in the
# background for a guest with GUEST_MEM of shared memfd memory (what
# vhost-vdpa needs to map a VDUSE device's guest memory), one vCPU,
# virtio-net-pci with every queue pair on VHOST_VDPA, its console in
# /tmp/NAME.console and QMP on $R/NAME.qmp. Sets QEMU_PID. MAC must be
# the device's: the guest reads the device's MAC from config space, but
# QEMU 11.1 pushes its own (mac=, else 52:54:00:12:34:56) into the device
# with MAC_ADDR_SET at start, and vduse-net then filters out unicast to
# the guest's MAC (seen: DHCP worked, ping did not). The guest
# boots with acpi=off: under TCG in TCG the ACPI interpreter is so slow
# that AML loops hit its 30 s limit (AE_AML_LOOP_TIMEOUT in _PRT, seen)
# and the boot takes minutes; without ACPI it cannot power QEMU off, so
# vmm_stop_qemu ends QEMU once the guest said VM-RESULT. It boots with
# noapic too: with the IO-APIC, a timer interrupt that came while
# setup_IO_APIC was still allocating the IRQ for its pin panicked the
# guest (NULL chip data in mask_ioapic_irq, twice in CI runs); the
# legacy PIC serves the ISA interrupts and MSI-X still goes to the local
# APIC, which is all virtio-net-pci uses.
vmm_qemu() {
    name=$1
    vhost=$2
    initrd=$3
    mac=$4
    shift 4
    rm -f /tmp/"$name".console
    vmm-qemu -accel tcg -M pc,memory-backend=mem0 -m $GUEST_MEM \
        -object memory-backend-memfd,id=mem0,size=$GUEST_MEM,share=on \
        -smp 1 -nodefaults -no-user-config -display none -no-reboot \
        -serial file:/tmp/"$name".console \
        -qmp unix:"$R/$name.qmp",server=on,wait=off \
        -kernel /vmm/bzImage -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 acpi=off noapic" \
        -netdev vhost-vdpa,vhostdev="$vhost",id=n0 \
        -device virtio-net-pci,netdev=n0,mq=on,romfile=,mac="$mac" \
        "$@" >/tmp/"$name".qemu 2>&1 &
    QEMU_PID=$!
    echo "vmm: $(cat /vmm/qemu-version) started ($name, pid $QEMU_PID, $vhost)"
}

# vmm_step NAME CONSOLE [SECONDS]: wait until the guest printed
# "GUEST-STEP NAME" in CONSOLE (240 s unless said); print the line. Fails
# at once if the guest failed or QEMU exited. Looks once a second: the
# guest's QEMU needs the CPU more than we do.
vmm_step() {
    end=$(awk -v s="${3:-240}" '{ printf "%d", $1 + s }' /proc/uptime)
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        [ -f "$2" ] || touch "$2"
        line=$(tr -d '\r' <"$2" | grep -a -m 1 "^GUEST-STEP $1\\b")
        if [ -n "$line" ]; then
            echo "guest: ${line#GUEST-STEP }"
            return 0
        fi
        if tr -d '\r' <"$2" | grep -a -q -e '^FAIL' -e 'VM-RESULT: FAIL'; then
            vmm_console "$2"
            fail "the guest failed before step $1"
        fi
        if [ -n "${QEMU_PID:-}" ] && ! kill -0 "$QEMU_PID" 2>/dev/null; then
            vmm_console "$2"
            fail "QEMU exited before step $1: $(cat /tmp/*.qemu 2>/dev/null | tail -n 5)"
        fi
        sleep 1
    done
    vmm_console "$2"
    # What else might say why: QEMU's own output, and the devices.
    for q in /tmp/*.qemu; do
        [ -s "$q" ] && echo "--- $q" && tail -n 10 "$q"
    done
    for m in "$R"/m*; do
        [ -S "$m" ] && echo "--- query-state on $m: $(vmm_state "$m")"
    done
    fail "no step $1 from the guest in ${3:-240} s"
}

# vmm_console CONSOLE: the guest's console from its scenario on (all of
# its end if it never got there).
vmm_console() {
    echo "--- guest console ($1)"
    if grep -a -q VM-SCENARIO-START "$1" 2>/dev/null; then
        tr -d '\r' <"$1" | sed -n '/VM-SCENARIO-START/,$p' | grep -v VM-SCENARIO-START
    else
        tr -d '\r' <"$1" 2>/dev/null | tail -n 30
    fi
    echo "--- end of guest console"
}

# vmm_state SOCKET: query-state's return, on one line without spaces.
vmm_state() {
    mgmt-client "$1" '{"execute":"query-state"}' | grep '"return"' | tr -d ' \n'
}

# vmm_state_has SOCKET PATTERN: query-state matches PATTERN (grep -E).
vmm_state_has() {
    vmm_state "$1" | grep -q -E "$2"
}

# vmm_shadow SOCKET: the "shadow" member of query-state.
vmm_shadow() {
    vmm_state "$1" | sed -n 's/.*"shadow":\({[^}]*}[^}]*}[^}]*}\).*/\1/p'
}

# vmm_stop_qemu: end QEMU (SIGTERM, then SIGKILL after 10 s).
vmm_stop_qemu() {
    [ -n "${QEMU_PID:-}" ] || return 0
    kill -TERM "$QEMU_PID" 2>/dev/null
    tries=100
    while kill -0 "$QEMU_PID" 2>/dev/null && [ $tries -gt 0 ]; do
        sleep 0.1
        tries=$((tries - 1))
    done
    kill -KILL "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
    QEMU_PID=
}

# vmm_elapsed: seconds since vmm_guest_checks started QEMU.
vmm_elapsed() {
    awk -v t0="$VMM_T0" '{ printf "%.0f", $1 - t0 }' /proc/uptime
}

# vmm_guest_checks CVQ_ASID IPERF_SECONDS: the scenario of vmm-bookworm
# and vmm-newest. A vduse-net for a VMM (--bus vhost, two queue pairs
# where the kernel allows the control queue), QEMU's guest on it, and
# what the guest does checked in vduse-net's shadow (query-state) step by
# step: DHCP, ping, iperf3 both ways for IPERF_SECONDS (none when 0), a
# MAC change, a multicast join, two queue pairs. The control queue's
# group must be in address space CVQ_ASID (what this QEMU does). Without the control queue (the stock kernel) the guest
# must work on one queue pair, and the shadow must be untouched.
vmm_guest_checks() {
    want_asid=$1
    iperf_seconds=$2
    M=$R/m.sock
    if [ "$VM_KERNEL" = cvq ]; then
        pairs=2
        ctrl=1
    else
        pairs=1
        ctrl=0
    fi
    start_dev --name vm0 --tap tap0 --bus vhost --queues $pairs --mgmt $M
    vhost=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
    [ -c "$vhost" ] || fail "no vhost-vdpa device in: $(dev_log)"
    vmm_state_has $M "\"ctrl-vq\":$([ $ctrl = 1 ] && echo true || echo false)" ||
        fail "ctrl-vq: $(vmm_state $M)"
    mac0=$(vmm_state $M | sed -n 's/.*"device":{"name":"vm0","mac":"\([^"]*\)".*/\1/p')
    vmm_serve tap0 10.0.2.1
    new_mac=02:00:00:00:00:b2
    vmm_guest_initrd /tmp/guest.cpio.gz GUEST_MODE=checks GUEST_PEER=10.0.2.1 \
        GUEST_IPERF_SECONDS=$iperf_seconds GUEST_NEW_MAC=$new_mac GUEST_GROUP=239.1.2.3 \
        GUEST_PAIRS=$pairs GUEST_CTRL_VQ=$ctrl
    VMM_T0=$(cut -d' ' -f1 /proc/uptime)
    vmm_qemu guest "$vhost" /tmp/guest.cpio.gz "$mac0"
    C=/tmp/guest.console

    vmm_step dhcp $C $GUEST_BOOT_LIMIT
    ok "guest booted and got a lease from udhcpd after $(vmm_elapsed) s"
    st=$(vmm_state $M)
    # DRIVER_OK (4): QEMU 7.2 leaves status 15, 11.1 status 12.
    status=$(echo "$st" | sed -n 's/.*"driver":{"status":\([0-9]*\),.*/\1/p')
    [ $((${status:-0} & 4)) = 4 ] || fail "driver status ${status:-?}, not DRIVER_OK: $st"
    if [ $ctrl = 1 ]; then
        asids=$(echo "$st" | sed -n 's/.*"group-asids":\(\[[0-9,]*\]\).*/\1/p')
        a=${asids#*,}
        echo "vmm: QEMU put the control queue's group in ASID ${a%]}: \"group-asids\":$asids"
        [ "$asids" = "[0,$want_asid]" ] ||
            fail "group-asids $asids, expected [0,$want_asid] from this QEMU"
        ok "control queue's group in ASID $want_asid"
    fi

    vmm_step ping $C
    if [ "$iperf_seconds" -gt 0 ]; then
        vmm_step iperf $C 420
    fi
    if [ $ctrl = 1 ]; then
        vmm_step mac $C
        wait_for 10 vmm_state_has $M "\"shadow\":\\{\"mac\":\"$new_mac\"" ||
            fail "the guest's MAC is not in the shadow: $(vmm_state $M)"
        ok "MAC $new_mac in the shadow"
        vmm_step multicast $C
        wait_for 10 vmm_state_has $M '"multicast":\[[^]]*"01:00:5e:01:02:03"' ||
            fail "239.1.2.3's MAC is not in the shadow's multicast table: $(vmm_state $M)"
        ok "01:00:5e:01:02:03 (239.1.2.3) in the shadow's multicast table"
        vmm_step pairs $C
        wait_for 10 vmm_state_has $M '"queue-pairs":2,' ||
            fail "queue pairs in the shadow: $(vmm_state $M)"
        # The guest may be done and QEMU gone (the device reset) by now:
        # the shadow and the counters tell, not whether the pairs run.
        ok "two queue pairs in the shadow; per pair: $(mgmt-client $M '{"execute":"query-stats"}' | tail -n 1)"
    else
        vmm_step mac $C
        vmm_step multicast $C
        vmm_step pairs $C
        # Nothing reached the device: the MAC change stayed in the
        # guest (vduse-net receives every MAC without a control queue).
        vmm_state_has $M "\"shadow\":\\{\"mac\":\"$mac0\"" ||
            fail "the shadow changed without a control queue: $(vmm_state $M)"
        ok "no control queue: MAC and multicast stay in the guest, shadow untouched, one queue pair"
    fi
    vmm_step done $C
    wait_for 30 grep -a -q 'VM-RESULT: ' $C || { vmm_console $C; fail "guest: no VM-RESULT"; }
    tr -d '\r' <$C | grep -a -q 'VM-RESULT: PASS' || { vmm_console $C; fail "guest: no PASS"; }
    vmm_stop_qemu
    ok "guest passed after $(vmm_elapsed) s; QEMU ended"
    vmm_console $C | grep -e '^ok:' -e GUEST-STEP
    wait_for 10 vmm_state_has $M '"driver":{"status":0,' ||
        fail "no reset after QEMU left: $(vmm_state $M)"
    ok "QEMU gone: device reset"
    stop_dev
}
