#!/bin/sh
# check-format.sh - fail if any C file of the project differs from
# what clang-format makes of it with the committed .clang-format
#
# Usage: tests/check-format.sh SOURCE_DIR
set -eu
cd "$1"
files=$(find util vduse net ctrlvq mgmt netctl tests -name '*.[ch]' 2>/dev/null || true; ls ./*.c)
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
