"""PPG-GPT written plainly in PyTorch from DESIGN.md section 3: the independent reference that the
fairtune engine's traces and checkpoints are checked against. Submodules are named so that state_dict keys
are exactly the DESIGN parameter names (patch_embed.weight, gpt_layers.{i}.attn.w_q.weight, head_hr.norm.weight, ...).

Deliberately not a port of the TypeScript/C++ engine: every formula below is read off the design text.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    dim: int
    layers: int
    heads: int
    patch: int = 40
    hr_patches: int = 10
    ffn_mult: int = 4
    rms_eps: float = 1e-8
    ln_eps: float = 1e-5
    lam: float = 1.0
    eps: float = 0.1

    @staticmethod
    def from_json(c):
        """From the engine's config JSON (camelCase keys; unknown keys such as maxPatches or dropout ignored)."""
        for k in ("dim", "layers", "heads"):
            if k not in c:
                raise ValueError(f"model config lacks '{k}': {c}")
        cfg = Config(
            dim=int(c["dim"]),
            layers=int(c["layers"]),
            heads=int(c["heads"]),
            patch=int(c.get("patch", 40)),
            hr_patches=int(c.get("hrPatches", 10)),
            ffn_mult=int(c.get("ffnMult", 4)),
            rms_eps=float(c.get("rmsEps", 1e-8)),
            ln_eps=float(c.get("lnEps", 1e-5)),
            lam=float(c.get("lambda", 1.0)),
            eps=float(c.get("eps", 0.1)),
        )
        if cfg.dim % cfg.heads != 0 or (cfg.dim // cfg.heads) % 4 != 0:
            raise ValueError(f"dim {cfg.dim} with {cfg.heads} heads: head dim must be an integer multiple of 4")
        return cfg


class RMSNorm(nn.Module):
    """y = x · rsqrt(mean(x²) + ε) · scale over the last axis, no bias."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.scale


def rope(x):
    """Partial interleaved rotary embedding on x [B, H, S, d]: the first r = d/2 features form pairs
    (2j, 2j+1), j < r/2, rotated by pos · 10000^(−2j/r), pos the token index; features r..d−1 pass."""
    S, d = x.shape[-2], x.shape[-1]
    r = d // 2
    j = torch.arange(r // 2, dtype=x.dtype, device=x.device)
    inv_freq = torch.pow(torch.tensor(10000.0, dtype=x.dtype), -2.0 * j / r)
    pos = torch.arange(S, dtype=x.dtype, device=x.device)
    angle = pos[:, None] * inv_freq[None, :]  # [S, r/2]
    cos, sin = torch.cos(angle), torch.sin(angle)
    x0 = x[..., 0:r:2]
    x1 = x[..., 1:r:2]
    y0 = x0 * cos - x1 * sin
    y1 = x1 * cos + x0 * sin
    rotated = torch.stack((y0, y1), dim=-1).flatten(-2)  # re-interleave: (y0_0, y1_0, y0_1, y1_1, ...)
    return torch.cat((rotated, x[..., r:]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D = cfg.dim
        self.heads = cfg.heads
        self.w_q = nn.Linear(D, D)
        self.w_k = nn.Linear(D, D)
        self.w_v = nn.Linear(D, D)
        self.w_concat = nn.Linear(D, D)

    def forward(self, a):
        B, S, D = a.shape
        H = self.heads
        d = D // H

        def split(t):  # [B, S, D] -> [B, H, S, d]; head h owns features [h·d, (h+1)·d)
            return t.view(B, S, H, d).transpose(1, 2)

        q = rope(split(self.w_q(a)))
        k = rope(split(self.w_k(a)))
        v = split(self.w_v(a))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d)
        causal = torch.ones(S, S, dtype=torch.bool, device=a.device).triu(1)
        probs = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
        merged = (probs @ v).transpose(1, 2).reshape(B, S, D)
        return self.w_concat(merged)


class FeedForward(nn.Module):
    """linear2(relu(linear1(a))). A checker may set `relu_mask` (bool, the shape of linear1's output) to
    take ReLU's branch from another implementation's forward instead of this one's sign: z·mask has ReLU's
    value and gradient wherever the two agree. `pre_relu` keeps linear1's output of the last forward."""

    def __init__(self, cfg):
        super().__init__()
        self.linear1 = nn.Linear(cfg.dim, cfg.ffn_mult * cfg.dim)
        self.linear2 = nn.Linear(cfg.ffn_mult * cfg.dim, cfg.dim)
        self.relu_mask = None
        self.pre_relu = None

    def forward(self, a):
        z = self.linear1(a)
        self.pre_relu = z.detach()
        if self.relu_mask is None:
            return self.linear2(torch.relu(z))
        if self.relu_mask.shape != z.shape:
            raise ValueError(f"ReLU mask of shape {list(self.relu_mask.shape)} for activations {list(z.shape)}")
        return self.linear2(z * self.relu_mask.to(z.dtype))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm1 = RMSNorm(cfg.dim, cfg.rms_eps)
        self.attn = Attention(cfg)
        self.norm2 = RMSNorm(cfg.dim, cfg.rms_eps)
        self.ffn = FeedForward(cfg)

    def forward(self, h):
        h = h + self.attn(self.norm1(h))
        return h + self.ffn(self.norm2(h))


class HrHead(nn.Module):
    """z = gelu(layernorm(h.flatten(1))) over S·D; (μ, log b) = linear(z)."""

    def __init__(self, cfg):
        super().__init__()
        SD = (cfg.hr_patches + 1) * cfg.dim
        self.norm = nn.LayerNorm(SD, eps=cfg.ln_eps)
        self.linear = nn.Linear(SD, 2)

    def forward(self, h):
        flat = h.flatten(1)
        if flat.shape[1] != self.norm.normalized_shape[0]:
            raise ValueError(f"HR head spans S·D = {self.norm.normalized_shape[0]} but the input gives {flat.shape[1]}")
        z = F.gelu(self.norm(flat))  # exact (erf) GELU, PyTorch's default
        return self.linear(z), z


class PpgGpt(nn.Module):
    def __init__(self, cfg, head_next=True, head_hr=True):
        super().__init__()
        self.cfg = cfg
        D, P = cfg.dim, cfg.patch
        self.patch_embed = nn.Linear(P, D)
        self.start_token = nn.Parameter(torch.zeros(D))
        self.gpt_layers = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.head_next = nn.Linear(D, 2 * P) if head_next else None
        self.head_hr = HrHead(cfg) if head_hr else None

    def encode(self, x):
        """x [B, T·P] min–max scaled windows -> final hidden states h [B, T+1, D] (no final norm)."""
        B, L = x.shape
        P = self.cfg.patch
        if L % P != 0:
            raise ValueError(f"windows of {L} samples are not whole patches of {P}")
        e = self.patch_embed(x.view(B, L // P, P))
        h = torch.cat((self.start_token.expand(B, 1, -1), e), dim=1)
        for block in self.gpt_layers:
            h = block(h)
        return h

    def forward_hr(self, x):
        """Returns (μ [B], log b [B], z [B, S·D])."""
        if self.head_hr is None:
            raise ValueError("this model has no HR head")
        out, z = self.head_hr(self.encode(x))
        return out[:, 0], out[:, 1], z

    def forward_next(self, x):
        """[B, S, 2P]: channels [0, P) μ, [P, 2P) log b of the next patch's samples."""
        if self.head_next is None:
            raise ValueError("this model has no next-patch head")
        return self.head_next(self.encode(x))


def hr_prediction(mu, eps):
    """The logit-Laplace median in bpm: 30 + 200 · (sigmoid(μ) − ε)/(1 − 2ε)."""
    return 30 + 200 * (torch.sigmoid(mu) - eps) / (1 - 2 * eps)


def logit_laplace_nll(u, mu, logb):
    b = torch.exp(logb)
    logit_u = torch.log(u) - torch.log1p(-u)
    return torch.log(2 * b) + torch.log(u * (1 - u)) + torch.abs(logit_u - mu) / b


def hr_loss(mu, logb, hr, w, lam, eps):
    """Returns (pred [B], per-sample ℓ [B], loss = Σ w·ℓ: the weights are the caller's, 1/B for a mean)."""
    v = (torch.clamp(hr, 30, 230) - 30) / 200
    u = (1 - 2 * eps) * v + eps
    pred = hr_prediction(mu, eps)
    ell = torch.abs(pred - hr) + lam * logit_laplace_nll(u, mu, logb)
    return pred, ell, (w * ell).sum()
