// Next-patch pretraining loss: params[B,S,2P] holds (μ, log b) for the P samples of the patch each token
// predicts (channels [0,P) are μ, [P,2P) log b); token t predicts patch t of x[B,T·P] (T ≤ S − 1, the
// start token predicting the first patch); tokens t ≥ T predict nothing. The loss is the mean NLL over B·T·P.
import { laplaceTarget, logitLaplaceNll, nllGradLogb, nllGradMu } from './logit-laplace';
import type { Vec } from './types';

export interface NextPatchShape {
  B: number;
  S: number;
  T: number;
  P: number;
}

export function nextPatchNllForward(params: Vec, x: Vec, shape: NextPatchShape, eps: number, loss: Vec): void {
  const { B, S, T, P } = shape;
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const po = (b * S + t) * 2 * P;
      for (let j = 0; j < P; j++) {
        sum += logitLaplaceNll(laplaceTarget(x[(b * T + t) * P + j], eps), params[po + j], params[po + P + j]);
      }
    }
  }
  loss[0] = sum / (B * T * P);
}

export function nextPatchNllBackward(params: Vec, x: Vec, shape: NextPatchShape, eps: number, dparams: Vec, scale: number): void {
  const { B, S, T, P } = shape;
  const f = scale / (B * T * P);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const po = (b * S + t) * 2 * P;
      for (let j = 0; j < P; j++) {
        const target = laplaceTarget(x[(b * T + t) * P + j], eps);
        const mu = params[po + j], logb = params[po + P + j];
        dparams[po + j] += f * nllGradMu(target, mu, logb);
        dparams[po + P + j] += f * nllGradLogb(target, mu, logb);
      }
    }
  }
}
