// Fused RoPE attention forward+backward of the engine against PyTorch 1.13 (matmul + masked softmax + matmul,
// rotary as tensor ops, autograd backward) and against the reference backend's attention. The engine has no
// batched matmul (linear is 2-D only and heads are interleaved in [B,S,D]), so an unfused path cannot be
// written with the engine's own ops; the reference backend (plain TypeScript) stands in as the unfused peer.
import type { AttentionDropout, Backend } from '../../src/engine/backend';
import { getBackend } from '../../src/engine/registry';
import { keepsAttentionReserve } from '../../src/model/attention-reserve';
import { Rng } from '../../src/util/random';
import { timeCalls } from '../measure';
import { runTorchPeer, threadLabel, TORCH_CONFIGS, TorchRun, torchRunNote } from '../python-peer';
import { peakShare, Row, Suite, SuiteContext } from '../types';
import { attentionForwardFlops, randTensor } from './util';

function engineFwdBwd(be: Backend, B: number, S: number, D: number, H: number, minTime: number, minCalls = 3, warmup = 3,
  drop?: AttentionDropout) {
  const rng = new Rng(3);
  const q = randTensor(be, [B, S, D], rng), k = randTensor(be, [B, S, D], rng), v = randTensor(be, [B, S, D], rng);
  const out = be.tensor([B, S, D]), lse = be.tensor([B, H, S]);
  const dout = randTensor(be, [B, S, D], rng), dq = be.tensor([B, S, D]), dk = be.tensor([B, S, D]), dv = be.tensor([B, S, D]);
  // The reserve the training step gives the attention at this S (the CPU keeps the probabilities there, as
  // PyTorch's autograd keeps the softmax output for its backward).
  const reserve = keepsAttentionReserve(S, true) ? be.tensor([B, H, S, S]) : null;
  const fwd = timeCalls(() => be.ropeAttention(q, k, v, H, out, lse, drop, reserve), { minTime, minCalls, warmup });
  // The backward writes fresh gradients (overwrite), as the training step calls it and as PyTorch's autograd
  // returns newly allocated ones; no zero pass is needed before it.
  const fb = timeCalls(() => {
    be.ropeAttention(q, k, v, H, out, lse, drop, reserve);
    be.ropeAttentionBackward(dout, q, k, v, out, lse, H, dq, dk, dv, drop, true, reserve);
  }, { minTime, minCalls, warmup });
  for (const t of [q, k, v, out, lse, dout, dq, dk, dv, reserve]) if (t) be.dispose(t);
  return { fwdMs: fwd.medianMs, fwdBwdMs: fb.medianMs, warmup: fb.warmup, reserve: reserve !== null };
}

function reserveNote(kept: boolean): string {
  return kept ? 'probabilities kept for the backward (a reserve, as in training at this S)' : 'probabilities recomputed in the backward (no reserve at this S)';
}

export const attentionSuite: Suite = {
  name: 'attention',
  description: 'fused RoPE attention fwd+bwd vs PyTorch 1.13 and the reference backend',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const be = getBackend(ctx.backend), ref = getBackend('reference');
    const D = 512, H = 8, rows: Row[] = [];
    const cases = ctx.quick ? [{ B: 32, T: 30 }] : [{ B: 32, T: 30 }, { B: 8, T: 256 }];
    const minTime = ctx.quick ? 0.2 : 1;
    for (const { B, T } of cases) {
      const S = T + 1, shape = `B=${B} S=${S} D=${D} H=${H}`;
      // Useful FLOPs: forward 1×, backward 2× (dQ, dK, dV, dP), whatever an implementation recomputes.
      const flops = 3 * attentionForwardFlops(B, S, D);
      const eng = ctx.steady(`engine attention ${shape}`, () => engineFwdBwd(be, B, S, D, H, minTime));
      const peers: { name: string; ms: number }[] = [];
      let torchBest: { ms: number; cfg: string; run: TorchRun } | null = null;
      const tried: string[] = [];
      for (const cfg of ctx.quick ? TORCH_CONFIGS.slice(0, 1) : TORCH_CONFIGS) {
        const r = ctx.steady(`PyTorch attention ${shape} (${threadLabel(cfg)})`, () =>
          runTorchPeer<{ fwdbwd_ms: number } & TorchRun>(['attention', String(B), String(T), String(D), String(H), String(minTime), String(cfg.torch)], cfg, 600_000));
        if (!r.result) {
          ctx.missingPeer('PyTorch', r.skipped ?? 'no result');
          break;
        }
        tried.push(`${cfg.torch}/${cfg.openblas}: ${r.result.fwdbwd_ms.toFixed(1)} ms`);
        if (!torchBest || r.result.fwdbwd_ms < torchBest.ms) torchBest = { ms: r.result.fwdbwd_ms, cfg: threadLabel(cfg), run: r.result };
      }
      if (torchBest) {
        peers.push({ name: 'PyTorch 1.13', ms: torchBest.ms });
        rows.push({ suite: 'attention', figure: 'attention fwd+bwd · PyTorch 1.13 (matmul, masked softmax, matmul)', shape, ms: torchBest.ms,
          rate: flops / torchBest.ms / 1e6, unit: 'GFLOP/s', peer: null, ratio: null, ...peakShare(flops / torchBest.ms / 1e6, ctx.peaks, 'fp32All'),
          note: `best: ${torchBest.cfg}, ${torchRunNote(torchBest.run)} (torch/OpenBLAS threads ${tried.join(', ')})` });
      }
      // The reference backend is plain TypeScript and slow: one timed call, no warm-up.
      const refFb = engineFwdBwd(ref, B, S, D, H, 0, 1, 0).fwdBwdMs;
      peers.push({ name: 'reference backend (TypeScript)', ms: refFb });
      rows.push({ suite: 'attention', figure: 'attention fwd+bwd · reference backend (TypeScript, unfused loops)', shape, ms: refFb,
        rate: flops / refFb / 1e6, unit: 'GFLOP/s', peer: null, ratio: null, ...peakShare(flops / refFb / 1e6, ctx.peaks, 'fp32All'),
        note: 'the engine has no batched matmul, so no unfused engine path exists' });
      const best = peers.reduce((a, p) => (p.ms < a.ms ? p : a));
      const g = flops / eng.fwdBwdMs / 1e6;
      rows.splice(rows.length - peers.length, 0, {
        suite: 'attention', figure: 'ropeAttention fwd+bwd · engine (fused)', shape, ms: eng.fwdBwdMs, rate: g, unit: 'GFLOP/s',
        peer: best.name, ratio: best.ms / eng.fwdBwdMs, ...peakShare(g, ctx.peaks, 'fp32All'),
        note: `forward alone ${eng.fwdMs.toFixed(2)} ms; ${reserveNote(eng.reserve)}; warm-up ${eng.warmup}`,
      });
      // Training runs attention with dropout (p = 0.1 in the fine-tuning presets): its mask is Philox per
      // element, so it is timed too, against the same engine without it (no peer runs this configuration).
      const dropped = ctx.steady(`engine attention with dropout ${shape}`, () =>
        engineFwdBwd(be, B, S, D, H, minTime, 3, 3, { p: 0.1, key: { seed: 1, step: 2, site: 3 } }));
      const gd = flops / dropped.fwdBwdMs / 1e6;
      rows.splice(rows.length - peers.length, 0, {
        suite: 'attention', figure: 'ropeAttention fwd+bwd with attention dropout 0.1 · engine (fused)', shape, ms: dropped.fwdBwdMs,
        rate: gd, unit: 'GFLOP/s', peer: null, ratio: null, ...peakShare(gd, ctx.peaks, 'fp32All'),
        note: `forward alone ${dropped.fwdMs.toFixed(2)} ms; dropout adds ${(100 * (dropped.fwdBwdMs / eng.fwdBwdMs - 1)).toFixed(0)}% ` +
          `(forward ${(100 * (dropped.fwdMs / eng.fwdMs - 1)).toFixed(0)}%) to the engine's own row; warm-up ${dropped.warmup}`,
      });
    }
    return rows;
  },
};
