#!/usr/bin/env bash
# The main job end to end: enroll obama from two photos into a temporary gallery,
# then identify a third photo of him and one of biden.
set -euo pipefail
cd "$(dirname "$0")/.."
facectl=${1:-.build/debug/facectl}
db=$(mktemp -d)/faced.db
trap 'rm -rf "$(dirname "$db")"' EXIT
photos=Tests/Fixtures

echo "\$ facectl enroll obama obama.jpg obama2.jpg"
"$facectl" enroll obama "$photos/obama.jpg" "$photos/obama2.jpg" --db "$db"
echo
echo "\$ facectl identify obama3.jpg biden.jpg"
status=0
"$facectl" identify "$photos/obama3.jpg" "$photos/biden.jpg" --db "$db" || status=$?
# 0: at least one face matched (obama3); anything else means the demo went wrong.
exit $status
