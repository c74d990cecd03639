// RMSNorm (the blocks) and LayerNorm (the HR head) over the last dimension: one workgroup per row for the
// forward and for dx (the row statistics are workgroup reductions), one invocation per column for the
// parameter gradients (a sum over rows, so every invocation owns its output and no atomics are needed).
//! include reduce.wgsl

//! kernel rms_forward
@compute @workgroup_size(${WG})
fn rms_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wg, nwg);
  if (n >= P.N) { return; }
  let o = n * P.D;
  var ss = 0.0;
  for (var c = lid; c < P.D; c += ${WG}u) {
    let v = ld_x(o + c);
    ss += v * v;
  }
  let total = wg_sum(&red_a, ss, lid);
  let r = 1.0 / sqrt(total / f32(P.D) + P.eps);
  if (lid == 0u) { st_rstd(n, r); }
  for (var c = lid; c < P.D; c += ${WG}u) {
    st_y(o + c, ld_x(o + c) * r * ld_scale(c));
  }
}

//! kernel rms_backward_dx
// With x̂ = x·r and g = dy·scale: dx += r·(g − x̂·mean(g·x̂)).
@compute @workgroup_size(${WG})
fn rms_backward_dx(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wg, nwg);
  if (n >= P.N) { return; }
  let o = n * P.D;
  let r = ld_rstd(n);
  var dot = 0.0;
  for (var c = lid; c < P.D; c += ${WG}u) {
    dot += ld_dy(o + c) * ld_scale(c) * ld_x(o + c) * r;
  }
  let mean_dot = wg_sum(&red_a, dot, lid) / f32(P.D);
  for (var c = lid; c < P.D; c += ${WG}u) {
    let xh = ld_x(o + c) * r;
    st_dx(o + c, ld_dx(o + c) + r * (ld_dy(o + c) * ld_scale(c) - xh * mean_dot));
  }
}

//! kernel rms_backward_dscale
// dscale[c] += Σ_n dy[n, c]·x[n, c]·rstd[n] over the row slice [n0, n1) (the host slices N: loop-budget.ts).
@compute @workgroup_size(${WG})
fn rms_backward_dscale(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= P.D) { return; }
  var s = 0.0;
  for (var n = P.n0; n < P.n1; n++) {
    s += ld_dy(n * P.D + c) * ld_x(n * P.D + c) * ld_rstd(n);
  }
  st_dscale(c, ld_dscale(c) + s);
}

//! kernel ln_forward
// Two passes (mean, then the centred variance), as the reference does, to avoid E[x²] − E[x]² cancellation.
@compute @workgroup_size(${WG})
fn ln_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wg, nwg);
  if (n >= P.N) { return; }
  let o = n * P.C;
  var s = 0.0;
  for (var c = lid; c < P.C; c += ${WG}u) { s += ld_x(o + c); }
  let mu = wg_sum(&red_a, s, lid) / f32(P.C);
  var v = 0.0;
  for (var c = lid; c < P.C; c += ${WG}u) {
    let d = ld_x(o + c) - mu;
    v += d * d;
  }
  let r = 1.0 / sqrt(wg_sum(&red_b, v, lid) / f32(P.C) + P.eps);
  if (lid == 0u) {
    st_mean(n, mu);
    st_rstd(n, r);
  }
  for (var c = lid; c < P.C; c += ${WG}u) {
    st_y(o + c, (ld_x(o + c) - mu) * r * ld_gamma(c) + ld_beta(c));
  }
}

//! kernel ln_backward_dx
// With g = dy·γ: dx += rstd·(g − mean(g) − x̂·mean(g·x̂)).
@compute @workgroup_size(${WG})
fn ln_backward_dx(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wg, nwg);
  if (n >= P.N) { return; }
  let o = n * P.C;
  let mu = ld_mean(n);
  let r = ld_rstd(n);
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = lid; c < P.C; c += ${WG}u) {
    let g = ld_dy(o + c) * ld_gamma(c);
    sg += g;
    sgx += g * (ld_x(o + c) - mu) * r;
  }
  let mg = wg_sum(&red_a, sg, lid) / f32(P.C);
  let mgx = wg_sum(&red_b, sgx, lid) / f32(P.C);
  for (var c = lid; c < P.C; c += ${WG}u) {
    let xh = (ld_x(o + c) - mu) * r;
    st_dx(o + c, ld_dx(o + c) + r * (ld_dy(o + c) * ld_gamma(c) - mg - xh * mgx));
  }
}

//! kernel ln_backward_params
// dγ[c] += Σ_n dy·x̂, dβ[c] += Σ_n dy (either may be absent), over the row slice [n0, n1) (loop-budget.ts).
@compute @workgroup_size(${WG})
fn ln_backward_params(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= P.C) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var n = P.n0; n < P.n1; n++) {
    let dy = ld_dy(n * P.C + c);
    sg += dy * (ld_x(n * P.C + c) - ld_mean(n)) * ld_rstd(n);
    sb += dy;
  }
  if (HAS_dgamma) { st_dgamma(c, ld_dgamma(c) + sg); }
  if (HAS_dbeta) { st_dbeta(c, ld_dbeta(c) + sb); }
}
