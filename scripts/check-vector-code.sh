#!/usr/bin/env bash
# Fails when the C++ objects have AVX (VEX- or EVEX-encoded) instructions outside the detector's
# AVX2 build. Such code would stop faced with SIGILL on a CPU without AVX, where it must run the
# baseline detector; and a library template instantiated in both builds is one symbol, so the
# linker keeps one copy for both: it must be a baseline copy.
# Usage: scripts/check-vector-code.sh BUILD_DIR   (.build/debug or .build/release)
set -euo pipefail
dir=${1:?usage: $0 BUILD_DIR}
[ "$(uname -m)" = x86_64 ] || { echo "not x86-64: no AVX2 build to check"; exit 0; }
status=0
for object in "$dir/CDlibFace.build/engine.cpp.o" "$dir/CDlibWideHOG.build/wide_hog.cpp.o"; do
    [ -f "$object" ] || { echo "$object: missing; build first" >&2; exit 2; }
    # Functions with an instruction whose mnemonic starts with v (the VEX and EVEX forms), outside
    # the AVX2 build's own namespace and its one entry function.
    offenders=$(objdump -d -C --no-show-raw-insn "$object" | awk '
        /^[0-9a-f]+ <.*>:$/ { name = $0; next }
        $2 ~ /^v/ && name !~ /faced_wide_dlib::|detect_wide\(/ { bad[name]++ }
        END { for (n in bad) print bad[n], n }' | sort -rn)
    if [ -n "$offenders" ]; then
        echo "$object: AVX instructions outside the detector's AVX2 build (count, function):" >&2
        echo "$offenders" | head -20 >&2
        status=1
    fi
done
[ $status -ne 0 ] || echo "AVX instructions only in the detector's AVX2 build"
exit $status
