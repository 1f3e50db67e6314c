#!/usr/bin/env bash
# Runs BaselineHOGTests on an emulated CPU without AVX (qemu's Nehalem, the level of the
# low-power Atom, Celeron and Pentium chips door boxes often have): the test program must load
# and detect there, on the baseline HOG build, without an illegal instruction. A canary built
# for AVX2 must die there first, or the emulation proves nothing.
# Usage: scripts/test-without-avx.sh BUILD_DIR   (.build/debug)
set -euo pipefail
dir=${1:?usage: $0 BUILD_DIR}
cpu=Nehalem
[ "$(uname -m)" = x86_64 ] || { echo "not x86-64: no AVX2 build to test without"; exit 0; }
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64: not found; install qemu-user (make setup does)" >&2; exit 1; }
bundle="$dir/facedPackageTests.xctest"
[ -x "$bundle" ] || { echo "$bundle: not built; run swift build --build-tests first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '#include <immintrin.h>\nint main(void) { volatile float x = 1; __m256 v = _mm256_set1_ps(x);\n  v = _mm256_fmadd_ps(v, v, v); return _mm256_cvtss_f32(v) == 2.0f ? 0 : 1; }\n' >"$work/canary.c"
"${CC:-clang}" -O1 -mavx2 -mfma "$work/canary.c" -o "$work/canary"
if { timeout 60 qemu-x86_64 -cpu "$cpu" "$work/canary"; } >/dev/null 2>&1; then
    echo "qemu-x86_64 -cpu $cpu ran AVX2 code: it cannot stand for a CPU without AVX" >&2
    exit 1
fi

status=0
timeout 900 qemu-x86_64 -cpu "$cpu" "$bundle" --testing-library swift-testing --filter BaselineHOGTests >"$work/log" 2>&1 || status=$?
# Skipped would pass too: the suite must have run, on a CPU it took for one without AVX2.
if [ $status -ne 0 ] || ! grep -q "Test withoutAVX2TheBaselineBuildFindsTheGroup() passed" "$work/log"; then
    cat "$work/log" >&2
    echo "BaselineHOGTests on an emulated $cpu (no AVX): failed (exit $status)" >&2
    exit 1
fi
echo "BaselineHOGTests passed on an emulated $cpu (no AVX); an AVX2 canary dies there"
