"""Runs a fairtune model checkpoint (`fairtune.model/1`) through the PyTorch PPG-GPT and prints its HR
outputs as JSON, so that they can be compared with the engine's predictions on the same windows.

    /usr/bin/python3 tools/pytorch/check_checkpoint.py MODEL.safetensors WINDOWS.safetensors [--out FILE]

WINDOWS holds `x` [N, T·P]: min–max scaled windows exactly as the model takes them (T = the checkpoint's
hrPatches). Output: {"n": N, "mu": [...], "logb": [...], "pred": [...]} computed in float64.
Exit status: 0 on success, 2 when a file is unusable (the message names what is wrong).
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppg_gpt import Config, PpgGpt, hr_prediction  # noqa: E402
from safetensors_io import SafetensorsError, read_safetensors  # noqa: E402

FORMAT = "fairtune.model/1"


class CheckpointError(ValueError):
    pass


def load_model(path):
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a fairtune model checkpoint (format {meta.get('format')!r}, expected {FORMAT})")
    try:
        cfg = Config.from_json(json.loads(meta["config"]))
        heads = json.loads(meta.get("heads", '{"next": true, "hr": true}'))
    except (KeyError, json.JSONDecodeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad config in the metadata: {e}")
    model = PpgGpt(cfg, head_next=bool(heads.get("next")), head_hr=bool(heads.get("hr"))).double()
    for n, t in tensors.items():
        if not t.is_floating_point():
            raise CheckpointError(f"{path}: parameter '{n}' has dtype {t.dtype}, expected floating point")
    try:
        model.load_state_dict({n: t.double() for n, t in tensors.items()}, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: parameters do not match the design's names and shapes: {e}")
    model.eval()
    return model


def load_windows(path, cfg):
    tensors, _ = read_safetensors(path)
    if "x" not in tensors:
        raise CheckpointError(f"{path}: no tensor 'x' (expected x [N, T·P] of scaled windows)")
    x = tensors["x"].double()
    want = cfg.hr_patches * cfg.patch
    if x.dim() != 2 or x.shape[1] != want:
        raise CheckpointError(f"{path}: x is {list(x.shape)}, expected [N, {want}] ({cfg.hr_patches} patches of {cfg.patch})")
    if not torch.isfinite(x).all():
        raise CheckpointError(f"{path}: x holds non-finite values")
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("windows")
    ap.add_argument("--out", help="write the JSON here (atomically) instead of stdout")
    a = ap.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    try:
        model = load_model(a.checkpoint)
        if model.head_hr is None:
            raise CheckpointError(f"{a.checkpoint}: the checkpoint has no HR head")
        x = load_windows(a.windows, model.cfg)
    except (OSError, SafetensorsError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with torch.no_grad():
        mu, logb, _ = model.forward_hr(x)
        pred = hr_prediction(mu, model.cfg.eps)
    for name, t in (("mu", mu), ("logb", logb)):
        if not all(math.isfinite(v) for v in t.tolist()):
            print(f"error: {name} is not finite", file=sys.stderr)
            return 2
    text = json.dumps({"n": x.shape[0], "mu": mu.tolist(), "logb": logb.tolist(), "pred": pred.tolist()})
    if a.out:
        tmp = f"{a.out}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, a.out)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
