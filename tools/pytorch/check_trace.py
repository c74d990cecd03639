"""Checks a `fairtune trace` file (DESIGN.md section 3, trace format) against the PyTorch PPG-GPT.

    /usr/bin/python3 tools/pytorch/check_trace.py TRACE.safetensors [MORE ...] [--tol 1e-4] [--top 12]

For each file: builds the model from __metadata__.config, loads every parameter by name (strict: a missing,
extra or misshapen name is an error), runs forward in float64 on `x`, computes the HR loss as the design
states it, back-propagates, and compares out.mu, out.logb, out.pred, out.loss and every grad.<name> with
the trace. The error of a tensor is max|engine − torch| / max|torch| (relative to the tensor's scale, so
float32 rounding of tiny entries does not count against it).

Exit status: 0 all files agree within the tolerance, 1 some tensor disagrees, 2 a file is unusable.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppg_gpt import Config, PpgGpt, hr_loss  # noqa: E402
from safetensors_io import SafetensorsError, read_safetensors  # noqa: E402

DATA = ("x", "y", "w")
OUTPUTS = ("out.mu", "out.logb", "out.pred", "out.loss")


class TraceError(ValueError):
    pass


def load_trace(path):
    tensors, meta = read_safetensors(path)
    if "config" not in meta:
        raise TraceError(f"{path}: __metadata__ has no 'config' (not a fairtune trace)")
    try:
        cfg = Config.from_json(json.loads(meta["config"]))
    except (json.JSONDecodeError, ValueError) as e:
        raise TraceError(f"{path}: bad model config in __metadata__.config: {e}")
    for n in DATA + OUTPUTS:
        if n not in tensors:
            raise TraceError(f"{path}: trace lacks tensor '{n}'")
    params = {n: t for n, t in tensors.items() if n not in DATA and n not in OUTPUTS and not n.startswith("grad.")}
    grads = {n[len("grad."):]: t for n, t in tensors.items() if n.startswith("grad.")}
    if set(grads) != set(params):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise TraceError(f"{path}: gradients do not match parameters (no gradient for {missing}; gradient without parameter {extra})")
    return cfg, params, grads, {n: tensors[n] for n in DATA + OUTPUTS}, meta


def build_model(cfg, params, path):
    model = PpgGpt(cfg, head_next=any(n.startswith("head_next.") for n in params),
                   head_hr=any(n.startswith("head_hr.") for n in params)).double()
    if model.head_hr is None:
        raise TraceError(f"{path}: the trace has no head_hr.* parameters (an HR trace needs the HR head)")
    want = model.state_dict()
    for n, t in params.items():
        if n in want and tuple(want[n].shape) != tuple(t.shape):
            raise TraceError(f"{path}: parameter '{n}' has shape {list(t.shape)}, the design says {list(want[n].shape)}")
    try:
        model.load_state_dict({n: t.double() for n, t in params.items()}, strict=True)
    except RuntimeError as e:
        raise TraceError(f"{path}: parameter names do not match the design: {e}")
    return model


def rel_err(engine, ref):
    engine = engine.double().reshape(-1)
    ref = ref.double().reshape(-1)
    if engine.shape != ref.shape:
        return float("inf"), float("inf"), 0.0
    err = (engine - ref).abs().max().item() if ref.numel() else 0.0
    if not torch.isfinite(engine).all():
        return float("inf"), float("inf"), ref.abs().max().item()
    scale = ref.abs().max().item() if ref.numel() else 0.0
    # An all-zero reference gradient: the absolute error is the only meaningful measure.
    return (err / scale if scale > 0 else err), err, scale


def check(path, tol, top):
    cfg, params, grads, data, meta = load_trace(path)
    model = build_model(cfg, params, path)
    x, y, w = data["x"].double(), data["y"].double(), data["w"].double()
    B = x.shape[0]
    if x.dim() != 2 or y.shape != (B,) or w.shape != (B,):
        raise TraceError(f"{path}: x {list(x.shape)}, y {list(y.shape)}, w {list(w.shape)}: expected [B, T·P], [B], [B]")
    if x.shape[1] != cfg.hr_patches * cfg.patch:
        raise TraceError(f"{path}: x has {x.shape[1]} samples per window but the HR head is built for "
                         f"{cfg.hr_patches} patches of {cfg.patch}")

    model.zero_grad()
    mu, logb, _ = model.forward_hr(x)
    pred, _, loss = hr_loss(mu, logb, y, w, cfg.lam, cfg.eps)
    loss.backward()

    ref = {"out.mu": mu.detach(), "out.logb": logb.detach(), "out.pred": pred.detach(), "out.loss": loss.detach().reshape(1)}
    named = dict(model.named_parameters())
    for n in params:
        g = named[n].grad
        ref[f"grad.{n}"] = g if g is not None else torch.zeros_like(named[n])
    engine = {**{n: data[n] for n in OUTPUTS}, **{f"grad.{n}": t for n, t in grads.items()}}

    rows = []
    for n, r in ref.items():
        e = engine[n]
        if e.numel() != r.numel():
            raise TraceError(f"{path}: '{n}' has {e.numel()} elements, expected {r.numel()}")
        rel, abs_err, scale = rel_err(e, r)
        rows.append((rel, n, abs_err, scale))
    rows.sort(key=lambda t: (-(t[0] if t[0] == t[0] else float("inf")), t[1]))  # NaN sorts as the worst
    failed = [r for r in rows if not (r[0] <= tol)]

    print(f"{path}: backend {meta.get('backend', '?')}, seed {meta.get('seed', '?')}, D={cfg.dim} L={cfg.layers} "
          f"H={cfg.heads} T={cfg.hr_patches} B={B}; loss engine {data['out.loss'].item():.9g} torch {loss.item():.9g}")
    print(f"  {'tensor':<44} {'rel err':>10} {'abs err':>10} {'max|torch|':>10}")
    shown = rows[:top] + [r for r in failed if r not in rows[:top]]
    for rel, n, abs_err, scale in shown:
        flag = "  FAIL" if not (rel <= tol) else ""
        print(f"  {n:<44} {rel:10.3e} {abs_err:10.3e} {scale:10.3e}{flag}")
    print(f"  {len(rows)} tensors compared, worst {rows[0][1]} at {rows[0][0]:.3e} (tolerance {tol:g}): "
          f"{'FAIL (' + str(len(failed)) + ' over)' if failed else 'ok'}")
    return not failed, rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="trace .safetensors files written by `fairtune trace`")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest accepted relative error per tensor")
    ap.add_argument("--top", type=int, default=12, help="worst tensors to list per file")
    ap.add_argument("--json", metavar="FILE", help="also write {file: {tensor: relative error}} here")
    a = ap.parse_args(argv)
    if not (a.tol > 0):
        ap.error(f"--tol must be positive, got {a.tol}")
    torch.set_default_dtype(torch.float64)
    ok, report = True, {}
    for f in a.files:
        try:
            good, rows = check(f, a.tol, a.top)
        except (OSError, SafetensorsError, TraceError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ok = ok and good
        report[f] = {n: rel for rel, n, _, _ in rows}
    if a.json:
        tmp = f"{a.json}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            json.dump(report, fh, indent=1)
        os.replace(tmp, a.json)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
