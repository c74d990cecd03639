// The HR fine-tuning loss (DESIGN.md section 3): per window out = (μ, log b); the point estimate is the
// median of the logit-Laplace, pred = 30 + 200·(sigmoid(μ) − ε)/(1 − 2ε); per sample
// ℓ = |pred − hr| + λ·NLL(v) with v = (clamp(hr, 30, 230) − 30)/200; the batch loss is Σ w·ℓ, with the
// weights the caller's (1/B for a mean; GroupDRO's q_g/count_g, so an absent group contributes nothing).
// The L1 term uses the raw label (only the NLL needs it inside the model's [30, 230] range).
import { LaplaceTarget, laplaceTarget, logitLaplaceNll, nllGradLogb, nllGradMu, sigmoid } from './logit-laplace';
import type { Vec } from './types';

export interface HrLossParams {
  lambda: number;
  eps: number;
}

export const HR_MIN = 30;
export const HR_RANGE = 200;

export function hrTarget(hr: number, eps: number): LaplaceTarget {
  const clamped = Math.min(Math.max(hr, HR_MIN), HR_MIN + HR_RANGE);
  return laplaceTarget((clamped - HR_MIN) / HR_RANGE, eps);
}

export function hrPrediction(mu: number, eps: number): number {
  return HR_MIN + (HR_RANGE * (sigmoid(mu) - eps)) / (1 - 2 * eps);
}

export function hrSampleLoss(mu: number, logb: number, hr: number, opts: HrLossParams): number {
  return Math.abs(hrPrediction(mu, opts.eps) - hr) + opts.lambda * logitLaplaceNll(hrTarget(hr, opts.eps), mu, logb);
}

/** Forward: writes pred, sampleLoss, loss[0], groupLossSum and groupCount (group ids already validated). */
export function hrLossForward(
  out: Vec, hr: Vec, w: Vec, group: Vec, B: number, G: number, opts: HrLossParams,
  pred: Vec, sampleLoss: Vec, loss: Vec, groupLossSum: Vec, groupCount: Vec,
): void {
  const sums = new Float64Array(G);
  const counts = new Float64Array(G);
  let num = 0;
  for (let i = 0; i < B; i++) {
    const mu = out[2 * i], logb = out[2 * i + 1];
    const l = hrSampleLoss(mu, logb, hr[i], opts);
    pred[i] = hrPrediction(mu, opts.eps);
    sampleLoss[i] = l;
    num += w[i] * l;
    sums[group[i]] += l;
    counts[group[i]] += 1;
  }
  loss[0] = num;
  for (let g = 0; g < G; g++) {
    groupLossSum[g] = sums[g];
    groupCount[g] = counts[g];
  }
}

/** dout[B,2] += scale·∂(Σ w·ℓ)/∂out. */
export function hrLossBackward(out: Vec, hr: Vec, w: Vec, B: number, opts: HrLossParams, dout: Vec, scale: number): void {
  const { eps, lambda } = opts;
  for (let i = 0; i < B; i++) {
    const mu = out[2 * i], logb = out[2 * i + 1];
    const t = hrTarget(hr[i], eps);
    const s = sigmoid(mu);
    const dPred = (HR_RANGE * s * (1 - s)) / (1 - 2 * eps);
    const dMu = Math.sign(hrPrediction(mu, eps) - hr[i]) * dPred + lambda * nllGradMu(t, mu, logb);
    const dLogb = lambda * nllGradLogb(t, mu, logb);
    const f = scale * w[i];
    dout[2 * i] += f * dMu;
    dout[2 * i + 1] += f * dLogb;
  }
}
