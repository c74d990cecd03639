"""Every CUDA kernel family against float64 PyTorch, through the C entry points of tools/gpu/capi.cu.

On a GPU machine (scripts/gpu-check.sh) the kernels run on PyTorch's CUDA tensors; here, test/cuda/gpu-check
loads the same entry points built through the emulation header and runs them on CPU tensors (--device cpu,
--quick shapes), so this driver is itself tested before a GPU runs it. One row per (op, shape, output): the
error max|got − want| / (|want| + mean|want|) against the bound; the exit status is 1 when any row fails.

Usage: check_ops.py --lib libftc.so [--device cuda|cpu] [--quick] [--out DIR]
"""
import argparse
import ctypes
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pytorch"))
from ppg_gpt import hr_loss, rope  # noqa: E402  (the model's own definitions are the oracle)

F32_RTOL = 1e-4  # also the bf16/tf32 GEMMs': their oracle multiplies the same rounded operands in float64

P = ctypes.c_void_p
I = ctypes.c_int64
F = ctypes.c_float


def load(path):
    lib = ctypes.CDLL(path)
    sigs = {
        "ftc_set_compute_mode": ([ctypes.c_int], ctypes.c_int),
        "ftc_set_gemm_tiles": ([ctypes.c_int], ctypes.c_int),
        "ftc_sync": ([], ctypes.c_int),
        "ftc_error_string": ([ctypes.c_int], ctypes.c_char_p),
        "ftc_linear_forward": ([P, P, P, P, I, I, I], None),
        "ftc_linear_backward": ([P, P, P, P, P, P, I, I, I, ctypes.c_int, P], None),
        "ftc_rms_norm_forward": ([P, P, F, P, P, I, I], None),
        "ftc_rms_norm_backward": ([P, P, P, P, P, P, I, I], None),
        "ftc_layer_norm_forward": ([P, P, P, F, P, P, P, I, I], None),
        "ftc_gelu_forward": ([P, P, I], None),
        "ftc_gelu_backward": ([P, P, P, I], None),
        "ftc_attention_forward_scratch": ([I, I, I, I], I),
        "ftc_attention_backward_scratch": ([I, I, I, I], I),
        "ftc_attention_forward": ([P, P, P, P, P, P, I, I, I, I], None),
        "ftc_attention_backward": ([P, P, P, P, P, P, P, P, P, P, I, I, I, I], None),
        "ftc_hr_loss_forward": ([P, P, P, P, F, F, P, P, P, P, P, I, I], None),
        "ftc_hr_loss_backward": ([P, P, P, F, F, P, F, I], None),
        "ftc_adamw": ([P, P, P, P, I, F, F, F, F, F, F, F, F], None),
        "ftc_sum_squares_add": ([P, I, P], None),
        "ftc_store_norm": ([P, P], None),
        "ftc_adamw_clipped": ([P, P, P, P, I, F, F, F, F, F, F, F, P, F], None),
        "ftc_check_values": ([P, I, ctypes.c_int, I, P], None),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    return lib


class Checker:
    def __init__(self, lib, device, seed=1):
        self.lib, self.device, self.rows = lib, device, []
        self.gen = torch.Generator(device="cpu").manual_seed(seed)

    def rand(self, *shape, lo=-1.0, hi=1.0):
        return (lo + (hi - lo) * torch.rand(*shape, generator=self.gen)).float().to(self.device)

    def zeros(self, *shape):
        return torch.zeros(*shape, dtype=torch.float32, device=self.device)

    def sync(self, what):
        code = self.lib.ftc_sync()
        if code != 0:
            raise RuntimeError(f"{what}: {self.lib.ftc_error_string(code).decode()} (error {code})")

    def compare(self, op, shape, name, got, want, rtol):
        # The project's one comparison (test/conformance/compare.ts): |got − want| ≤ rtol·(|want| + mean|want|)
        # elementwise, relative where values are large and at the tensor's own scale where sums cancel.
        got64, want64 = got.detach().double().cpu().reshape(-1), want.detach().double().cpu().reshape(-1)
        if got64.shape != want64.shape:
            raise RuntimeError(f"{op} {shape} {name}: {tuple(got64.shape)} elements, expected {tuple(want64.shape)}")
        scale = want64.abs().mean().item()
        err = ((got64 - want64).abs() / (want64.abs() + scale + 1e-30)).max().item()
        ok = math.isfinite(err) and err <= rtol
        self.rows.append({"op": op, "shape": shape, "output": name, "rel_err": err, "rtol": rtol, "ok": ok})

    def expect(self, op, shape, name, ok):
        # A yes/no output (a value that must be exactly one thing, infinities included).
        self.rows.append({"op": op, "shape": shape, "output": name, "rel_err": 0.0 if ok else float("inf"), "rtol": 0, "ok": bool(ok)})


def p(t):
    return ctypes.c_void_p(t.data_ptr()) if t is not None else None


def bf16(t):
    return t.to(torch.bfloat16).double()


def tf32(t):
    """t rounded to tf32 as cvt.rna.tf32.f32 (nearest, ties away from zero; 10 mantissa bits), as float64."""
    bits = t.float().contiguous().view(torch.int32)
    finite = (bits & 0x7F800000) != 0x7F800000
    rounded = torch.where(finite, (bits + 0x1000) & -0x2000, bits)  # -0x2000 = 0xffffe000 as int32
    return rounded.view(torch.float32).double()


MODES = {"fp32": 0, "bf16": 1, "tf32": 2}


# The tensor-core GEMM kernels (ftc_set_gemm_tiles): 0 chosen by size, 2 the 128×128 cp.async kernel forced.
TILES = {0: "", 2: " 128x128"}


def check_linear(c, shapes, mode, tiles=0):
    op = "linear " + mode + TILES[tiles]
    if c.lib.ftc_set_compute_mode(MODES[mode]) != 0:
        c.rows.append({"op": op, "shape": "-", "output": "-", "rel_err": float("nan"), "rtol": 0,
                       "ok": False, "error": mode + " mode refused: no tensor cores"})
        return
    c.lib.ftc_set_gemm_tiles(tiles)
    try:
        linear_rows(c, shapes, mode, op)
    finally:
        c.lib.ftc_set_gemm_tiles(0)
        c.lib.ftc_set_compute_mode(0)


def linear_rows(c, shapes, mode, op):
    rnd = {"fp32": lambda t: t.double(), "bf16": bf16, "tf32": tf32}[mode]
    rtol = F32_RTOL
    for N, K, M in shapes:
        x, w, b, dy = c.rand(N, K), c.rand(M, K), c.rand(M), c.rand(N, M)
        y, dx, dw, db = c.zeros(N, M), c.zeros(N, K), c.zeros(M, K), c.zeros(M)
        c.lib.ftc_linear_forward(p(x), p(w), p(b), p(y), N, K, M)
        c.lib.ftc_linear_backward(p(dy), p(x), p(w), p(dx), p(dw), p(db), N, K, M, 1, None)
        # The relu backward fused into dx's epilogue: x gates its own gradient (about half of x is ≤ 0).
        dxg = c.rand(N, K)
        c.lib.ftc_linear_backward(p(dy), p(x), p(w), p(dxg), None, None, N, K, M, 1, p(x))
        c.sync(f"linear {N}x{K}x{M}")
        rx, rw, rdy = rnd(x), rnd(w), rnd(dy)
        shape = f"N={N} K={K} M={M}"
        c.compare(op, shape, "y", y, rx @ rw.T + b.double(), rtol)
        rdx = rdy @ rw
        c.compare(op, shape, "dx", dx, rdx, rtol)
        c.compare(op, shape, "dx gated by x > 0", dxg, torch.where(x.double() > 0, rdx, torch.zeros_like(rdx)), rtol)
        c.compare(op, shape, "dw", dw, rdy.T @ rx, rtol)
        c.compare(op, shape, "db", db, dy.double().sum(0), F32_RTOL)


def check_norms(c, shapes):
    eps = 1e-5
    for N, D in shapes:
        x, scale, dy = c.rand(N, D), c.rand(D, lo=0.5, hi=1.5), c.rand(N, D)
        y, rstd, dx, dscale = c.zeros(N, D), c.zeros(N), c.zeros(N, D), c.zeros(D)
        c.lib.ftc_rms_norm_forward(p(x), p(scale), eps, p(y), p(rstd), N, D)
        c.lib.ftc_rms_norm_backward(p(dy), p(x), p(scale), p(rstd), p(dx), p(dscale), N, D)
        gamma, beta = c.rand(D, lo=0.5, hi=1.5), c.rand(D)
        ly, mean, lrstd = c.zeros(N, D), c.zeros(N), c.zeros(N)
        c.lib.ftc_layer_norm_forward(p(x), p(gamma), p(beta), eps, p(ly), p(mean), p(lrstd), N, D)
        c.sync(f"norms {N}x{D}")
        xd = x.double().requires_grad_(True)
        sd = scale.double().requires_grad_(True)
        r = torch.rsqrt(xd.pow(2).mean(-1, keepdim=True) + eps)
        yd = xd * r * sd
        yd.backward(dy.double())
        shape = f"N={N} D={D}"
        c.compare("rmsNorm", shape, "y", y, yd, F32_RTOL)
        c.compare("rmsNorm", shape, "rstd", rstd, r.squeeze(-1), F32_RTOL)
        c.compare("rmsNorm", shape, "dx", dx, xd.grad, F32_RTOL)
        c.compare("rmsNorm", shape, "dscale", dscale, sd.grad, F32_RTOL)
        ref = torch.nn.functional.layer_norm(x.double(), (D,), gamma.double(), beta.double(), eps)
        c.compare("layerNorm", shape, "y", ly, ref, F32_RTOL)
        c.compare("layerNorm", shape, "mean", mean, x.double().mean(-1), F32_RTOL)


def check_gelu(c, sizes):
    for n in sizes:
        x, dy = c.rand(n, lo=-6, hi=6), c.rand(n)
        y, dx = c.zeros(n), c.zeros(n)
        c.lib.ftc_gelu_forward(p(x), p(y), n)
        c.lib.ftc_gelu_backward(p(dy), p(x), p(dx), n)
        c.sync(f"gelu {n}")
        xd = x.double().requires_grad_(True)
        yd = torch.nn.functional.gelu(xd)
        yd.backward(dy.double())
        c.compare("gelu", f"n={n}", "y", y, yd, F32_RTOL)
        c.compare("gelu", f"n={n}", "dx", dx, xd.grad, F32_RTOL)


def attention_reference(q, k, v, H):
    B, S, D = q.shape
    d = D // H

    def split(t):
        return t.view(B, S, H, d).transpose(1, 2)

    qh, kh, vh = rope(split(q)), rope(split(k)), split(v)
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(d)
    causal = torch.ones(S, S, dtype=torch.bool, device=q.device).triu(1)
    scores = scores.masked_fill(causal, float("-inf"))
    lse = torch.logsumexp(scores, dim=-1)  # [B, H, S]
    out = (torch.softmax(scores, dim=-1) @ vh).transpose(1, 2).reshape(B, S, D)
    return out, lse


# The bf16 mode's attention (tensor cores) rounds q, k, v, P, dO and dS: the conformance suite's bound
# (test/conformance/lanes.ts BF16_ATTENTION_RTOL), against the same float64 oracle of the unrounded inputs.
BF16_ATTENTION_RTOL = 0.15


def check_attention(c, shapes, mode):
    bf = mode == "bf16"
    op = "ropeAttention" + (" bf16" if bf else "")
    if c.lib.ftc_set_compute_mode(MODES[mode]) != 0:
        c.rows.append({"op": op, "shape": "-", "output": "-", "rel_err": float("nan"), "rtol": 0,
                       "ok": False, "error": "bf16 mode refused: no bf16 tensor cores"})
        return
    try:
        attention_rows(c, shapes, op, BF16_ATTENTION_RTOL if bf else F32_RTOL)
    finally:
        c.lib.ftc_set_compute_mode(0)


def attention_rows(c, shapes, op, rtol):
    for B, S, D, H in shapes:
        q, k, v, dout = c.rand(B, S, D), c.rand(B, S, D), c.rand(B, S, D), c.rand(B, S, D)
        out, lse = c.zeros(B, S, D), c.zeros(B, H, S)
        fs = c.zeros(max(1, c.lib.ftc_attention_forward_scratch(B, S, D, H)))
        c.lib.ftc_attention_forward(p(q), p(k), p(v), p(out), p(lse), p(fs), B, S, D, H)
        dq, dk, dv = c.zeros(B, S, D), c.zeros(B, S, D), c.zeros(B, S, D)
        bs = c.zeros(max(1, c.lib.ftc_attention_backward_scratch(B, S, D, H)))
        c.lib.ftc_attention_backward(p(dout), p(q), p(k), p(v), p(out), p(lse), p(dq), p(dk), p(dv), p(bs), B, S, D, H)
        c.sync(f"attention B={B} S={S} D={D} H={H}")
        qd, kd, vd = (t.double().requires_grad_(True) for t in (q, k, v))
        ro, rl = attention_reference(qd, kd, vd, H)
        ro.backward(dout.double())
        shape = f"B={B} S={S} D={D} H={H} (d={D // H})"
        for name, got, want in (("out", out, ro), ("lse", lse, rl), ("dq", dq, qd.grad), ("dk", dk, kd.grad),
                                ("dv", dv, vd.grad)):
            c.compare(op, shape, name, got, want, rtol)


def check_hr_loss(c, sizes):
    lam, eps, G = 0.5, 1e-3, 3
    for B in sizes:
        out = c.rand(B, 2, lo=-2, hi=2)
        hr = c.rand(B, lo=25, hi=240)  # beyond both clamps at the ends
        w = c.rand(B, lo=0, hi=1) / B
        group = torch.randint(0, G, (B,), generator=c.gen).float().to(c.device)
        pred, ell, loss, gsum, gcnt, dout = c.zeros(B), c.zeros(B), c.zeros(1), c.zeros(G), c.zeros(G), c.zeros(B, 2)
        c.lib.ftc_hr_loss_forward(p(out), p(hr), p(w), p(group), lam, eps, p(pred), p(ell), p(loss), p(gsum), p(gcnt), B, G)
        c.lib.ftc_hr_loss_backward(p(out), p(hr), p(w), lam, eps, p(dout), 1.0, B)
        c.sync(f"hr loss B={B}")
        od = out.double().requires_grad_(True)
        rp, rell, rloss = hr_loss(od[:, 0], od[:, 1], hr.double(), w.double(), lam, eps)
        rloss.backward()
        g = group.long().cpu()
        rsum = torch.zeros(G, dtype=torch.float64).index_add_(0, g, rell.detach().cpu())
        rcnt = torch.zeros(G, dtype=torch.float64).index_add_(0, g, torch.ones(B, dtype=torch.float64))
        shape = f"B={B} G={G}"
        c.compare("hrLoss", shape, "pred", pred, rp, F32_RTOL)
        c.compare("hrLoss", shape, "sampleLoss", ell, rell, F32_RTOL)
        c.compare("hrLoss", shape, "loss", loss, rloss.reshape(1), F32_RTOL)
        c.compare("hrLoss", shape, "groupSum", gsum, rsum, F32_RTOL)
        c.compare("hrLoss", shape, "groupCount", gcnt, rcnt, 0.0)
        c.compare("hrLoss", shape, "dout", dout, od.grad, F32_RTOL)


def check_optim(c, sizes):
    lr, b1, b2, eps, wd, t = 1e-3, 0.9, 0.999, 1e-8, 0.01, 3
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    for n in sizes:
        param, grad, m, v = c.rand(n), c.rand(n), c.rand(n, lo=-0.1, hi=0.1), c.rand(n, lo=0, hi=0.01)
        p0, m0, v0 = param.double().clone(), m.double().clone(), v.double().clone()
        c.lib.ftc_adamw(p(param), p(grad), p(m), p(v), n, lr, b1, b2, eps, wd, 0.5, bc1, bc2)
        acc = torch.zeros(1, dtype=torch.float64, device=c.device)
        c.lib.ftc_sum_squares_add(p(grad), n, p(acc))
        c.sync(f"adamw n={n}")
        g = 0.5 * grad.double()
        rm, rv = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g * g
        rp = p0 * (1 - lr * wd) - lr * (rm / bc1) / (torch.sqrt(rv / bc2) + eps)
        c.compare("adamw", f"n={n}", "m", m, rm, F32_RTOL)
        c.compare("adamw", f"n={n}", "v", v, rv, F32_RTOL)
        # The update is lr-sized: compare the step taken, not the parameter it is added to.
        c.compare("adamw", f"n={n}", "param step", param.double() - p0, rp - p0, 1e-3)
        c.compare("sumSquares", f"n={n}", "acc", acc, (grad.double() ** 2).sum().reshape(1), 1e-6)
        # Clipping on the device: the norm stored from the accumulator, AdamW scaling by max_norm/norm from it
        # (max_norm half the norm, so the clip applies), and a NaN norm that must leave everything untouched.
        norm = c.zeros(1)
        c.lib.ftc_store_norm(p(acc), p(norm))
        rnorm = (grad.double() ** 2).sum().sqrt()
        max_norm = 0.5 * float(rnorm)
        param, m, v = p0.float().clone(), m0.float().clone(), v0.float().clone()
        c.lib.ftc_adamw_clipped(p(param), p(grad), p(m), p(v), n, lr, b1, b2, eps, wd, bc1, bc2, p(norm), max_norm)
        c.sync(f"adamw clipped n={n}")
        g = grad.double() * (max_norm / rnorm)
        rm, rv = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g * g
        rp = p0 * (1 - lr * wd) - lr * (rm / bc1) / (torch.sqrt(rv / bc2) + eps)
        c.compare("globalNorm", f"n={n}", "norm", norm, rnorm.reshape(1), 1e-6)
        c.compare("adamw clipped", f"n={n}", "m", m, rm, F32_RTOL)
        c.compare("adamw clipped", f"n={n}", "param step", param.double() - p0, rp - p0, 1e-3)
        norm.fill_(float("nan"))
        before = param.clone()
        c.lib.ftc_adamw_clipped(p(param), p(grad), p(m), p(v), n, lr, b1, b2, eps, wd, bc1, bc2, p(norm), max_norm)
        c.sync(f"adamw NaN norm n={n}")
        c.compare("adamw NaN norm", f"n={n}", "param unchanged", param, before, 0.0)


# kernels/cuda/check.cu CheckRule codes.
CHECK_FINITE, CHECK_WEIGHTS, CHECK_GROUP_IDS = 0, 3, 5


def check_device_checks(c, sizes):
    for n in sizes:
        for rule, name, bad in [(CHECK_FINITE, "finite", float("inf")), (CHECK_GROUP_IDS, "groupIds", 2.5)]:
            x = c.rand(n, lo=0, hi=1.99).floor() if rule == CHECK_GROUP_IDS else c.rand(n)
            slot = c.zeros(2)
            c.lib.ftc_check_values(p(x), n, rule, 2, p(slot))
            c.sync(f"check {name} n={n} (passing)")
            c.compare("deviceCheck " + name, f"n={n} passing", "slot", slot, torch.zeros(2, dtype=torch.float64), 0.0)
            # Two bad values: the slot names the first (index + 1) and the value found there.
            first, second = n // 3, n - 1
            x[second] = bad
            x[first] = bad
            c.lib.ftc_check_values(p(x), n, rule, 2, p(slot))
            c.sync(f"check {name} n={n} (failing)")
            got = slot.double().cpu().tolist()
            c.expect("deviceCheck " + name, f"n={n} failing", "first index, value", got[0] == first + 1 and got[1] == bad)
        w, slot = c.zeros(n), c.zeros(2)
        c.lib.ftc_check_values(p(w), n, CHECK_WEIGHTS, 0, p(slot))
        c.sync(f"check weights n={n} (all zero)")
        c.compare("deviceCheck weights", f"n={n} all zero", "slot", slot, torch.tensor([n + 1, 0], dtype=torch.float64), 0.0)


# Shapes: --quick is for the emulator (every edge, small); the full set adds the model sizes' layers (19m D=512,
# 1b D=2048, the HR head's K = 11·D, attention at the 19m, 85m and 1b head dims (64 and 128) and S up to 1024).
QUICK = {
    "linear": [(1, 1, 1), (7, 13, 17), (31, 20, 65), (33, 64, 96), (5, 300, 3)],
    "norms": [(1, 2), (7, 33), (5, 512)],  # D = 1: the RMS gradient cancels to zero exactly, float32 cannot
    "gelu": [1, 1000],
    # S ≥ 2: at S = 1 dq and dk are exactly zero (P = 1, dS = P·(dP − D) = 0), float32 leaves rounding there
    "attention": [(1, 2, 16, 1), (2, 7, 32, 2), (1, 33, 64, 2), (1, 9, 256, 2)],
    "hr": [1, 9, 64],
    "optim": [1, 1000, 70000],
    "checks": [1, 300, 5000],
}
FULL = {
    "linear": QUICK["linear"] + [(97, 129, 33), (130, 40, 600), (992, 512, 512), (992, 512, 2048), (992, 2048, 512),
                                 (2, 5632, 2), (992, 2048, 8192), (2, 22528, 2)],
    "norms": QUICK["norms"] + [(992, 512), (992, 2048)],
    "gelu": QUICK["gelu"] + [992 * 2048],
    "attention": QUICK["attention"] + [(32, 31, 512, 8), (4, 256, 768, 12), (2, 1024, 512, 8), (4, 31, 2048, 16),
                                       (2, 1024, 1024, 8)],
    "hr": QUICK["hr"] + [1024],
    "optim": QUICK["optim"] + [19_000_000],
    "checks": QUICK["checks"] + [1 << 20],
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True, help="the built entry points (libftc.so)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--quick", action="store_true", help="small shapes only (the emulator)")
    ap.add_argument("--out", default=None, help="folder for ops.json and ops.tsv")
    a = ap.parse_args(argv)
    if a.device == "cuda" and not torch.cuda.is_available():
        print("check_ops: torch.cuda is not available", file=sys.stderr)
        return 2
    c = Checker(load(a.lib), a.device)
    shapes = QUICK if a.quick else FULL
    for run in (lambda: check_linear(c, shapes["linear"], "fp32"), lambda: check_linear(c, shapes["linear"], "bf16"),
                lambda: check_linear(c, shapes["linear"], "tf32"),
                lambda: check_linear(c, shapes["linear"], "bf16", 2),
                # The tf32 instance of the 128×128 kernel on the GPU only (the emulator runs it slowly, and
                # emu_test gemm_tc_large_tf32 checks it here).
                lambda: a.quick or check_linear(c, shapes["linear"], "tf32", 2),
                lambda: check_norms(c, shapes["norms"]), lambda: check_gelu(c, shapes["gelu"]),
                lambda: check_attention(c, shapes["attention"], "fp32"),
                lambda: check_attention(c, shapes["attention"], "bf16"), lambda: check_hr_loss(c, shapes["hr"]),
                lambda: check_optim(c, shapes["optim"]),
                lambda: check_device_checks(c, shapes["checks"])):
        try:
            run()
        except Exception as e:  # one family failing must not hide the others
            c.rows.append({"op": "error", "shape": "-", "output": "-", "rel_err": float("nan"), "rtol": 0, "ok": False,
                           "error": str(e)})
    bad = [r for r in c.rows if not r["ok"]]
    for r in c.rows:
        mark = "ok  " if r["ok"] else "FAIL"
        print(f"{mark} {r['op']:<14} {r['shape']:<28} {r['output']:<11} {r['rel_err']:.2e} (bound {r['rtol']:.0e})"
              + (f" {r['error']}" if "error" in r else ""))
    print(f"check_ops: {len(c.rows) - len(bad)}/{len(c.rows)} outputs within bounds on {a.device}")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "ops.json.tmp"), "w") as f:
            json.dump(c.rows, f, indent=1)
        os.replace(os.path.join(a.out, "ops.json.tmp"), os.path.join(a.out, "ops.json"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
