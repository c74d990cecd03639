"""The CUDA kernels against PyTorch on the same GPU, side by side in one run: GEMM at the 19m and 1b layer
shapes and at 4096³ (engine fp32, tf32 and bf16 against torch.matmul in FP32, TF32 and BF16; the bf16 mode's
64×64 and 128×128 tensor-core kernels each forced besides the size rule's choice), and causal attention
forward and forward+backward (engine, RoPE included, against scaled_dot_product_attention without RoPE).

Steady state: every side runs WARMUP untimed iterations first, then ITERS timed ones between CUDA events.
With --device cpu (the emulated entry points) it runs the smallest shapes once: a test of this script only,
its times mean nothing.

Usage: bench.py --lib libftc.so [--device cuda|cpu] [--out DIR]
"""
import argparse
import ctypes
import json
import os
import sys
import time

import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(__file__))
from check_ops import load, p  # noqa: E402

GEMMS = [("19m attention projection", 992, 512, 512), ("19m linear1", 992, 512, 2048), ("19m linear2", 992, 2048, 512),
         ("1b linear1", 992, 2048, 8192), ("4096³", 4096, 4096, 4096)]
ATTENTION = [("S=1024 d=64", 4, 1024, 512, 8), ("S=1024 d=128", 4, 1024, 1024, 8)]


def timer(device, warmup, iters):
    def run(fn):
        for _ in range(warmup):
            fn()
        if device == "cuda":
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3 / iters
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        return (time.perf_counter() - t0) / iters

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    dev = a.device
    if dev == "cuda" and not torch.cuda.is_available():
        print("bench: torch.cuda is not available", file=sys.stderr)
        return 2
    lib = load(a.lib)
    quick = dev == "cpu"
    t = timer(dev, 0 if quick else 5, 1 if quick else 20)
    rows = []

    def sync():
        code = lib.ftc_sync()
        if code != 0:
            raise RuntimeError(lib.ftc_error_string(code).decode())

    gemms = [("tiny", 33, 64, 96)] if quick else GEMMS
    for name, N, K, M in gemms:
        x = torch.randn(N, K, device=dev)
        w = torch.randn(M, K, device=dev)
        y = torch.empty(N, M, device=dev)
        flop = 2.0 * N * K * M
        res = {"kind": "gemm", "shape": name, "N": N, "K": K, "M": M}

        def engine(mode, tiles=0):
            if lib.ftc_set_compute_mode(mode) != 0:
                return None
            lib.ftc_set_gemm_tiles(tiles)

            def fn():
                lib.ftc_linear_forward(p(x), p(w), None, p(y), N, K, M)
                if dev == "cuda":
                    return
                sync()

            s = t(fn)
            sync()
            lib.ftc_set_gemm_tiles(0)
            lib.ftc_set_compute_mode(0)
            return s

        res["engine_fp32_s"] = engine(0)
        res["engine_bf16_s"] = engine(1)
        res["engine_tf32_s"] = engine(2)
        # Each tensor-core kernel forced (the size rule picks one of them above): 64×64 over fp32 operands,
        # 128×128 over staged operands with the cp.async pipeline (its time includes the staging passes).
        res["engine_bf16_64_s"] = engine(1, 1)
        res["engine_bf16_128_s"] = engine(1, 2)
        res["engine_tf32_128_s"] = engine(2, 2)
        if dev == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            res["torch_fp32_s"] = t(lambda: torch.matmul(x, w.T))
            torch.backends.cuda.matmul.allow_tf32 = True
            res["torch_tf32_s"] = t(lambda: torch.matmul(x, w.T))
            torch.backends.cuda.matmul.allow_tf32 = False
            xb, wb = x.bfloat16(), w.bfloat16()
            res["torch_bf16_s"] = t(lambda: torch.matmul(xb, wb.T))
        for k in [k for k in res if k.endswith("_s") and res[k]]:
            res[k.replace("_s", "_tflops")] = flop / res[k] / 1e12
        rows.append(res)

    attns = [("tiny", 1, 33, 64, 2)] if quick else ATTENTION
    for name, B, S, D, H in attns:
        q, k, v, dout = (torch.randn(B, S, D, device=dev) for _ in range(4))
        out, lse = torch.empty(B, S, D, device=dev), torch.empty(B, H, S, device=dev)
        fs = torch.empty(max(1, lib.ftc_attention_forward_scratch(B, S, D, H)), device=dev)
        bs = torch.empty(max(1, lib.ftc_attention_backward_scratch(B, S, D, H)), device=dev)
        dq, dk, dv = (torch.zeros(B, S, D, device=dev) for _ in range(3))
        res = {"kind": "attention", "shape": name, "B": B, "S": S, "D": D, "H": H}

        def fwd():
            lib.ftc_attention_forward(p(q), p(k), p(v), p(out), p(lse), p(fs), B, S, D, H)

        def fwd_bwd():
            fwd()
            lib.ftc_attention_backward(p(dout), p(q), p(k), p(v), p(out), p(lse), p(dq), p(dk), p(dv), p(bs), B, S, D, H)

        res["engine_fwd_s"] = t(fwd)
        res["engine_fwd_bwd_s"] = t(fwd_bwd)
        sync()
        # The bf16 mode: FlashAttention-2 on tensor cores (fp32 tensors in memory, bf16 operands).
        if lib.ftc_set_compute_mode(1) == 0:
            res["engine_bf16_fwd_s"] = t(fwd)
            res["engine_bf16_fwd_bwd_s"] = t(fwd_bwd)
            sync()
            lib.ftc_set_compute_mode(0)
        if dev == "cuda" and hasattr(Fn, "scaled_dot_product_attention"):
            d = D // H
            for dtype, label in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
                qh, kh, vh = (torch.randn(B, H, S, d, device=dev, dtype=dtype, requires_grad=True) for _ in range(3))
                g = torch.randn(B, H, S, d, device=dev, dtype=dtype)
                res[f"sdpa_{label}_fwd_s"] = t(lambda: Fn.scaled_dot_product_attention(qh, kh, vh, is_causal=True))
                res[f"sdpa_{label}_fwd_bwd_s"] = t(
                    lambda: torch.autograd.backward(Fn.scaled_dot_product_attention(qh, kh, vh, is_causal=True), g))
        rows.append(res)

    for r in rows:
        print(json.dumps(r))
    # Ratios: the engine's time over the peer's (below 1: the engine is faster).
    for r in rows:
        if r["kind"] == "gemm" and r.get("torch_bf16_s") and r.get("engine_bf16_s"):
            print(f"gemm {r['shape']}: engine bf16 {r['engine_bf16_tflops']:.1f} TFLOP/s, torch bf16 {r['torch_bf16_tflops']:.1f}"
                  f" ({r['engine_bf16_tflops'] / r['torch_bf16_tflops']:.0%} of cuBLAS); engine tf32"
                  f" {r.get('engine_tf32_tflops', float('nan')):.1f}, torch tf32 {r['torch_tf32_tflops']:.1f}; engine fp32"
                  f" {r['engine_fp32_tflops']:.1f}, torch fp32 {r['torch_fp32_tflops']:.1f}; engine bf16 64x64"
                  f" {r.get('engine_bf16_64_tflops', float('nan')):.1f}, 128x128 {r.get('engine_bf16_128_tflops', float('nan')):.1f}")
        if r["kind"] == "attention" and r.get("sdpa_bf16_fwd_bwd_s"):
            bf = r.get("engine_bf16_fwd_bwd_s")
            print(f"attention {r['shape']}: engine fwd+bwd fp32 {r['engine_fwd_bwd_s'] * 1e3:.2f} ms, bf16 "
                  f"{bf * 1e3 if bf else float('nan'):.2f} ms ({r['sdpa_bf16_fwd_bwd_s'] / bf if bf else float('nan'):.0%} of"
                  f" SDPA bf16's speed); SDPA bf16 {r['sdpa_bf16_fwd_bwd_s'] * 1e3:.2f} ms, SDPA fp32"
                  f" {r['sdpa_fp32_fwd_bwd_s'] * 1e3:.2f} ms")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        info = {"device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu (emulated kernels)",
                "torch": torch.__version__, "rows": rows}
        with open(os.path.join(a.out, "bench.json.tmp"), "w") as f:
            json.dump(info, f, indent=1)
        os.replace(os.path.join(a.out, "bench.json.tmp"), os.path.join(a.out, "bench.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
