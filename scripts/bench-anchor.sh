#!/usr/bin/env bash
# Side-by-side benchmark against the anchor: face_recognition's README "faster" webcam loop
# (examples/facerec_from_webcam_faster.py: frame shrunk to 1/4, BGR->RGB, HOG face_locations
# with one upsample, face_encodings) and faced's real Pipeline, on the same 1280x720 30 fps
# replay of six visitors, one after the other on this machine.
#
# Steps:
#  1. a venv at ${FACED_ANCHOR_VENV:-$HOME/.cache/faced-anchor-venv} with face_recognition
#     (pinned below; dlib builds from source, about 10 minutes on 2 cores, run with nice).
#     Needs only PyPI; a venv already holding the pins is reused.
#  2. swift build -c release --product facebench
#  3. facebench anchor-replay -o $OUT  (replay.mjpeg + truth.json; photos from
#     $FACED_FACES_DEV when set, else Tests/Fixtures)
#  4. facebench recall --replay $OUT --json   (faced at its defaults, min face 80)
#  5. scripts/bench-anchor.py $OUT            (the anchor's loop)
#     with OPENBLAS_CORETYPE set to the kernels faced ran on (both on the same OpenBLAS)
#  6. prints both, the fps ratio faced/anchor and both recalls.
# Issue 14 asks faced for at least 2x the anchor's fps at equal recall.
#
# Usage: scripts/bench-anchor.sh [--venv-only] [OUT_DIR]   (OUT_DIR defaults to .build/anchor-bench)
# Env: FACED_ANCHOR_VENV, FACED_FACES_DEV (a faces-dev directory), SEED (replay seed, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { echo "bench-anchor: $*" >&2; exit 1; }

venv_only=0
if [ "${1:-}" = "--venv-only" ]; then venv_only=1; shift; fi
out=${1:-$root/.build/anchor-bench}
venv=${FACED_ANCHOR_VENV:-$HOME/.cache/faced-anchor-venv}
seed=${SEED:-1}

# Versions checked on PyPI. cmake 3.x: dlib's CMakeLists predates cmake 4's policy cut-off.
# setuptools < 81: face_recognition_models imports pkg_resources.
PINS_BUILD=(cmake==3.31.6 "setuptools<81" wheel)
PINS=(dlib==19.24.6 face_recognition_models==0.3.0 face_recognition==1.3.0
      opencv-python-headless==4.10.0.84 numpy==1.26.4)

make_venv() {
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || die "$py not found; install python3 (with venv) or set PYTHON"
  if [ -x "$venv/bin/python" ] &&
     "$venv/bin/python" -c 'import face_recognition, cv2, numpy' 2>/dev/null; then
    echo "bench-anchor: reusing venv $venv"
    return
  fi
  echo "bench-anchor: building venv $venv (dlib compiles from source, about 10 minutes)"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || die "could not create venv $venv; install python3-venv"
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
  "${pip[@]}" install "${PINS_BUILD[@]}" || die "pip install ${PINS_BUILD[*]} failed; check PyPI access"
  # dlib's setup.py runs the cmake just installed into the venv.
  PATH="$venv/bin:$PATH" nice -n 19 "${pip[@]}" install --no-build-isolation "${PINS[@]}" \
    || die "pip install ${PINS[*]} failed (dlib needs a C++ compiler and python headers)"
  "$venv/bin/python" -c 'import face_recognition, cv2, numpy' \
    || die "face_recognition does not import in $venv"
}

make_venv
[ "$venv_only" = 1 ] && exit 0

echo "bench-anchor: swift build -c release --product facebench"
swift build -c release --product facebench >&2 || die "swift build -c release --product facebench failed"
bin=$(swift build -c release --show-bin-path)/facebench

faces_dev=()
[ -n "${FACED_FACES_DEV:-}" ] && faces_dev=(--faces-dev "$FACED_FACES_DEV")
"$bin" anchor-replay -o "$out" --seed "$seed" "${faces_dev[@]}"

echo "bench-anchor: faced (facebench recall)"
"$bin" recall --replay "$out" --json > "$out/faced.json"
echo "bench-anchor: anchor (face_recognition fast loop)"
# The anchor's dlib embeds on the same OpenBLAS: give it the kernels faced runs on, so that
# neither side is measured on OpenBLAS's generic fallback kernels.
kernels=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("blasKernels", ""))' "$out/faced.json")
kernels=${OPENBLAS_CORETYPE:-$kernels}
anchor_env=()
[ -n "$kernels" ] && anchor_env=("OPENBLAS_CORETYPE=$kernels")
env "${anchor_env[@]}" "$venv/bin/python" scripts/bench-anchor.py "$out" --json "$out/anchor.json"

"$venv/bin/python" - "$out/faced.json" "$out/anchor.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2]))
print()
for name, r in (("faced", f), ("anchor", a)):
    print(f"{name:6}  {r['frames']} frames in {r['seconds']:.1f} s: {r['fps']:6.2f} fps; CPU {r['cpuSeconds']:.1f} s, BLAS {r.get('blasKernels', '?')}, "
          f"{r['framesPerCPUSecond']:6.2f} frames/CPU-s; recall {r['recall']:.3f} ({r['matched']}/{r['truthFaces']}), "
          f">= {r['minFace']} px {r['recallMinFace']:.3f} ({r['matchedMinFace']}/{r['truthFacesMinFace']})")
print(f"ratio   faced/anchor: {f['fps'] / a['fps']:.2f}x fps, {f['framesPerCPUSecond'] / a['framesPerCPUSecond']:.2f}x frames per CPU-second; "
      f"recall faced {f['recall']:.3f} anchor {a['recall']:.3f}")
PY
