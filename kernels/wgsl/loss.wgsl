// Losses. The HR loss and the mean reductions run in ONE workgroup (a batch is small, and a single
// workgroup reduces without atomics or a second pass); the gradients are elementwise.
//  - hr_loss: pred = 30 + 200·(sigmoid(μ) − ε)/(1 − 2ε), ℓ = |pred − hr| + λ·NLL(v), v the clamped,
//    normalised label; loss = Σ w·ℓ (the caller's weights); per-group sums and counts.
//  - next_patch_nll: token t predicts patch t; mean NLL over B·T·P.
//  - bce: mean of max(z, 0) − z·t + log(1 + e^(−|z|)).
//  - softmax_ce: mean over rows of −Σ_c t_c·(z_c − lse(z)); one invocation per row (C is small).
//! include reduce.wgsl
//! include laplace.wgsl

const HR_MIN: f32 = 30.0;
const HR_RANGE: f32 = 200.0;

fn hr_target(hr: f32, eps: f32) -> Target {
  let c = clamp(hr, HR_MIN, HR_MIN + HR_RANGE);
  return laplace_target((c - HR_MIN) / HR_RANGE, eps);
}

fn hr_pred(mu: f32, eps: f32) -> f32 {
  return HR_MIN + HR_RANGE * (sigmoid(mu) - eps) / (1.0 - 2.0 * eps);
}

/** log(1 + x) without losing the small x (log1p is not a WGSL builtin). */
fn log1p_f32(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}

//! kernel hr_loss
@compute @workgroup_size(${WG})
fn hr_loss(@builtin(local_invocation_index) lid: u32) {
  var num = 0.0;
  for (var i = lid; i < P.B; i += ${WG}u) {
    let mu = ld_out(2u * i);
    let logb = ld_out(2u * i + 1u);
    let hr = ld_hr(i);
    let pred = hr_pred(mu, P.eps);
    let l = abs(pred - hr) + P.lambda * laplace_nll(hr_target(hr, P.eps), mu, logb);
    st_pred(i, pred);
    st_sample(i, l);
    num += ld_w(i) * l;
  }
  let total_num = wg_sum(&red_a, num, lid);
  if (lid == 0u) { st_loss(0u, total_num); }
  // The per-sample losses written above become visible to the whole workgroup.
  storageBarrier();
  for (var g = lid; g < P.G; g += ${WG}u) {
    var s = 0.0;
    var c = 0.0;
    for (var i = 0u; i < P.B; i++) {
      if (u32(ld_group(i)) == g) {
        s += ld_sample(i);
        c += 1.0;
      }
    }
    st_gsum(g, s);
    st_gcount(g, c);
  }
}

//! kernel hr_loss_backward
// dout[i] += scale·w_i·(∂ℓ/∂μ, ∂ℓ/∂log b).
@compute @workgroup_size(${WG})
fn hr_loss_backward(@builtin(local_invocation_index) lid: u32) {
  for (var i = lid; i < P.B; i += ${WG}u) {
    let mu = ld_out(2u * i);
    let logb = ld_out(2u * i + 1u);
    let hr = ld_hr(i);
    let t = hr_target(hr, P.eps);
    let s = sigmoid(mu);
    let dpred = HR_RANGE * s * (1.0 - s) / (1.0 - 2.0 * P.eps);
    let dmu = sign(hr_pred(mu, P.eps) - hr) * dpred + P.lambda * nll_grad_mu(t, mu, logb);
    let dlogb = P.lambda * nll_grad_logb(t, mu, logb);
    let f = P.scale * ld_w(i);
    st_dout(2u * i, ld_dout(2u * i) + f * dmu);
    st_dout(2u * i + 1u, ld_dout(2u * i + 1u) + f * dlogb);
  }
}

//! kernel next_patch_nll
@compute @workgroup_size(${WG})
fn next_patch_nll(@builtin(local_invocation_index) lid: u32) {
  let count = P.B * P.T * P.P;
  var s = 0.0;
  for (var idx = lid; idx < count; idx += ${WG}u) {
    let b = idx / (P.T * P.P);
    let r = idx % (P.T * P.P);
    let t = r / P.P;
    let j = r % P.P;
    let po = (b * P.S + t) * 2u * P.P;
    s += laplace_nll(laplace_target(ld_x(idx), P.eps), ld_params(po + j), ld_params(po + P.P + j));
  }
  let total = wg_sum(&red_a, s, lid);
  if (lid == 0u) { st_loss(0u, total / f32(count)); }
}

//! kernel next_patch_backward
@compute @workgroup_size(${WG})
fn next_patch_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * ${WG}u;
  if (idx >= P.B * P.T * P.P) { return; }
  let b = idx / (P.T * P.P);
  let r = idx % (P.T * P.P);
  let t = r / P.P;
  let j = r % P.P;
  let po = (b * P.S + t) * 2u * P.P;
  let tg = laplace_target(ld_x(idx), P.eps);
  let mu = ld_params(po + j);
  let logb = ld_params(po + P.P + j);
  st_dparams(po + j, ld_dparams(po + j) + P.f * nll_grad_mu(tg, mu, logb));
  st_dparams(po + P.P + j, ld_dparams(po + P.P + j) + P.f * nll_grad_logb(tg, mu, logb));
}

//! kernel bce
@compute @workgroup_size(${WG})
fn bce(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < P.n; i += ${WG}u) {
    let z = ld_logits(i);
    s += max(z, 0.0) - z * ld_targets(i) + log1p_f32(exp(-abs(z)));
  }
  let total = wg_sum(&red_a, s, lid);
  if (lid == 0u) { st_loss(0u, total / f32(P.n)); }
}

//! kernel bce_backward
@compute @workgroup_size(${WG})
fn bce_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= P.n) { return; }
  st_dlogits(i, ld_dlogits(i) + P.f * (sigmoid(ld_logits(i)) - ld_targets(i)));
}

//! kernel softmax_ce
// Rows in a stride over the one workgroup; each row's log Σ exp after subtracting its maximum.
@compute @workgroup_size(${WG})
fn softmax_ce(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var n = lid; n < P.N; n += ${WG}u) {
    var mx = ld_logits(n * P.C);
    for (var c = 1u; c < P.C; c++) { mx = max(mx, ld_logits(n * P.C + c)); }
    var e = 0.0;
    for (var c = 0u; c < P.C; c++) { e += exp(ld_logits(n * P.C + c) - mx); }
    let lse = mx + log(e);
    for (var c = 0u; c < P.C; c++) { s -= ld_targets(n * P.C + c) * (ld_logits(n * P.C + c) - lse); }
  }
  let total = wg_sum(&red_a, s, lid);
  if (lid == 0u) { st_loss(0u, total / f32(P.N)); }
}

//! kernel softmax_ce_backward
// One invocation per row: dz += f·((Σ_c t_c)·softmax(z) − t).
@compute @workgroup_size(${WG})
fn softmax_ce_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * ${WG}u;
  if (n >= P.N) { return; }
  var mx = ld_logits(n * P.C);
  for (var c = 1u; c < P.C; c++) { mx = max(mx, ld_logits(n * P.C + c)); }
  var e = 0.0;
  var mass = 0.0;
  for (var c = 0u; c < P.C; c++) {
    e += exp(ld_logits(n * P.C + c) - mx);
    mass += ld_targets(n * P.C + c);
  }
  for (var c = 0u; c < P.C; c++) {
    let i = n * P.C + c;
    st_dlogits(i, ld_dlogits(i) + P.f * (mass * exp(ld_logits(i) - mx) / e - ld_targets(i)));
  }
}
