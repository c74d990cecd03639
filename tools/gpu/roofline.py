"""Roofline estimates of the CUDA tensor-core kernels at the model shapes and at 4096³ (docs/cuda.md).

An estimate, not a measurement: for each kernel and shape it counts the FLOPs, the bytes each block streams from
L2 (its tiles, as the kernel's tiling reads them) and the compulsory DRAM bytes, and takes the lowest of three
roofs (the tensor-core peak of the kernel's format, L2 bandwidth × L2 intensity, HBM bandwidth × DRAM intensity),
scaled by how full the grid keeps the SMs (blocks over SM slots, wave by wave; slots from registers and shared
memory per block). Latency, barriers, conversion work and atomics contention are not modelled, so real figures
will be lower; `scripts/gpu-check.sh` (bench stage) measures them when a GPU is lent.

Usage: python3 tools/gpu/roofline.py [--json FILE]   (prints the markdown table)
"""
import argparse
import json
import math
import sys

# NVIDIA H200 SXM (H100's compute die): dense tensor-core peaks, HBM3e bandwidth. L2→SM bandwidth is no datasheet
# figure: microbenchmarks of H100-class parts report 7–12 TB/s; 10 TB/s is assumed.
GPU = {
    "name": "H200 SXM",
    "sms": 132,
    "bf16_tflops": 989.0,
    "tf32_tflops": 494.0,
    "hbm_tbs": 4.8,
    "l2_tbs": 10.0,
    "l2_mb": 50.0,
    "regs_per_sm": 65536,
    "smem_per_sm": 228 * 1024,
    "max_threads_per_sm": 2048,
}

# Per-kernel resources: registers per thread (ptxas sm_90, scripts/cuda-check.sh) and dynamic shared memory.
KERNELS = {
    "gemm_tc_kernel<Bf16Operands>": {"regs": 165, "threads": 128, "smem": 2 * 128 * 80, "peak": "bf16"},
    "gemm_tc_kernel<Tf32Operands>": {"regs": 123, "threads": 128, "smem": 2 * 128 * 80, "peak": "tf32"},
    "gemm_tc_large_kernel<Bf16Operands>": {"regs": 121, "threads": 256, "smem": 3 * 256 * 80, "peak": "bf16"},
    "gemm_tc_large_kernel<Tf32Operands>": {"regs": 121, "threads": 256, "smem": 3 * 256 * 80, "peak": "tf32"},
    "attn_bf16_forward_kernel<64>": {"regs": 168, "threads": 128, "smem": (64 + 4 * 64) * 72 * 2, "peak": "bf16"},
    "attn_bf16_forward_kernel<128>": {"regs": 168, "threads": 128, "smem": (64 + 4 * 32) * 136 * 2, "peak": "bf16"},
    # K, V; two stages of Q and dO (the cp.async pipeline); dS; two stages of lse and D.
    "attn_bf16_backward_kernel<64>": {"regs": 237, "threads": 128,
                                      "smem": (2 * 64 + 4 * 64) * 72 * 2 + 64 * 72 * 2 + 4 * 64 * 4, "peak": "bf16"},
    "attn_bf16_backward_kernel<128>": {"regs": 246, "threads": 128,
                                       "smem": (2 * 64 + 4 * 32) * 136 * 2 + 32 * 72 * 2 + 4 * 32 * 4, "peak": "bf16"},
}

# Model shapes (src/model/config.ts): dim, heads; B = 32 windows of T = 30 patches, S = 31 tokens (start token).
MODELS = {"19m": (512, 8), "345m": (1024, 16), "1b": (2048, 16)}
B, S = 32, 31


def slots_per_sm(k):
    regs = max(1, GPU["regs_per_sm"] // (k["regs"] * k["threads"]))
    smem = max(1, GPU["smem_per_sm"] // max(k["smem"], 1))
    threads = GPU["max_threads_per_sm"] // k["threads"]
    return min(regs, smem, threads)


def fill(blocks, k):
    """Average fraction of the SMs' block slots busy over the waves the grid takes."""
    slots = GPU["sms"] * slots_per_sm(k)
    waves = math.ceil(blocks / slots)
    return blocks / (waves * slots)


def estimate(kernel, what, flops, l2_bytes, dram_bytes, blocks):
    k = KERNELS[kernel]
    peak = GPU[k["peak"] + "_tflops"] * 1e12
    roofs = {"tensor": peak, "L2": l2_bytes and flops / l2_bytes * GPU["l2_tbs"] * 1e12,
             "HBM": flops / dram_bytes * GPU["hbm_tbs"] * 1e12}
    bound = min(roofs, key=roofs.get)
    f = fill(blocks, k)
    rate = roofs[bound] * f
    return {"kernel": kernel, "shape": what, "gflop": flops / 1e9, "l2_mb": l2_bytes / 1e6, "dram_mb": dram_bytes / 1e6,
            "blocks": blocks, "fill": f, "bound": bound, "tflops": rate / 1e12,
            "of_bf16_peak": rate / (GPU["bf16_tflops"] * 1e12), "time_us": flops / rate * 1e6}


def gemm(kernel, what, M, N, K):
    """y[M,N] = x[M,K]·Wᵀ. The 64×64 kernel: each block streams its 64 rows of A and of B over all of K as fp32.
    The 128×128 kernel: two staging passes first read A and B as fp32 and write them in the mode's format
    (bf16: 2 bytes, tf32: 4), then each block streams its 128 rows of each staged operand."""
    flops = 2.0 * M * N * K
    dram = (M * K + N * K + M * N) * 4.0
    if "large" not in kernel:
        blocks = math.ceil(M / 64) * math.ceil(N / 64)
        l2 = blocks * (64 + 64) * K * 4.0  # fp32 operands in memory
        return estimate(kernel, what, flops, l2, dram, blocks)
    e = 2.0 if "Bf16" in kernel else 4.0
    blocks = math.ceil(M / 128) * math.ceil(N / 128)
    staged = (M + N) * K * e
    l2 = blocks * (128 + 128) * K * e + (M + N) * K * 4.0 + staged  # the product's reads; the passes' reads, writes
    if staged > GPU["l2_mb"] * 1e6 / 2:  # the staged copies no longer stay in L2: written to and read from HBM
        dram += 2 * staged
    return estimate(kernel, what, flops, l2, dram, blocks)


def gemm_kernel(fmt, M, N):
    """The tensor-core GEMM the engine runs (kernels/cuda/gemm.cu use_large_tiles): 128×128 tiles over staged
    operands when they make at least one wave of blocks over the SMs, else 64×64."""
    large = M >= 128 and N >= 128 and math.ceil(M / 128) * math.ceil(N / 128) >= GPU["sms"]
    return f"gemm_tc{'_large' if large else ''}_kernel<{fmt}Operands>"


def attention(direction, what, Bn, Sn, D, H):
    d = D // H
    dp = 64 if d <= 64 else 128
    kernel = f"attn_bf16_{direction}_kernel<{dp}>"
    causal_pairs = Sn * (Sn + 1) / 2.0
    blocks_q = math.ceil(Sn / 64)
    if direction == "forward":
        flops = 2 * 2.0 * Bn * H * causal_pairs * d  # Q·Kᵀ and P·V over the causal half
        # The staging pass has made q, k, v bf16 [B·H][S][DP]; row block r reads its Q rows once and K, V for
        # the key tiles up to its last row, as bf16 (2 bytes; rows past S are zero-filled without a read).
        kv_rows = sum(min(Sn, (r + 1) * 64) for r in range(blocks_q))
        l2 = Bn * H * (Sn + 2 * kv_rows) * dp * 2.0
        dram = Bn * Sn * D * 4.0 * 4 + Bn * H * Sn * 4.0  # q, k, v read as fp32; out written; lse
        # The staged copies (written once, read once more) stay in L2 when they fit in half of it.
        staged = 3 * Bn * H * Sn * dp * 2.0
        if staged <= GPU["l2_mb"] * 1e6 / 2:
            l2 += 2 * staged
        else:
            dram += 2 * staged
        blocks = blocks_q * H * Bn
    else:
        flops = 5 * 2.0 * Bn * H * causal_pairs * d  # Sᵀ, dPᵀ, dV, dK, dQ
        # The staging pass has made q, k (rotated), v and dO bf16 [B·H][S][DP]. Key block c reads its K, V once
        # and Q, dO for the rows ≥ its first key as bf16, lse and D as fp32, and adds its dQ part (fp32 atomics).
        q_rows = sum(Sn - c * 64 for c in range(blocks_q))
        l2 = Bn * H * ((2 * blocks_q * 64 + 2 * q_rows) * dp * 2.0 + q_rows * (d * 4.0 + 8.0))
        dram = Bn * Sn * D * 4.0 * 7  # q, k, v, dO read; dk, dv written; dQ (rotated) read-modify-written once
        staged = 4 * Bn * H * Sn * dp * 2.0
        if staged <= GPU["l2_mb"] * 1e6 / 2:
            l2 += 2 * staged
        else:
            dram += 2 * staged
        blocks = blocks_q * H * Bn
    return estimate(kernel, what, flops, l2, dram, blocks)


def rows():
    out = []
    for name, (D, H) in MODELS.items():
        N = B * S
        for fmt in ("Bf16", "Tf32"):
            out.append(gemm(gemm_kernel(fmt, N, D), f"{name} projection [{N},{D}]·[{D},{D}]ᵀ", N, D, D))
            out.append(gemm(gemm_kernel(fmt, N, 4 * D), f"{name} linear1 [{N},{D}]·[{4 * D},{D}]ᵀ", N, 4 * D, D))
        out.append(attention("forward", f"{name} B={B} S={S} H={H} d={D // H}", B, S, D, H))
        out.append(attention("backward", f"{name} B={B} S={S} H={H} d={D // H}", B, S, D, H))
    # At 4096³ both kernels of both formats, the size rule's choice (128×128) beside the 64×64 one.
    for kern in ("gemm_tc_large_kernel<Bf16Operands>", "gemm_tc_kernel<Bf16Operands>", "gemm_tc_large_kernel<Tf32Operands>",
                 "gemm_tc_kernel<Tf32Operands>"):
        out.append(gemm(kern, "4096³", 4096, 4096, 4096))
    for d in (64, 128):
        out.append(attention("forward", f"B=4 S=1024 H=8 d={d}", 4, 1024, 8 * d, 8))
        out.append(attention("backward", f"B=4 S=1024 H=8 d={d}", 4, 1024, 8 * d, 8))
    return out


def markdown(rs):
    lines = ["| kernel | shape | GFLOP | L2 MB | DRAM MB | blocks | SM fill | bound | est. TFLOP/s | of BF16 peak | est. µs |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in rs:
        lines.append(f"| `{r['kernel']}` | {r['shape']} | {r['gflop']:.3g} | {r['l2_mb']:.3g} | {r['dram_mb']:.3g} | "
                     f"{r['blocks']} | {r['fill']:.0%} | {r['bound']} | {r['tflops']:.0f} | {r['of_bf16_peak']:.1%} | "
                     f"{r['time_us']:.3g} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    a = ap.parse_args(argv)
    rs = rows()
    print(markdown(rs))
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump({"gpu": GPU, "rows": rs}, f, indent=1)
        import os
        os.replace(a.json + ".tmp", a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
