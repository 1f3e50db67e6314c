#!/bin/sh
# Runs inside the v4l2-vm (busybox sh, vivid loaded, default profile) from the payload that
# CameraVMTests builds: faced, facectl, facebench (+ lib/), Models/, frames/*.yuyv, gallery.db
# with obama enrolled. Results go to /out; the host test checks them.
# 1. format negotiation on vivid's webcam input; 2. loop-back with faces through faced;
# 3. controls: a gain the camera resets is set again; 4. unplug (vivid's disconnect control)
# and return while faced streams; 5. a camera that stops delivering frames (stall) and resumes.
export FACED_MODELS=Models
OUT=/out
say() { echo "[camera-checks $(cut -d' ' -f1 /proc/uptime)] $*"; }

# --- 1. negotiation: YUYV, GREY, RGB3 at two sizes each
for fmt in yuyv grey rgb; do
    for size in 640x480 1280x720; do
        json=$(./facebench capture --source v4l2:/dev/video0 --format $fmt --size $size --fps 30 --frames 10 --json)
        parm=$(v4l2-ctl -d /dev/video0 --get-parm | sed -n 's/.*Frames per second: *\([0-9.]*\).*/\1/p')
        fmtline=$(v4l2-ctl -d /dev/video0 --get-fmt-video | sed -n "s/.*Width\/Height *: *\([0-9]*\)\/\([0-9]*\).*/\1x\2/p")
        echo "$fmt $size v4l2-ctl-fps=$parm v4l2-ctl-size=$fmtline $json" >> $OUT/negotiation.txt
    done
done
# a stable name, as /dev/v4l/by-id gives one (the VM has no udev to make those links)
ln -s /dev/video0 /tmp/by-id-camera
./facebench capture --source v4l2:/tmp/by-id-camera --format yuyv --size 640x360 --frames 3 --json > $OUT/symlink.json
./facectl cameras --json > $OUT/cameras.json
./facectl cameras | head -20
say "negotiation done"

# --- 2. loop-back: frames written to the output node come back on /dev/video0
vivid-loop-setup hdmi YUYV 640 480 || exit 3
cp gallery.db /tmp/g.db
# The looped frames are still photos: flat pictures, which liveness = motion (the default) refuses.
./faced --liveness off --source v4l2:/dev/video0 --db /tmp/g.db --camera vm --size 640x480 --fps 60 --min-face 140 --stats-interval 10 --gain 50 --power-line 50 2> $OUT/faced.log &
FACED=$!
WRITER=
show() {
    [ -n "$WRITER" ] && { kill $WRITER 2>/dev/null; wait $WRITER 2>/dev/null; }
    v4l2-ctl -d /dev/video1 --stream-out-mmap --stream-from=frames/$1.yuyv --stream-loop >/dev/null 2>&1 &
    WRITER=$!
    say "showing $1"
}
count() { ./facectl log --db /tmp/g.db --json --limit 1000 2>/dev/null | grep -o "\"$1\"" | wc -l; }
# waits until the log holds N rows whose decision or reason is $1, at most $3 seconds
wait_for() {
    i=0
    while [ "$(count $1)" -lt "$2" ]; do
        i=$((i + 2)); [ $i -gt "$3" ] && { say "timed out waiting for $2 x $1"; return 1; }
        sleep 2
    done
    say "log has $2 x $1"
}
show empty; sleep 15
show obama3; wait_for granted 1 240
show empty; sleep 20
show biden; wait_for unknown 1 240
show empty; sleep 14

# a second program cannot take the camera faced streams from
./facebench capture --source v4l2:/dev/video0 --frames 1 > $OUT/busy.txt 2>&1

# --- 3. controls: faced set gain 50; another program changes it; faced sets it again
echo "set-by-faced $(v4l2-ctl -d /dev/video0 -C gain)" >> $OUT/controls.txt
v4l2-ctl -d /dev/video0 -c gain=10
sleep 6
echo "after $(v4l2-ctl -d /dev/video0 -C gain)" >> $OUT/controls.txt

# --- 4. unplug while faced streams, then the camera comes back
say "disconnect"
v4l2-ctl -d /dev/video0 -c disconnect=1
wait_for camera_lost 1 60
kill $WRITER 2>/dev/null; wait $WRITER 2>/dev/null; WRITER=
# the nodes come back once every handle is closed; faced retries with backoff
i=0; while [ ! -e /dev/video0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
wait_for camera_restored 1 90
show obama3; wait_for granted 2 240
show empty; sleep 3

# --- 5. the camera stops delivering (vivid drops every buffer): a stall is a loss, logged once
# however many reopen attempts follow, and the first frame after it is the return
v4l2-ctl -d /dev/video0 -c percentage_of_dropped_buffers=100
wait_for camera_lost 2 60
sleep 15
v4l2-ctl -d /dev/video0 -c percentage_of_dropped_buffers=0
wait_for camera_restored 2 60
kill $WRITER 2>/dev/null; wait $WRITER 2>/dev/null
kill $FACED; wait $FACED
cp /tmp/g.db* $OUT/
ls /dev/video* > $OUT/nodes.txt
say "done"
