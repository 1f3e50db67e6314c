#!/usr/bin/env python3
"""Fails when the C++ objects hold instructions an x86-64 without AVX cannot run, outside the
detector's AVX2 build, or reachable from code that runs as the program loads or exits.

faced runs the AVX2 build of the HOG detector only after checking the CPU. Anything else (the
baseline build; a library template both builds instantiate, whose one copy the linker keeps for
both; the static initialisers and the destructors they register, which run on every CPU) must
run on any x86-64: no VEX or EVEX instruction (AVX, FMA, BMI) and none from SSE3 on, which the
baseline compiler never emits. It also fails when the AVX2 build is missing or empty.

Usage: scripts/check-vector-code.py BUILD_DIR   (.build/debug or .build/release)
"""
import glob
import os
import platform
import re
import subprocess
import sys
from collections import defaultdict

WIDE, BASELINE = "CDlibWideHOG", "CDlibFace"
# Where AVX2 code may be: the wide build's renamed dlib, its one entry function, and their cold parts.
ALLOWED = re.compile(r"faced_wide_dlib::|\(anonymous namespace\)::detect_wide\(")
# Functions the loader runs, found by name (their sections' relocations in .init_array are followed too).
STARTUP = re.compile(r"^(_GLOBAL__sub_I_|__cxx_global_var_init)")
PREFIXES = {"lock", "rep", "repz", "repnz", "repe", "repne", "data16", "addr32", "notrack", "bnd",
            "cs", "ds", "es", "fs", "gs", "ss", "{vex}", "{vex2}", "{vex3}", "{evex}"}
# BMI and other scalar extensions, and SSE3, SSSE3, SSE4.1, SSE4.2, AES and CLMUL by mnemonic prefix.
LATER = re.compile(r"^(?:(?:andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt|tzcnt|popcnt|movbe"
                   r"|adcx|adox|rdrand|rdseed|crc32)[bwlq]?|sha1\w*|sha256\w*|pclmul\w*|aes\w*"
                   r"|addsubp[sd]|haddp[sd]|hsubp[sd]|movddup|movshdup|movsldup|lddqu|monitor|mwait"
                   r"|pshufb|palignr|phadd\w*|phsub\w*|pabs[bwd]|psign[bwd]|pmaddubsw|pmulhrsw"
                   r"|blendp[sd]|blendvp[sd]|pblendvb|pblendw|dpp[sd]|extractps|insertps|pextr[bdq]|pinsr[bdq]"
                   r"|pmaxs[bd]|pmaxu[dw]|pmins[bd]|pminu[dw]|pmuldq|pmulld|ptest|round[ps][sd]|mpsadbw|phminposuw"
                   r"|packusdw|pcmpeqq|pmovsx\w+|pmovzx\w+|movntdqa|pcmpgtq|pcmpestr[im]|pcmpistr[im])$")
HEADER = re.compile(r"^([0-9a-f]+) <(.*)>:$")
SECTION = re.compile(r"^Disassembly of section (.*):$")
RELOCATION = re.compile(r"^\s*[0-9a-f]+: (R_X86_64_\w+)\s+(.*?)(?:([-+])0x([0-9a-f]+))?$")


def later_cpu(line: str) -> bool:
    fields = line.split("\t")
    if len(fields) < 2:
        return False
    words = [w for w in fields[1].split() if w not in PREFIXES and not w.startswith("rex")]
    mnemonic = words[0] if words else ""
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return True
    return bool(LATER.match(mnemonic)) or "%ymm" in line or "%zmm" in line or re.search(r"%k[0-7]\b", line) is not None


def objdump(*arguments: str, missing_ok: bool = False) -> str:
    run = subprocess.run(["objdump", *arguments], capture_output=True, text=True)
    if run.returncode != 0 and not missing_ok:
        raise SystemExit(f"objdump {' '.join(arguments)}: {run.stderr.strip()}")
    return run.stdout


def check(path: str) -> tuple[list[str], int, int]:
    """Problems, functions parsed, AVX-class instructions in the allowed functions."""
    later, references = {}, defaultdict(set)
    starts = defaultdict(list)  # section name -> [(offset, function)]
    section = name = None

    def target(symbol: str, kind: str, sign: str | None, addend: str | None) -> list[str]:
        if symbol in later or symbol not in starts:
            return [symbol]
        # A section and an offset: the function that holds it (a PC-relative field is 4 bytes
        # before the next instruction, from which the CPU counts).
        offset = (int(addend, 16) if addend else 0) * (-1 if sign == "-" else 1)
        if kind.endswith(("PC32", "PLT32", "GOTPCREL", "GOTPCRELX", "REX_GOTPCRELX")):
            offset += 4
        held = [fn for start, fn in sorted(starts[symbol]) if start <= offset]
        return held[-1:]

    pending = []
    for line in objdump("-d", "-r", "-C", "--no-show-raw-insn", path).splitlines():
        if match := SECTION.match(line):
            section = match.group(1)
            continue
        if match := HEADER.match(line):
            name = match.group(2)
            later.setdefault(name, 0)
            starts[section].append((int(match.group(1), 16), name))
            continue
        if name is None:
            continue
        if match := RELOCATION.match(line):
            pending.append((name, match.groups()))
        elif later_cpu(line):
            later[name] += 1
    for caller, (kind, symbol, sign, addend) in pending:
        references[caller].update(target(symbol.strip(), kind, sign, addend))
    roots = [fn for fn in later if STARTUP.match(fn)]
    for line in objdump("-r", "-j", ".init_array", path, missing_ok=True).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("R_X86_64_"):
            match = re.match(r"(.*?)(?:([-+])0x([0-9a-f]+))?$", parts[2])
            roots += target(match.group(1), parts[1], match.group(2), match.group(3))
    problems = [f"{count:5d}  {fn}" for fn, count in later.items() if count and not ALLOWED.search(fn)]
    seen, stack = set(), list(roots)
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if later.get(fn) and ALLOWED.search(fn):
            problems.append(f"{later[fn]:5d}  {fn}  (runs as the program loads or exits)")
        stack.extend(callee for callee in references.get(fn, ()) if callee in later)
    allowed = sum(count for fn, count in later.items() if ALLOWED.search(fn))
    return problems, len(later), allowed


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    if platform.machine() != "x86_64":
        print("not x86-64: there is no AVX2 build to check")
        return 0
    build = sys.argv[1]
    status, wide_code = 0, 0
    for target in (BASELINE, WIDE):
        objects = sorted(glob.glob(os.path.join(build, f"{target}.build", "*.o")))
        if not objects:
            print(f"{build}/{target}.build: no objects; build first", file=sys.stderr)
            return 2
        for path in objects:
            problems, functions, allowed = check(path)
            if functions == 0:
                print(f"{path}: no function found in objdump's listing", file=sys.stderr)
                return 2
            if target == WIDE:
                wide_code += allowed
            if problems:
                status = 1
                print(f"{path}: instructions an x86-64 without AVX cannot run, outside the detector's AVX2 build "
                      "(count, function):", file=sys.stderr)
                print("\n".join(problems[:20]), file=sys.stderr)
    if wide_code == 0:
        print(f"{build}/{WIDE}.build: no AVX2 code: the detector's AVX2 build is missing", file=sys.stderr)
        status = 1
    if status == 0:
        print(f"AVX code only in the detector's AVX2 build ({wide_code} instructions), none of it run as the program loads or exits")
    return status


if __name__ == "__main__":
    sys.exit(main())
