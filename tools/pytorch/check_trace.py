"""Checks a `fairtune trace` file (DESIGN.md section 3, trace format) against the PyTorch PPG-GPT.

    /usr/bin/python3 tools/pytorch/check_trace.py TRACE.safetensors [MORE ...] [--tol 1e-4] [--top 12]

For each file: builds the model from __metadata__.config, loads every parameter by name (strict: a missing,
extra or misshapen name is an error), runs forward in float64 on `x`, computes the HR loss as the design
states it, back-propagates, and compares out.mu, out.logb, out.pred, out.loss and every grad.<name> with
the trace. The error of a tensor is max|engine − torch| / max|torch| (relative to the tensor's scale, so
float32 rounding of tiny entries does not count against it).

ReLU masks. A trace carries, per layer, which linear1 units the engine's ReLU passed
(`mask.gpt_layers.{i}.ffn.relu`, U8). At real sizes a few of the millions of pre-activations lie within
float32 rounding of zero; float32 and float64 then put them on opposite sides, which switches that unit's
gradient wholesale and no tolerance can absorb it. So the float64 model takes ReLU's branch from the engine's
masks, and every unit whose mask disagrees with the float64 sign is reported on its own, with |z| relative
to the layer's median |z|. Such a disagreement is accepted only below --flip-tol (1e-5): a unit further from
zero than float32 rounding can explain is a defect, not a boundary case. A trace without masks is compared
with plain ReLU (and says so).

Exit status: 0 all files agree within the tolerances, 1 some tensor or mask disagrees, 2 a file is unusable.
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
MASK_PREFIX = "mask."
RELU_MASK = "gpt_layers.{}.ffn.relu"


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
    params = {n: t for n, t in tensors.items()
              if n not in DATA and n not in OUTPUTS and not n.startswith("grad.") and not n.startswith(MASK_PREFIX)}
    grads = {n[len("grad."):]: t for n, t in tensors.items() if n.startswith("grad.")}
    if set(grads) != set(params):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise TraceError(f"{path}: gradients do not match parameters (no gradient for {missing}; gradient without parameter {extra})")
    masks = {n[len(MASK_PREFIX):]: t for n, t in tensors.items() if n.startswith(MASK_PREFIX)}
    if masks:
        want = {RELU_MASK.format(i) for i in range(cfg.layers)}
        if set(masks) != want:
            raise TraceError(f"{path}: the trace's masks {sorted(masks)} are not one ReLU mask per layer ({sorted(want)})")
        for n, t in masks.items():
            if t.dtype != torch.uint8 or (t.numel() and int(t.max()) > 1):
                raise TraceError(f"{path}: mask '{n}' must be U8 of 0s and 1s, got {t.dtype}")
    return cfg, params, grads, {n: tensors[n] for n in DATA + OUTPUTS}, masks, meta


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


def mask_disagreements(model, masks):
    """Units whose engine mask differs from the float64 sign of their pre-activation: a list of
    (layer, flat index, z, |z| / median |z| of the layer), largest relative |z| first."""
    found = []
    for i, block in enumerate(model.gpt_layers):
        z = block.ffn.pre_relu
        m = masks[RELU_MASK.format(i)].reshape(z.shape).bool()
        bad = ((z > 0) != m).reshape(-1).nonzero().reshape(-1)
        if bad.numel() == 0:
            continue
        median = z.abs().median().item()
        flat = z.reshape(-1)
        for j in bad.tolist():
            v = flat[j].item()
            found.append((i, j, v, abs(v) / median if median > 0 else float("inf")))
    found.sort(key=lambda t: -t[3])
    return found


def check(path, tol, top, flip_tol):
    cfg, params, grads, data, masks, meta = load_trace(path)
    model = build_model(cfg, params, path)
    x, y, w = data["x"].double(), data["y"].double(), data["w"].double()
    B = x.shape[0]
    if x.dim() != 2 or y.shape != (B,) or w.shape != (B,):
        raise TraceError(f"{path}: x {list(x.shape)}, y {list(y.shape)}, w {list(w.shape)}: expected [B, T·P], [B], [B]")
    if x.shape[1] != cfg.hr_patches * cfg.patch:
        raise TraceError(f"{path}: x has {x.shape[1]} samples per window but the HR head is built for "
                         f"{cfg.hr_patches} patches of {cfg.patch}")

    if masks:
        for i, block in enumerate(model.gpt_layers):
            block.ffn.relu_mask = masks[RELU_MASK.format(i)].bool()
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
    flips = mask_disagreements(model, masks) if masks else []
    bad_flips = [f for f in flips if not (f[3] < flip_tol)]
    if not masks:
        print("  no ReLU masks in the trace: compared with plain float64 ReLU")
    else:
        units = sum(m.numel() for m in masks.values())
        print(f"  ReLU masks: {len(flips)} of {units} units disagree with the float64 sign "
              f"(accepted below |z|/median|z| = {flip_tol:g})")
        shown_flips = flips[:top] + [f for f in bad_flips if f not in flips[:top]]
        for layer, j, v, rel in shown_flips:
            flag = "  FAIL" if not (rel < flip_tol) else ""
            print(f"    layer {layer} unit {j}: float64 z = {v:.3e}, engine mask {0 if v > 0 else 1}, "
                  f"|z|/median {rel:.3e}{flag}")
    over = []
    if failed:
        over.append(f"{len(failed)} tensor{'s' if len(failed) != 1 else ''} over")
    if bad_flips:
        over.append(f"{len(bad_flips)} mask disagreement{'s' if len(bad_flips) != 1 else ''} beyond rounding")
    print(f"  {len(rows)} tensors compared, worst {rows[0][1]} at {rows[0][0]:.3e} (tolerance {tol:g}): "
          f"{'FAIL (' + ', '.join(over) + ')' if over else 'ok'}")
    return not over, rows, flips


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="trace .safetensors files written by `fairtune trace`")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest accepted relative error per tensor")
    ap.add_argument("--top", type=int, default=12, help="worst tensors to list per file")
    ap.add_argument("--flip-tol", type=float, default=1e-5,
                    help="largest |z|/median|z| at which a ReLU mask may disagree with the float64 sign")
    ap.add_argument("--json", metavar="FILE",
                    help="also write {file: {tensors: {tensor: relative error}, mask_disagreements: [...]}} here")
    a = ap.parse_args(argv)
    if not (a.tol > 0):
        ap.error(f"--tol must be positive, got {a.tol}")
    if not (a.flip_tol >= 0):
        ap.error(f"--flip-tol must be non-negative, got {a.flip_tol}")
    torch.set_default_dtype(torch.float64)
    ok, report = True, {}
    for f in a.files:
        try:
            good, rows, flips = check(f, a.tol, a.top, a.flip_tol)
        except (OSError, SafetensorsError, TraceError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ok = ok and good
        report[f] = {"tensors": {n: rel for rel, n, _, _ in rows},
                     "mask_disagreements": [{"layer": l, "unit": j, "z": v, "rel_z": r} for l, j, v, r in flips]}
    if a.json:
        tmp = f"{a.json}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            json.dump(report, fh, indent=1)
        os.replace(tmp, a.json)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
