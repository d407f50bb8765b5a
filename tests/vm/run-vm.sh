#!/bin/sh
# run-vm.sh - boot a real kernel under QEMU and run one scenario inside
#
# Usage: tests/vm/run-vm.sh stock|cvq SCENARIO.sh
#        VDUSE_NET_VM_KERNEL=stock|cvq tests/vm/run-vm.sh SCENARIO.sh
#
# stock: Debian's cloud kernel (fetched once into $VDUSE_NET_VM_CACHE,
#        default ~/.cache/vduse-net/vm), VDUSE and friends as modules;
# cvq:   the kernel named by $VDUSE_NET_TEST_KERNEL, with the VDUSE
#        control-queue refusal removed and everything built in.
# Environment: VDUSE_NET_BINARY (the vduse-net to test, required),
# VDUSE_NET_VM_TOOLS (more binaries for the guest, space-separated),
# VDUSE_NET_VM_WORKDIR (initramfs and console logs; default
# $VDUSE_NET_VM_CACHE/work), VDUSE_NET_VM_TIMEOUT (seconds, default 280),
# VDUSE_NET_VM_REQUIRED=1 (a missing kernel or QEMU fails instead of
# skipping), VDUSE_NET_VM_CPU (QEMU's -cpu, default max),
# VDUSE_NET_VM_CMDLINE (more kernel arguments, default tsc=unstable).
# The scenario sees VM_KERNEL (stock|cvq), VM_SCENARIO (its name) and
# VM_TIMEOUT, and the helpers of lib.sh as /lib.sh.
# Lines in the scenario's header set, for it alone:
#   # vm-memory: MB       the VM's memory (default 1024)
#   # vm-timeout: S       the hard limit when VDUSE_NET_VM_TIMEOUT is unset
#   # vm-qemu: bookworm|newest
#                         a VMM scenario: the host's QEMU (bookworm) or
#                         sid's (fetch-qemu.sh, cached like the stock
#                         kernel) goes into the VM with the kernel and a
#                         guest initramfs (mkvmm.sh), and vmm-lib.sh and
#                         vmm-guest.sh beside lib.sh
# The VM has no network card.
# Exit: 0 pass, 77 skip (meson's SKIP), 1 fail.
set -eu

usage="usage: run-vm.sh stock|cvq SCENARIO.sh"
if [ $# = 1 ]; then
    kernel_kind=${VDUSE_NET_VM_KERNEL:?$usage (or VDUSE_NET_VM_KERNEL=stock|cvq)}
    scenario=$1
else
    kernel_kind=${1:?$usage}
    scenario=${2:?$usage}
fi
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$scenario" .sh)
cache=${VDUSE_NET_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vduse-net/vm}

# skip WHY: one line, then SKIP (77), or FAIL if the VM tests are required.
skip() {
    if [ "${VDUSE_NET_VM_REQUIRED:-0}" = 1 ]; then
        echo "FAIL: $* (VDUSE_NET_VM_REQUIRED=1)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

[ -f "$scenario" ] || { echo "run-vm.sh: no scenario $scenario" >&2; exit 2; }
# header KEY: the value of the scenario's "# vm-KEY: VALUE" line.
header() {
    sed -n "s/^# vm-$1: *\([^ ]*\) *\$/\1/p" "$scenario" | head -n 1
}
memory=$(header memory)
memory=${memory:-1024}
limit=$(header timeout)
limit=${VDUSE_NET_VM_TIMEOUT:-${limit:-280}}
vmm=$(header qemu)
command -v qemu-system-x86_64 >/dev/null ||
    skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
binary=${VDUSE_NET_BINARY:?VDUSE_NET_BINARY must name the vduse-net to test}
work=${VDUSE_NET_VM_WORKDIR:-$cache/work}
mkdir -p "$work"

case $kernel_kind in
stock)
    # One fetch at a time, even with parallel tests.
    mkdir -p "$cache"
    if ! flock "$cache/.lock" "$here/fetch-stock-kernel.sh" "$cache" >&2; then
        skip "the stock Debian kernel could not be fetched (see the line above)"
    fi
    kernel=$cache/vmlinuz
    modules=$cache/modules
    ;;
cvq)
    kernel=${VDUSE_NET_TEST_KERNEL:-}
    if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
        skip "no control-queue test kernel: set VDUSE_NET_TEST_KERNEL to a bzImage (tests/vm/build-test-kernel.sh builds one)${kernel:+; $kernel does not exist}"
    fi
    modules=-
    ;;
*)
    echo "run-vm.sh: unknown kernel '$kernel_kind' (stock or cvq)" >&2
    exit 2
    ;;
esac

# build_cached OUT INPUTS COMMAND...: run COMMAND (which writes OUT)
# unless OUT exists and was made from the same INPUTS (a listing of path,
# size and mtime of each input file); one build at a time.
build_cached() {
    # shellcheck disable=SC2016 # $1 is for the inner sh
    flock "$work/.lock" sh -c '
        cmp -s "$1.inputs" "$2" && [ -f "$1" ] && exit 0
        out=$1 inputs=$2
        shift 2
        "$@" && cp "$inputs" "$out.inputs"
    ' sh "$@"
}

# The base initramfs, rebuilt when one of its inputs changed (path, size,
# mtime of each: the binaries, the modules, the script that builds it).
base=$work/base-$kernel_kind.cpio.gz
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
# shellcheck disable=SC2086 # VDUSE_NET_VM_TOOLS is a list
ls -lL --time-style=+%s.%N "$binary" ${VDUSE_NET_VM_TOOLS:-} \
    "$here/mkinitramfs.sh" >"$extra/inputs"
[ "$modules" = - ] || ls -lL --time-style=+%s.%N "$modules" "$modules/../modules.order" \
    >>"$extra/inputs"
# shellcheck disable=SC2086 # a list
build_cached "$base" "$extra/inputs" "$here/mkinitramfs.sh" "$base" "$modules" \
    "$binary" ${VDUSE_NET_VM_TOOLS:-}
images=$base

# A VMM scenario: QEMU, the guest's kernel (this one) and initramfs.
case $vmm in
"") ;;
bookworm)
    qroot=/
    ;;
newest)
    mkdir -p "$cache"
    if ! flock "$cache/.lock" "$here/fetch-qemu.sh" "$cache" >&2; then
        skip "the newest QEMU could not be fetched (see the line above)"
    fi
    qroot=$cache/qemu-sid/root
    ;;
*)
    echo "run-vm.sh: $scenario: unknown vm-qemu '$vmm' (bookworm or newest)" >&2
    exit 2
    ;;
esac
if [ -n "$vmm" ]; then
    vmm_image=$work/vmm-$vmm-$kernel_kind.cpio.gz
    ls -lL --time-style=+%s.%N "$qroot/usr/bin/qemu-system-x86_64" "$kernel" \
        "$here/mkvmm.sh" "$here/mkinitramfs.sh" >"$extra/vmm-inputs"
    [ "$modules" = - ] || ls -lL --time-style=+%s.%N "$modules" >>"$extra/vmm-inputs"
    build_cached "$vmm_image" "$extra/vmm-inputs" "$here/mkvmm.sh" "$vmm_image" \
        "$qroot" "$kernel" "$modules"
    images="$images $vmm_image"
fi

# The scenario, its library and its environment, as a second archive.
cp "$scenario" "$extra/scenario.sh"
cp "$here/lib.sh" "$extra/lib.sh"
files="scenario.sh lib.sh scenario.env"
if [ -n "$vmm" ]; then
    cp "$here/vmm-lib.sh" "$here/vmm-guest.sh" "$extra/"
    files="$files vmm-lib.sh vmm-guest.sh"
fi
printf 'VM_KERNEL=%s\nVM_SCENARIO=%s\nVM_TIMEOUT=%s\n' \
    "$kernel_kind" "$name" $((limit > 80 ? limit - 40 : limit / 2)) >"$extra/scenario.env"
(cd "$extra" && echo "$files" | tr ' ' '\n' |
    cpio -o -H newc --quiet | gzip -1) >"$extra/scenario.cpio.gz"
# shellcheck disable=SC2086 # a list
cat $images "$extra/scenario.cpio.gz" >"$extra/initrd.gz"

# boot: run QEMU under the hard timeout; rc is its exit status.
boot() {
    rc=0
    timeout "$limit" qemu-system-x86_64 -m "$memory" -smp 2 -nographic -no-reboot -nic none \
        -cpu "${VDUSE_NET_VM_CPU:-max}" -kernel "$kernel" -initrd "$extra/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 $cmdline" </dev/null >"$log" 2>&1 || rc=$?
}
# tsc=unstable: the kernel's clocksource is the HPET from the start, so
# it does not switch clocksource and sched_clock a second or two after
# boot (while the scenario runs). Each switch patches kernel text through
# int3, and under TCG the other vCPU sometimes runs the stale int3 and
# oopses ("Oops: int3" in sched_clock_cpu, ktime_get_update_offsets_now).
cmdline=${VDUSE_NET_VM_CMDLINE-tsc=unstable}
oops='Oops:|Kernel panic|\] BUG:|general protection fault'
log=$work/$name-$kernel_kind.log
rm -f "$log.crash"
start=$(date +%s.%N)
boot
# A guest kernel that crashes before the scenario starts has not met
# vduse-net yet: a rare TCG hiccup (seen: "Oops: int3" while the kernel
# patches its own text), so boot once more. Later crashes count.
if [ $rc != 124 ] && ! grep -q VM-SCENARIO-START "$log" &&
    grep -a -q -E "$oops" "$log"; then
    mv "$log" "$log.crash"
    echo "run-vm.sh: the guest kernel crashed while booting ($(grep -a -m 1 -E "$oops" "$log.crash" | tr -d '\r')); booting again (console: $log.crash)"
    boot
fi
elapsed=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')

# The guest's output from the scenario on, without terminal noise; all of
# the console's end if the scenario never started.
if grep -q VM-SCENARIO-START "$log"; then
    sed -n '/VM-SCENARIO-START/,$p' "$log" | tr -d '\r' | grep -v VM-SCENARIO-START || true
else
    echo "(the guest never reached the scenario; end of the console:)"
    tr -d '\r' <"$log" | tail -n 30
fi
if [ $rc = 124 ]; then
    echo "FAIL: timed out after $limit s (console: $log)"
    exit 1
fi
case $(grep -a -o 'VM-RESULT: [A-Z]*' "$log" | tail -n 1) in
"VM-RESULT: PASS") echo "PASS ($kernel_kind kernel, $elapsed s)"; exit 0 ;;
"VM-RESULT: SKIP") echo "SKIP (the scenario said so)"; exit 77 ;;
*)
    crash=$(grep -a -m 1 -E "$oops" "$log" | tr -d '\r' || true)
    echo "FAIL: scenario did not pass (qemu exit $rc${crash:+, guest kernel: $crash}, console: $log)"
    exit 1
    ;;
esac
