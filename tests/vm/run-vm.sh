#!/bin/sh
# run-vm.sh - boot a real kernel under QEMU and run one scenario inside
#
# Usage: tests/vm/run-vm.sh stock|cvq SCENARIO.sh
#
# stock: Debian's cloud kernel (fetched once into $VDUSE_NET_VM_CACHE,
#        default ~/.cache/vduse-net/vm), VDUSE and friends as modules;
# cvq:   the kernel named by $VDUSE_NET_TEST_KERNEL, with the VDUSE
#        control-queue refusal removed and everything built in.
# Environment: VDUSE_NET_BINARY (the vduse-net to test, required),
# VDUSE_NET_VM_TOOLS (more binaries for the guest, space-separated),
# VDUSE_NET_VM_WORKDIR (initramfs and console logs; default a temp dir),
# VDUSE_NET_VM_REQUIRED=1 (a missing kernel or QEMU fails instead of
# skipping).
# Exit: 0 pass, 77 skip (meson's SKIP), 1 fail.
set -eu

kernel_kind=${1:?usage: run-vm.sh stock|cvq SCENARIO}
scenario=${2:?usage: run-vm.sh stock|cvq SCENARIO}
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$scenario" .sh)

skip() {
    if [ "${VDUSE_NET_VM_REQUIRED:-0}" = 1 ]; then
        echo "FAIL: $* (VDUSE_NET_VM_REQUIRED=1)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

command -v qemu-system-x86_64 >/dev/null ||
    skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
binary=${VDUSE_NET_BINARY:?VDUSE_NET_BINARY must name the vduse-net to test}
work=${VDUSE_NET_VM_WORKDIR:-$(mktemp -d)}
mkdir -p "$work"

case $kernel_kind in
stock)
    cache=${VDUSE_NET_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vduse-net/vm}
    # One fetch at a time, even with parallel tests.
    mkdir -p "$cache"
    if ! flock "$cache/.lock" "$here/fetch-stock-kernel.sh" "$cache" >&2; then
        skip "the stock Debian kernel could not be fetched"
    fi
    kernel=$cache/vmlinuz
    modules=$cache/modules
    ;;
cvq)
    kernel=${VDUSE_NET_TEST_KERNEL:-}
    [ -n "$kernel" ] && [ -f "$kernel" ] ||
        skip "no control-queue test kernel: set VDUSE_NET_TEST_KERNEL (tests/vm/build-test-kernel.sh builds one)"
    modules=-
    ;;
*)
    echo "run-vm.sh: unknown kernel '$kernel_kind' (stock or cvq)" >&2
    exit 2
    ;;
esac

# The base initramfs, rebuilt when an input changed.
base=$work/base-$kernel_kind.cpio.gz
rebuild=0
[ -f "$base" ] || rebuild=1
for input in "$binary" ${VDUSE_NET_VM_TOOLS:-} "$here/mkinitramfs.sh"; do
    [ "$input" -nt "$base" ] && rebuild=1
done
if [ $rebuild = 1 ]; then
    # shellcheck disable=SC2086
    flock "$work/.lock" "$here/mkinitramfs.sh" "$base" "$modules" "$binary" \
        ${VDUSE_NET_VM_TOOLS:-}
fi

# The scenario, its library and its environment, as a second archive.
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
cp "$scenario" "$extra/scenario.sh"
cp "$here/lib.sh" "$extra/lib.sh"
printf 'VM_KERNEL=%s\nVM_SCENARIO=%s\n' "$kernel_kind" "$name" >"$extra/scenario.env"
(cd "$extra" && printf 'scenario.sh\nlib.sh\nscenario.env\n' |
    cpio -o -H newc --quiet | gzip -1) >"$extra/scenario.cpio.gz"
cat "$base" "$extra/scenario.cpio.gz" >"$extra/initrd.gz"

log=$work/$name-$kernel_kind.log
start=$(date +%s)
rc=0
timeout 280 qemu-system-x86_64 -m 1024 -smp 2 -nographic -no-reboot \
    -cpu max -kernel "$kernel" -initrd "$extra/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1" </dev/null >"$log" 2>&1 || rc=$?
elapsed=$(($(date +%s) - start))

# The guest's output from the scenario on, without terminal noise.
sed -n '/VM-SCENARIO-START/,$p' "$log" | tr -d '\r' | grep -v VM-SCENARIO-START || true
if [ $rc = 124 ]; then
    echo "FAIL: timed out after 280 s (console: $log)"
    exit 1
fi
case $(grep -a -o 'VM-RESULT: [A-Z]*' "$log" | tail -n 1) in
"VM-RESULT: PASS") echo "PASS ($kernel_kind kernel, ${elapsed} s)"; exit 0 ;;
"VM-RESULT: SKIP") echo "SKIP (scenario said so)"; exit 77 ;;
*) echo "FAIL: scenario did not pass (console: $log)"; exit 1 ;;
esac
