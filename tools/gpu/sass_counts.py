#!/usr/bin/env python3
"""SASS instruction counts per kernel from `cuobjdump -sass` output: tensor-core (HMMA, HGMMA) against fp32
FMA (FFMA) and a few others, as a TSV. ptxas's PTX counts (scripts/cuda-check.sh) say what the compiler was
asked for; SASS is what the GPU runs, so this is where a tensor-core kernel that fell back to FMAs would show.

Exits 1 when a kernel meant for tensor cores (gemm_tc*, attn_bf16*) has no HMMA or HGMMA, 2 when the listing
holds no function at all (a wrong file, or a cuobjdump that printed nothing).

Usage: cuobjdump -sass libftc.so | sass_counts.py --out sass.tsv   (or: sass_counts.py --sass listing.txt)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

# The opcodes reported as columns (others are summed in "other").
COLUMNS = ["HMMA", "HGMMA", "FFMA", "FMUL", "FADD", "LDSM", "LDGSTS", "LDG", "STG", "BAR"]
TENSOR_CORE = ("HMMA", "HGMMA")
# Kernels whose point is the tensor cores (gemm.cu, gemm_tc_large.cuh, attention_tc.cuh).
TENSOR_KERNELS = re.compile(r"gemm_tc_kernel|gemm_tc_large_kernel|attn_bf16_(forward|backward)_kernel")

FUNCTION = re.compile(r"^\s*Function\s*:\s*(\S+)")
# "/*0480*/   @!P0 HMMA.16816.F32.BF16 R16, R4, R8, R16 ;" -> HMMA (the predicate and the modifiers dropped).
INSTRUCTION = re.compile(r"^\s*/\*[0-9a-fA-F]+\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_]*)")


def demangle(names):
    """C++ names through c++filt when it exists (binutils), else the mangled names unchanged."""
    if not names or shutil.which("c++filt") is None:
        return {n: n for n in names}
    r = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=False)
    out = r.stdout.splitlines()
    return dict(zip(names, out)) if r.returncode == 0 and len(out) == len(names) else {n: n for n in names}


def count(lines):
    """{mangled function name: Counter of opcodes}, in the listing's order."""
    functions = {}
    current = None
    for line in lines:
        m = FUNCTION.match(line)
        if m:
            current = functions.setdefault(m.group(1), Counter())
            continue
        m = INSTRUCTION.match(line)
        if m and current is not None:
            current[m.group(1)] += 1
    return functions


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sass", help="the cuobjdump -sass listing (default: standard input)")
    ap.add_argument("--out", help="write the table here as TSV (default: standard output only)")
    a = ap.parse_args()
    text = open(a.sass, encoding="utf-8", errors="replace").read() if a.sass else sys.stdin.read()
    functions = count(text.splitlines())
    if not functions:
        print("sass_counts: no 'Function :' in the listing", file=sys.stderr)
        return 2
    names = demangle(list(functions))
    rows = ["kernel\t" + "\t".join(c.lower() for c in COLUMNS) + "\tother\ttotal"]
    missing = []
    for mangled, ops in functions.items():
        name = names[mangled]
        listed = [ops.get(c, 0) for c in COLUMNS]
        total = sum(ops.values())
        rows.append("\t".join([name] + [str(v) for v in listed] + [str(total - sum(listed)), str(total)]))
        if TENSOR_KERNELS.search(name) and not any(ops.get(c, 0) for c in TENSOR_CORE):
            missing.append(name)
    table = "\n".join(rows) + "\n"
    if a.out:
        with open(a.out + ".tmp", "w", encoding="utf-8") as f:
            f.write(table)
        os.replace(a.out + ".tmp", a.out)
    sys.stdout.write(table)
    for name in missing:
        print(f"sass_counts: {name} is a tensor-core kernel with no HMMA or HGMMA in its SASS", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
