#!/usr/bin/env python3
"""The anchor: face_recognition's README "faster" webcam loop on faced's anchor replay.

Runs, per frame, what examples/facerec_from_webcam_faster.py does
(https://github.com/ageitgey/face_recognition): shrink to 1/4 with cv2.resize, BGR -> RGB,
face_locations (HOG, one upsample, the default), face_encodings at those locations, boxes
scaled back x4. The frames come from DIR/replay.mjpeg (split on the JPEG markers FFD8/FFD9
beforehand) and are decoded with cv2.imdecode inside the timed loop, as a camera read would.
Scores recall against DIR/truth.json as `facebench recall` does: a truth face (frame, box) is
found when a box of that frame overlaps it with IoU >= 0.3.

Usage: bench-anchor.py DIR [--json OUT.json] [--min-face 80] [--every-other-frame]
Needs a venv with face_recognition, opencv-python-headless and numpy (scripts/bench-anchor.sh).
"""
import argparse
import json
import sys
import time

IOU = 0.3


def split_mjpeg(data):
    """JPEG frames of a concatenated stream: from each FFD8 to the next FFD9 after it."""
    frames, pos = [], 0
    while True:
        start = data.find(b"\xff\xd8", pos)
        if start < 0:
            return frames
        end = data.find(b"\xff\xd9", start + 2)
        if end < 0:
            return frames
        frames.append(data[start:end + 2])
        pos = end + 2


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    inter = w * h if w > 0 and h > 0 else 0
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def score(truth, found, min_face):
    total = matched = total_large = matched_large = 0
    for visit in truth["visits"]:
        for face in visit["faces"]:
            b = face["box"]
            box = (b["x"], b["y"], b["width"], b["height"])
            hit = any(iou(d, box) >= IOU for d in found.get(face["frame"], []))
            total += 1
            matched += hit
            if box[2] >= min_face:
                total_large += 1
                matched_large += hit
    return total, matched, total_large, matched_large


def blas_kernels():
    """OpenBLAS's kernels in this process (dlib's embeddings run on them), or "?"."""
    import ctypes
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "?"


def main():
    parser = argparse.ArgumentParser(description="face_recognition's README fast loop on an anchor replay")
    parser.add_argument("replay", help="folder with replay.mjpeg and truth.json (facebench anchor-replay)")
    parser.add_argument("--json", dest="json_out", help="write the results here as JSON")
    parser.add_argument("--min-face", type=int, default=80, help="also score the truth faces at least this wide (px)")
    parser.add_argument("--every-other-frame", action="store_true",
                        help="as the example really does: look at every other frame, keep the last boxes in between")
    args = parser.parse_args()

    try:
        import cv2
        import face_recognition
        import numpy as np
    except ImportError as e:
        sys.exit(f"bench-anchor.py: {e}; run it with the venv's python (scripts/bench-anchor.sh makes it)")
    try:
        with open(f"{args.replay}/replay.mjpeg", "rb") as f:
            jpegs = split_mjpeg(f.read())
        with open(f"{args.replay}/truth.json") as f:
            truth = json.load(f)
    except OSError as e:
        sys.exit(f"bench-anchor.py: {e}; make the replay with facebench anchor-replay -o {args.replay}")
    if not jpegs:
        sys.exit(f"bench-anchor.py: {args.replay}/replay.mjpeg holds no JPEG frame")

    found = {}
    locations = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for index, jpeg in enumerate(jpegs):
        # The camera read.
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if not args.every_other_frame or index % 2 == 0:
            small_frame = cv2.resize(frame, (0, 0), fx=0.25, fy=0.25)
            # BGR -> RGB as the example does; recent dlib rejects the bare slice (not contiguous)
            # in face_encodings, so it is copied (a 320x180 copy, negligible).
            rgb_small_frame = np.ascontiguousarray(small_frame[:, :, ::-1])
            locations = face_recognition.face_locations(rgb_small_frame)
            face_recognition.face_encodings(rgb_small_frame, locations)
        # (top, right, bottom, left) at 1/4, back to the frame's pixels as x, y, width, height.
        found[index] = [(l * 4, t * 4, (r - l) * 4, (b - t) * 4) for (t, r, b, l) in locations]
    seconds, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    total, matched, total_large, matched_large = score(truth, found, args.min_face)
    frames = len(jpegs)
    report = {
        "side": "anchor" + (" (every other frame)" if args.every_other_frame else ""),
        "frames": frames,
        "seconds": seconds,
        "cpuSeconds": cpu,
        "fps": frames / seconds,
        "framesPerCPUSecond": frames / cpu if cpu > 0 else 0.0,
        "iou": IOU,
        "truthFaces": total,
        "matched": matched,
        "recall": matched / total if total else 0.0,
        "minFace": args.min_face,
        "truthFacesMinFace": total_large,
        "matchedMinFace": matched_large,
        "recallMinFace": matched_large / total_large if total_large else 0.0,
        "blasKernels": blas_kernels(),
    }
    print(f"anchor: {frames} frames in {seconds:.2f} s: {report['fps']:.2f} fps; CPU {cpu:.2f} s, "
          f"{report['framesPerCPUSecond']:.2f} frames per CPU-second; recall {report['recall']:.3f} ({matched}/{total}), "
          f"{report['recallMinFace']:.3f} ({matched_large}/{total_large}) of faces >= {args.min_face} px")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
