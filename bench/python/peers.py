"""PyTorch peers of the fairtune benchmark (npm run bench): the attention forward+backward and the whole HR
fine-tuning step of PPG-GPT, with the model of tools/pytorch/ppg_gpt.py (written from DESIGN.md section 3).

Usage:  peers.py attention B T D H seconds torch_threads
        peers.py step SIZE B T seconds torch_threads fp32|bf16
OpenBLAS's own thread count comes from OPENBLAS_NUM_THREADS, set by the caller before Python starts.
Prints one JSON line with the median milliseconds per call.
"""
import ctypes
import json
import math
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pytorch"))

import torch  # noqa: E402

from ppg_gpt import Config, PpgGpt, hr_loss, rope  # noqa: E402

WARMUP_USED = 0
SIZES = {"tiny": (64, 2, 4), "19m": (512, 6, 8), "85m": (768, 12, 12), "345m": (1024, 24, 16), "1b": (2048, 20, 16)}


def warm_up(fn, minimum):
    """Steady state: at least `minimum` calls, then until one is not 3% faster than the best before it
    (PyTorch 1.13's step goes 1176 -> 720 -> 406 -> 166 ms over its first calls). Returns the calls made."""
    best, n = float("inf"), 0
    while True:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        n += 1
        if (n >= minimum and dt > 0.97 * best) or n >= 50:
            return n
        best = min(best, dt)


def blas_kernel():
    """The OpenBLAS core this process dispatched to (openblas_get_corename of the library torch loaded)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.split()[-1].lower() and ".so" in line})
        for lib in libs:
            fn = getattr(ctypes.CDLL(lib), "openblas_get_corename", None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
        return "no OpenBLAS loaded"
    except OSError as e:
        return f"unknown ({e})"


WARMUP = 3


def timed(fn, seconds, min_calls=3):
    global WARMUP_USED
    WARMUP_USED = max(WARMUP_USED, warm_up(fn, WARMUP))
    ms, total = [], 0.0
    while total < seconds or len(ms) < min_calls:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        ms.append(dt * 1e3)
        total += dt
    # Median, fastest, count, and the 10th-percentile call (index (n - 1) // 10 of the sorted times, as
    # bench/measure.ts and gemm_peers.cc take it): the bench's steadiness guard compares the median with it.
    ms.sort()
    return statistics.median(ms), ms[0], len(ms), ms[(len(ms) - 1) // 10]


def attention(B, T, D, H, seconds):
    """Causal attention with partial interleaved RoPE as PyTorch 1.13 can write it (no fused SDPA)."""
    S, d = T + 1, D // H
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(B, S, D, generator=g).requires_grad_() for _ in range(3))
    dout = torch.randn(B, S, D, generator=g)
    causal = torch.ones(S, S, dtype=torch.bool).triu(1)

    def forward():
        def split(t):
            return t.view(B, S, H, d).transpose(1, 2)

        qh, kh, vh = rope(split(q)), rope(split(k)), split(v)
        scores = qh @ kh.transpose(-1, -2) / math.sqrt(d)
        probs = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
        return (probs @ vh).transpose(1, 2).reshape(B, S, D)

    def fwd():
        with torch.no_grad():
            forward()

    def fwd_bwd():
        q.grad = k.grad = v.grad = None
        forward().backward(dout)

    f = timed(fwd, seconds)
    fb = timed(fwd_bwd, seconds)
    return {"fwd_ms": f[0], "fwdbwd_ms": fb[0], "fwdbwd_fast_ms": fb[3], "calls": fb[2]}


def step(size, B, T, seconds, dtype):
    dim, layers, heads = SIZES[size]
    cfg = Config(dim=dim, layers=layers, heads=heads, hr_patches=T)
    torch.manual_seed(1)
    model = PpgGpt(cfg, head_next=False, head_hr=True)
    # The engine's AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, decay 0.01 on matrices only, clip norm 1.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.endswith(".bias")]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.endswith(".bias"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(B, T * cfg.patch)
    hr = 40 + 140 * torch.rand(B)
    w = torch.ones(B)

    def one():
        opt.zero_grad(set_to_none=True)
        if dtype == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                mu, logb, _ = model.forward_hr(x)
            mu, logb = mu.float(), logb.float()
        else:
            mu, logb, _ = model.forward_hr(x)
        _, _, loss = hr_loss(mu, logb, hr, w, cfg.lam, cfg.eps)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"loss is {loss.item()}")

    global WARMUP
    WARMUP = 5  # a training step: at least 5 warm-up steps
    m, best, calls, fast = timed(one, seconds)
    return {"ms": m, "best_ms": best, "fast_ms": fast, "calls": calls, "params": sum(p.numel() for p in model.parameters())}


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    mode = argv[1]
    if mode == "attention" and len(argv) == 8:
        B, T, D, H = (int(a) for a in argv[2:6])
        seconds, threads = float(argv[6]), int(argv[7])
        torch.set_num_threads(threads)
        out = attention(B, T, D, H, seconds)
    elif mode == "step" and len(argv) == 8:
        size, B, T, seconds, threads, dtype = argv[2], int(argv[3]), int(argv[4]), float(argv[5]), int(argv[6]), argv[7]
        if size not in SIZES or dtype not in ("fp32", "bf16"):
            raise SystemExit(f"unknown size '{size}' or dtype '{dtype}'")
        torch.set_num_threads(threads)
        out = step(size, B, T, seconds, dtype)
    else:
        raise SystemExit(__doc__)
    out.update({"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE", ""),
                "blas_kernel": blas_kernel(), "warmup": WARMUP_USED})
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
