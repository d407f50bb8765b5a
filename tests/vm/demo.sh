#!/bin/sh
# demo.sh - `make demo`: boot a real kernel under QEMU and show the freshly
# built vduse-net at work inside it (no KVM or VDUSE needed on this host)
#
# Usage: tests/vm/demo.sh BUILD/vduse-net
#
# Uses the control-queue kernel of $VDUSE_NET_TEST_KERNEL when it is set,
# else Debian's stock kernel (fetched once, see fetch-stock-kernel.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary=$(cd "$(dirname "${1:?usage: demo.sh BUILD/vduse-net}")" && pwd)/$(basename "$1")
kernel=stock
if [ -n "${VDUSE_NET_TEST_KERNEL:-}" ] && [ -f "$VDUSE_NET_TEST_KERNEL" ]; then
    kernel=cvq
fi
echo "demo: booting the $kernel kernel under qemu-system-x86_64 (a few seconds)"
VDUSE_NET_BINARY=$binary VDUSE_NET_VM_REQUIRED=1 \
    VDUSE_NET_VM_WORKDIR=$(dirname "$binary")/tests/vm \
    exec "$here/run-vm.sh" "$kernel" "$here/scenarios/demo.sh"
