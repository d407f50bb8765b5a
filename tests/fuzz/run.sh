#!/bin/sh
# run.sh - run every fuzz target for a bounded time and say what it did
#
# Usage: tests/fuzz/run.sh BUILDDIR SECONDS SEED [TARGET...]
#
# BUILDDIR was configured with --enable-fuzzing (make fuzz does it). Each
# target fuzzes for SECONDS with libFuzzer seed SEED, in fork mode with
# crashes ignored so that one known bug does not end the run: every crash
# is kept in BUILDDIR/fuzz-runs/artifacts/TARGET/. The working corpus
# (BUILDDIR/fuzz-runs/corpus/TARGET) starts as a copy of the committed
# seeds without the crash-* reproducers and keeps what the runs found.
# Prints one line per target: executions, coverage (cov, ft, as libFuzzer
# counts them), corpus size, crashes (leaks, timeouts and out-of-memory
# inputs counted with them), and the log's path; exits 1 if any target
# crashed.
set -eu

src=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '3,13s/^# \{0,1\}//p' "$0"; exit 2; }
build=$1
seconds=$2
seed=$3
shift 3
targets=${*:-virtq ctrlvq state mgmt datapath}
work=$build/fuzz-runs
status=0
# UBSan only prints by default: make undefined behaviour a crash.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

printf '%-9s %12s %7s %7s %7s %8s  %s\n' target executions cov ft corpus \
    crashes log
for t in $targets; do
    bin=$build/tests/fuzz/fuzz-$t
    corpus=$work/corpus/$t
    artifacts=$work/artifacts/$t
    log=$work/$t.log
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is missing (configure --enable-fuzzing)" >&2
        exit 2
    fi
    rm -rf "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    for f in "$src/corpus/$t"/*; do
        case ${f##*/} in
        crash-*) ;;
        *) cp "$f" "$corpus/" ;;
        esac
    done
    set -- -seed="$seed" -max_total_time="$seconds" -fork=1 \
        -ignore_crashes=1 -artifact_prefix="$artifacts/" -max_len=8192
    if [ -f "$src/$t.dict" ]; then
        set -- "$@" -dict="$src/$t.dict"
    fi
    "$bin" "$@" "$corpus" >"$log" 2>&1 || true
    # Fork mode's last status line:
    # #EXECS: cov: N ft: N corp: N exec/s N oom/timeout/crash: A/B/C ...
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1)
    execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(ls "$corpus" | wc -l)
    # A leak, a timeout or running out of memory is a finding too.
    crashes=$(ls "$artifacts" | grep -cE '^(crash|leak|timeout|oom)-' || true)
    printf '%-9s %12s %7s %7s %7s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "$corp" "$crashes" "$log"
    if [ "$crashes" != 0 ]; then
        status=1
    fi
done
exit $status
