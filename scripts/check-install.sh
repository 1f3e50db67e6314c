#!/usr/bin/env bash
# make install into a scratch DESTDIR, check what landed, make uninstall, check nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mktemp -d /tmp/faced-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
make install DESTDIR="$dest"
for f in usr/bin/faced usr/bin/facectl usr/lib/systemd/system/faced.service usr/lib/sysusers.d/faced.conf \
         usr/lib/tmpfiles.d/faced.conf etc/faced/faced.toml usr/share/faced/models/dlib_face_recognition_resnet_model_v1.dat \
         usr/share/man/man1/facectl.1 usr/share/man/man8/faced.8 usr/share/bash-completion/completions/facectl \
         usr/share/zsh/vendor-completions/_facectl usr/share/fish/vendor_completions.d/facectl.fish; do
  [ -e "$dest/$f" ] || { echo "check-install: $f was not installed" >&2; exit 1; }
done
grep -q '^\.Dt FACED 8' "$dest/usr/share/man/man8/faced.8" || { echo "check-install: faced.8 is not a section 8 page" >&2; exit 1; }
grep -q 'status' "$dest/usr/share/man/man1/facectl.1" || { echo "check-install: facectl.1 lacks the status command" >&2; exit 1; }
if command -v man > /dev/null; then
  MANWIDTH=80 man -l "$dest/usr/share/man/man1/facectl.1" 2>&1 > /dev/null | grep . && { echo "check-install: facectl.1 has warnings" >&2; exit 1; }
fi
"$dest/usr/bin/faced" --check-config "$dest/etc/faced/faced.toml" > /dev/null
make uninstall DESTDIR="$dest"
left=$(find "$dest" -mindepth 1)
[ -z "$left" ] || { echo "check-install: uninstall left: $left" >&2; exit 1; }
echo "check-install: install and uninstall into $dest: OK"
