#!/bin/sh
# install-test.sh - what `meson install` puts in place, checked in a
# temporary DESTDIR: the two programs, their man pages (mandoc's lint, and
# every option and command documented), the systemd unit
# (systemd-analyze verify), the bash completions (they complete), the
# documentation and an example configuration that vduse-net accepts.
#
# Usage: tests/install-test.sh BUILD_DIR
#
# systemd-analyze verify checks that ExecStart's program exists and that
# the Documentation= man pages open; in a DESTDIR neither is where the unit
# says, so it verifies a copy whose ExecStart points into the DESTDIR, with
# MANPATH there too.
set -u
build=${1:?usage: install-test.sh BUILD_DIR}
failed=0

fail() {
    echo "not ok: $*"
    failed=1
}

for tool in mandoc systemd-analyze bash; do
    command -v $tool >/dev/null 2>&1 || {
        echo "install-test: $tool is missing (scripts/install-deps.sh)"
        exit 1
    }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    fail "meson install --destdir"
    exit 1
}

# find_one PATTERN: the one installed file whose path ends so.
find_one() {
    found=$(find "$dest" -path "*/$1" | head -n 1)
    [ -n "$found" ] || fail "not installed: */$1"
    echo "$found"
}

daemon=$(find_one bin/vduse-net)
ctl=$(find_one bin/vduse-netctl)
man8=$(find_one share/man/man8/vduse-net.8)
man1=$(find_one share/man/man1/vduse-netctl.1)
unit=$(find_one systemd/system/vduse-net@.service)
comp_daemon=$(find_one bash-completion/completions/vduse-net)
comp_ctl=$(find_one bash-completion/completions/vduse-netctl)
example=$(find_one share/doc/vduse-net/example.conf)
for doc in README.md usage.md management.md migration.md architecture.md; do
    find_one "share/doc/vduse-net/$doc" >/dev/null
done
[ $failed = 0 ] || exit 1

# The programs run from where they were installed.
"$daemon" --version | grep -q '^vduse-net [0-9]' || fail "installed vduse-net --version"
"$ctl" --version | grep -q '^vduse-netctl [0-9]' || fail "installed vduse-netctl --version"

# The man pages: no error by mandoc's lint (scdoc's output has
# style-level notes mandoc reports as warnings), and complete.
for page in "$man8" "$man1"; do
    mandoc -T lint -W error "$page" >"$tmp/lint" 2>&1 || {
        cat "$tmp/lint"
        fail "mandoc -T lint: $page"
    }
done
mandoc -T utf8 "$man8" | col -b >"$tmp/man8.txt"
mandoc -T utf8 "$man1" | col -b >"$tmp/man1.txt"
for opt in $("$daemon" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -q -- "$opt" "$tmp/man8.txt" || fail "vduse-net(8) does not document $opt"
done
for section in SYNOPSIS OPTIONS 'CONFIGURATION FILE' MANAGEMENT SYSTEMD \
    CAPABILITIES 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
    grep -q "^$section" "$tmp/man8.txt" || fail "vduse-net(8) has no $section"
done
for cmd in status stats state export restore suspend link announce events \
    '-j, --json'; do
    grep -q -- "^ *$cmd\\b" "$tmp/man1.txt" || fail "vduse-netctl(1) does not document $cmd"
done
grep -q '@[A-Z]*@' "$man8" && fail "vduse-net(8) has an unsubstituted @VARIABLE@"

# The unit: systemd's own verification, on a copy that starts the
# installed binary inside DESTDIR, nothing printed.
grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify"
grep -q '^ExecStart=/.*/bin/vduse-net --config /.*/vduse-net/%i.conf$' "$unit" ||
    fail "the unit's ExecStart: $(grep ExecStart= "$unit")"
prefix_bin=$(sed -n 's|^ExecStart=\(/[^ ]*\) .*|\1|p' "$unit")
mkdir "$tmp/unit"
sed "s|^ExecStart=$prefix_bin |ExecStart=$daemon |" "$unit" >"$tmp/unit/vduse-net@.service"
MANPATH=$(dirname "$(dirname "$man8")") \
    systemd-analyze verify "$tmp/unit/vduse-net@vnet0.service" >"$tmp/verify" 2>&1
rc=$?
if [ $rc != 0 ] || [ -s "$tmp/verify" ]; then
    cat "$tmp/verify"
    fail "systemd-analyze verify vduse-net@vnet0.service (exit $rc)"
fi

# The example configuration is one vduse-net accepts: it gets past the
# options (exit 1 for the missing VDUSE or TAP here, never 2).
"$daemon" --config "$example" >"$tmp/example.out" 2>&1
rc=$?
[ $rc != 2 ] || fail "the example configuration is refused: $(cat "$tmp/example.out")"

# The completions: valid bash, and they complete with bash-completion.
for f in "$comp_daemon" "$comp_ctl"; do
    bash -n "$f" || fail "bash -n $f"
done
main=/usr/share/bash-completion/bash_completion
if [ -f "$main" ]; then
    # complete WORDS...: what bash-completion offers for the last word.
    cat >"$tmp/complete.bash" <<EOF
. $main
. $comp_daemon
. $comp_ctl
complete_words() {
    COMP_WORDS=("\$@")
    COMP_CWORD=\$((\$# - 1))
    COMP_LINE="\$*"
    COMP_POINT=\${#COMP_LINE}
    COMPREPLY=()
    \$(complete -p "\$1" | sed 's/.*-F \([^ ]*\) .*/\1/') "\$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s\n' "\${COMPREPLY[@]}" | sort | tr '\n' ' '
}
echo "1: \$(complete_words vduse-net --bu)"
echo "2: \$(complete_words vduse-net --bus '')"
echo "3: \$(complete_words vduse-net --ctrl-vq o)"
echo "4: \$(complete_words vduse-net --features -csum,guest-t)"
echo "5: \$(complete_words vduse-netctl /run/x.sock '')"
echo "6: \$(complete_words vduse-netctl /run/x.sock link '')"
echo "7: \$(complete_words vduse-netctl --js)"
EOF
    bash "$tmp/complete.bash" >"$tmp/complete.out" 2>&1
    for want in "1: --bus " "2: none vhost virtio " "3: off on " \
        "4: -csum,guest-tso4 -csum,guest-tso6 " \
        "5: announce events export link restore state stats status suspend " \
        "6: down up " "7: --json "; do
        grep -qxF -- "$want" "$tmp/complete.out" ||
            fail "completion: expected '$want', got: $(grep "^${want%%:*}:" "$tmp/complete.out")"
    done
else
    echo "# $main missing: the completions are checked for syntax only"
fi

[ $failed = 0 ] && echo "ok: install"
exit $failed
