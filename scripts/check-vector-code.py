#!/usr/bin/env python3
"""Fails when the C++ objects hold instructions an x86-64 without AVX cannot run, outside the
detector's AVX2 build, or reachable from code that runs as the program loads.

faced runs the AVX2 build of the HOG detector only after checking the CPU. Anything else (the
baseline build, a library template both builds instantiate, whose one copy the linker keeps for
both, and the static initialisers, which run on every CPU) must run anywhere: no VEX or EVEX
instruction (AVX, FMA, BMI), no instruction of a later extension the baseline compiler never emits.

Usage: scripts/check-vector-code.py BUILD_DIR   (.build/debug or .build/release)
"""
import glob
import os
import platform
import re
import subprocess
import sys

TARGETS = ("CDlibFace", "CDlibWideHOG")
# Where AVX2 code may be: the wide build's renamed dlib, and its one entry function.
ALLOWED = re.compile(r"faced_wide_dlib::|\(anonymous namespace\)::detect_wide\(")
# Functions the loader runs before main, on any CPU.
STARTUP = re.compile(r"^(_GLOBAL__sub_I_|__cxx_global_var_init)")
# VEX-encoded scalar and bit instructions (BMI1/2, FMA's scalar forms start with v), and later
# extensions x86-64's baseline lacks.
LATER = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext", "rorx", "sarx",
         "shlx", "shrx", "lzcnt", "tzcnt", "popcnt", "movbe", "crc32", "pclmulqdq", "aesenc", "aesdec"}
HEADER = re.compile(r"^[0-9a-f]+ <(.*)>:$")
CALL = re.compile(r"R_X86_64_(?:PLT32|PC32)\s+(.*?)(?:[-+]0x[0-9a-f]+)?$")


def needs_later_cpu(line: str) -> bool:
    parts = line.split("\t")
    if len(parts) < 2:
        return False
    mnemonic = parts[1].split()[0] if parts[1].split() else ""
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return True
    return mnemonic in LATER or "%ymm" in line or "%zmm" in line or re.search(r"%k[0-7]\b", line) is not None


def check(path: str) -> list[str]:
    listing = subprocess.run(["objdump", "-d", "-r", "-C", "--no-show-raw-insn", path],
                             check=True, capture_output=True, text=True).stdout
    later, calls, name = {}, {}, None
    for line in listing.splitlines():
        header = HEADER.match(line)
        if header:
            name = header.group(1)
            later.setdefault(name, 0)
            calls.setdefault(name, set())
            continue
        if name is None:
            continue
        call = CALL.search(line)
        if call:
            calls[name].add(call.group(1).strip())
        elif needs_later_cpu(line):
            later[name] += 1
    problems = [f"{count:5d}  {fn}" for fn, count in later.items() if count and not ALLOWED.search(fn)]
    # What runs as the program loads, and everything it calls in this object.
    seen, stack = set(), [fn for fn in later if STARTUP.match(fn)]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if later.get(fn) and ALLOWED.search(fn):
            problems.append(f"{later[fn]:5d}  {fn}  (runs as the program loads)")
        stack.extend(callee for callee in calls.get(fn, ()) if callee in later)
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    if platform.machine() != "x86_64":
        print("not x86-64: there is no AVX2 build to check")
        return 0
    build = sys.argv[1]
    status = 0
    for target in TARGETS:
        objects = sorted(glob.glob(os.path.join(build, f"{target}.build", "*.o")))
        if not objects:
            print(f"{build}/{target}.build: no objects; build first", file=sys.stderr)
            return 2
        for path in objects:
            problems = check(path)
            if problems:
                status = 1
                print(f"{path}: instructions a CPU without AVX cannot run, outside the detector's AVX2 build "
                      "(count, function):", file=sys.stderr)
                print("\n".join(problems[:20]), file=sys.stderr)
    if status == 0:
        print("AVX code only in the detector's AVX2 build, and none of it runs as the program loads")
    return status


if __name__ == "__main__":
    sys.exit(main())
