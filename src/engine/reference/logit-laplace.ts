// The logit-Laplace negative log-likelihood shared by the HR loss and the pretraining loss (DESIGN.md
// section 3): a value v in [0, 1] enters as u = (1 − 2ε)·clamp(v, 0, 1) + ε, and with b = exp(log b)
//   NLL(u) = log(2b) + log(u(1 − u)) + |logit(u) − μ| / b.
// The |·| derivative uses sign(0) = 0, so every backend agrees exactly at the kink.

/** log(u(1 − u)) and logit(u) of the squashed target, both depending on the label only. */
export interface LaplaceTarget {
  logit: number;
  logJacobian: number;
}

export function laplaceTarget(v: number, eps: number): LaplaceTarget {
  const u = (1 - 2 * eps) * Math.min(Math.max(v, 0), 1) + eps;
  return { logit: Math.log(u / (1 - u)), logJacobian: Math.log(u * (1 - u)) };
}

export function logitLaplaceNll(target: LaplaceTarget, mu: number, logb: number): number {
  return Math.LN2 + logb + target.logJacobian + Math.abs(target.logit - mu) * Math.exp(-logb);
}

/** ∂NLL/∂μ. */
export function nllGradMu(target: LaplaceTarget, mu: number, logb: number): number {
  return -Math.sign(target.logit - mu) * Math.exp(-logb);
}

/** ∂NLL/∂log b. */
export function nllGradLogb(target: LaplaceTarget, mu: number, logb: number): number {
  return 1 - Math.abs(target.logit - mu) * Math.exp(-logb);
}

/** Numerically safe logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
