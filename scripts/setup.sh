#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to a buildable, testable state:
# apt packages, the dlib models in Models/, the test photos in Tests/Fixtures/.
# Idempotent: a second run verifies checksums and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="$root/.cache/downloads"

die() { echo "setup: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

APT_PACKAGES=(
  build-essential pkg-config
  libdlib-dev libopenblas-dev liblapack-dev
  libturbojpeg0-dev libpng-dev
  libv4l-dev v4l-utils libsqlite3-dev libsystemd-dev
  python3-pip unzip sqlite3 systemd
  binutils qemu-user
)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: apt packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q || die "apt-get update failed; check the network and /etc/apt/sources.list"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
}

pip_bin() {
  if command -v pip3 >/dev/null; then echo pip3
  elif command -v pip >/dev/null; then echo pip
  else echo "python3 -m pip"; fi
}

# fetch NAME VERSION FILE SHA256 [pip flags...]: a PyPI distribution into the cache, verified.
fetch() {
  local name=$1 version=$2 file=$3 sha=$4; shift 4
  local dest="$cache/$file"
  if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then return; fi
  echo "setup: downloading $name==$version from PyPI"
  mkdir -p "$cache"
  rm -f "$dest"
  $(pip_bin) download --quiet --no-deps "$@" -d "$cache" "$name==$version" \
    || die "could not download $name==$version from PyPI; check the network and retry"
  [ -f "$dest" ] || die "pip did not produce $file for $name==$version"
  local got; got=$(sha_of "$dest")
  [ "$got" = "$sha" ] || { rm -f "$dest"; die "checksum mismatch for $file: expected $sha, got $got"; }
}

# place ARCHIVE MEMBER DEST SHA256: one verified file out of a tar.gz or zip.
place() {
  local archive=$1 member=$2 dest=$3 sha=$4
  if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then return 1; fi
  mkdir -p "$(dirname "$dest")"
  local tmp="$dest.partial"
  case "$archive" in
    *.tar.gz) tar -xzOf "$archive" "$member" > "$tmp" || die "$member missing from $(basename "$archive")" ;;
    *.whl|*.zip) unzip -p "$archive" "$member" > "$tmp" || die "$member missing from $(basename "$archive")" ;;
  esac
  local got; got=$(sha_of "$tmp")
  [ "$got" = "$sha" ] || { rm -f "$tmp"; die "checksum mismatch for $dest: expected $sha, got $got"; }
  mv "$tmp" "$dest"
  echo "setup: placed $dest"
}

MODELS_TGZ=face_recognition_models-0.3.0.tar.gz
FR_TGZ=face_recognition-1.3.0.tar.gz
INSIGHT_WHL=insightface-2.1-py3-none-any.whl

MODEL_FILES=(
  "dlib_face_recognition_resnet_model_v1.dat 55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
  "shape_predictor_5_face_landmarks.dat c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
  "mmod_human_face_detector.dat 4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
)
FR_FILES=(
  "obama.jpg 0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6"
  "obama2.jpg a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6"
  "obama3.jpg 76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3"
  "biden.jpg 3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c"
  "obama_partial_face.jpg c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117"
  "obama_partial_face2.jpg 9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028"
  "32bit.png 44dca895a7d635a4aedddd91a4f37af9a8a5b44e66154282a24645a757b5f627"
)
INSIGHT_FILES=(
  "t1.jpg 47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"
  "Tom_Hanks_54745.png 8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083"
  "mask_white.jpg 3adee6ba6680d26197bbea95deb9d335252d01c2c51ead23e01af9784c310aa6"
  "mask_black.jpg d81c40c77a0e38717dc7e1d4ca994e2bc58efa804465ff8d09d915daeddf2c83"
)

all_present() { # DIR "name sha"...
  local dir=$1; shift
  for entry in "$@"; do
    set -- $entry
    [ -f "$dir/$1" ] && [ "$(sha_of "$dir/$1")" = "$2" ] || return 1
  done
}

install_models() {
  if all_present Models "${MODEL_FILES[@]}"; then echo "setup: models verified"; return; fi
  fetch face_recognition_models 0.3.0 "$MODELS_TGZ" b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf
  for entry in "${MODEL_FILES[@]}"; do
    set -- $entry
    place "$cache/$MODELS_TGZ" "face_recognition_models-0.3.0/face_recognition_models/models/$1" "Models/$1" "$2" || true
  done
}

install_fixtures() {
  if all_present Tests/Fixtures "${FR_FILES[@]}" "${INSIGHT_FILES[@]}"; then echo "setup: test photos verified"; return; fi
  fetch face_recognition 1.3.0 "$FR_TGZ" 5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec --no-binary :all:
  fetch insightface 2.1 "$INSIGHT_WHL" dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399 --only-binary :all:
  for entry in "${FR_FILES[@]}"; do
    set -- $entry
    place "$cache/$FR_TGZ" "face_recognition-1.3.0/tests/test_images/$1" "Tests/Fixtures/$1" "$2" || true
  done
  for entry in "${INSIGHT_FILES[@]}"; do
    set -- $entry
    place "$cache/$INSIGHT_WHL" "insightface/data/images/$1" "Tests/Fixtures/$1" "$2" || true
  done
}

case "${1:-all}" in
  apt) install_apt ;;
  data) install_models; install_fixtures ;;
  all) install_apt; install_models; install_fixtures ;;
  *) die "usage: scripts/setup.sh [all|apt|data]" ;;
esac
echo "setup: done"
