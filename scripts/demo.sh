#!/usr/bin/env bash
# The whole system on the fixtures, no camera: build a replay (empty frames, obama3, empty,
# biden, empty), enroll obama from two other photos, run the faced daemon over the replay (with
# its liveness check, then without), then show the audit log and explain its decisions.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/faced.db
photos=Tests/Fixtures
printf '#!/bin/sh\necho "  door action: open for $FACED_PERSON (event $FACED_EVENT_ID, distance $FACED_DISTANCE)"\n' > "$work/open-door"
chmod +x "$work/open-door"

run() { echo "\$ $*" | sed "s|$work|\$TMP|g; s|$bin/||"; "$@"; echo; }

run "$bin/facebench" make-replay -o "$work/door.mjpeg" "$photos/obama3.jpg" "$photos/biden.jpg"
run "$bin/facectl" enroll obama "$photos/obama.jpg" "$photos/obama2.jpg" --db "$db"
run "$bin/faced" --source "mjpeg:$work/door.mjpeg" --db "$db" --exit-at-end --action "$work/open-door" --snapshots "$work/snapshots"
# The replay's faces are photos pasted into frames: flat pictures that never move as a head does,
# so with liveness = motion (the default) obama is refused for "liveness". A door without that
# check (--liveness off) lets the same pictures in:
run "$bin/faced" --source "mjpeg:$work/door.mjpeg" --db "$db" --exit-at-end --action "$work/open-door" --snapshots "$work/snapshots" --liveness off
run "$bin/facectl" log --db "$db"
run "$bin/facectl" log verify --db "$db"
for id in $("$bin/facectl" log --db "$db" --csv | awk -F, 'NR > 1 && $2 == "decision" {print $1}'); do
  run "$bin/facectl" why "$id" --db "$db"
done
# The unknown visitor was biden: teach the door who he is from the log, then look at a group photo.
unknown=$("$bin/facectl" log --db "$db" --decision unknown --csv | awk -F, 'NR == 2 {print $1}')
run "$bin/facectl" enroll biden --from-event "$unknown" --db "$db"
run "$bin/facectl" annotate "$photos/t1.jpg" -o "$work/t1-annotated.jpg" --db "$db"
