// The logit-Laplace NLL shared by the HR loss and the pretraining loss (DESIGN.md section 3): v in [0, 1]
// enters as u = (1 − 2ε)·clamp(v, 0, 1) + ε; NLL = log 2 + log b + log(u(1 − u)) + |logit(u) − μ|/b.
// WGSL's sign(0) = 0 matches the reference's choice at the kink.

struct Target {
  logit: f32,
  logjac: f32,
}

fn laplace_target(v: f32, eps: f32) -> Target {
  let u = (1.0 - 2.0 * eps) * clamp(v, 0.0, 1.0) + eps;
  return Target(log(u / (1.0 - u)), log(u * (1.0 - u)));
}

fn laplace_nll(t: Target, mu: f32, logb: f32) -> f32 {
  return 0.6931471805599453 + logb + t.logjac + abs(t.logit - mu) * exp(-logb);
}

fn nll_grad_mu(t: Target, mu: f32, logb: f32) -> f32 {
  return -sign(t.logit - mu) * exp(-logb);
}

fn nll_grad_logb(t: Target, mu: f32, logb: f32) -> f32 {
  return 1.0 - abs(t.logit - mu) * exp(-logb);
}

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
