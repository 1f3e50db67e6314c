#!/usr/bin/env bash
# make install into a scratch DESTDIR, check what landed, make uninstall, check nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mktemp -d /tmp/faced-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
make install DESTDIR="$dest"
for f in usr/bin/faced usr/bin/facectl usr/lib/systemd/system/faced.service usr/lib/sysusers.d/faced.conf \
         usr/lib/tmpfiles.d/faced.conf etc/faced/faced.toml usr/share/faced/models/dlib_face_recognition_resnet_model_v1.dat; do
  [ -e "$dest/$f" ] || { echo "check-install: $f was not installed" >&2; exit 1; }
done
"$dest/usr/bin/faced" --check-config "$dest/etc/faced/faced.toml" > /dev/null
make uninstall DESTDIR="$dest"
left=$(find "$dest" -mindepth 1)
[ -z "$left" ] || { echo "check-install: uninstall left: $left" >&2; exit 1; }
echo "check-install: install and uninstall into $dest: OK"
