#!/usr/bin/env bash
# Runs BaselineHOGTests on an emulated CPU without AVX (qemu's Nehalem): the test program must
# load and detect there, on the baseline HOG build, without an illegal instruction.
# Usage: scripts/test-without-avx.sh BUILD_DIR   (.build/debug)
set -euo pipefail
dir=${1:?usage: $0 BUILD_DIR}
[ "$(uname -m)" = x86_64 ] || { echo "not x86-64: no AVX2 build to test without"; exit 0; }
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64: not found; install qemu-user (make setup does)" >&2; exit 1; }
bundle="$dir/facedPackageTests.xctest"
[ -x "$bundle" ] || { echo "$bundle: not built; run swift build --build-tests first" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
qemu-x86_64 -cpu Nehalem "$bundle" --testing-library swift-testing --filter BaselineHOGTests >"$log" 2>&1 || status=$?
# Skipped would pass too: the suite must have run, on a CPU it took for one without AVX2.
if [ $status -ne 0 ] || ! grep -q "Test withoutAVX2TheBaselineBuildFindsTheGroup() passed" "$log"; then
    cat "$log" >&2
    echo "BaselineHOGTests on an emulated CPU without AVX: failed (exit $status)" >&2
    exit 1
fi
echo "BaselineHOGTests passed on an emulated CPU without AVX"
