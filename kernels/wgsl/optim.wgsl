// Optimisation: fused AdamW (PyTorch semantics; the bias corrections are computed on the host in float64)
// and the partial sums of squares behind the global gradient norm (each workgroup writes one partial; the
// host adds the partials in float64), plus online GroupDRO's q update and per-sample weights.
//! include reduce.wgsl

//! kernel adamw
// p ← p·(1 − lr·wd) − lr·(m/bc1)/(sqrt(v/bc2) + eps) with m, v the updated moments.
@compute @workgroup_size(${WG})
// With a norm (has_norm = 1): clipped on the device to max_norm, and no update at all when the norm is not
// finite (f32 here: WGSL has no f64; the other backends form the factor in float64).
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= P.n) { return; }
  var scale = P.grad_scale;
  if (P.has_norm != 0u) {
    let norm = ld_norm(0u);
    // Not finite: NaN fails every comparison, and +inf is above the largest f32.
    if (!(norm <= 3.4028234e38)) { return; }
    if (P.max_norm > 0.0 && norm > P.max_norm) { scale = P.grad_scale * (P.max_norm / norm); }
  }
  let g = scale * ld_grad(i);
  let m = P.beta1 * ld_m(i) + P.one_minus_beta1 * g;
  let v = P.beta2 * ld_v(i) + P.one_minus_beta2 * g * g;
  st_m(i, m);
  st_v(i, v);
  st_param(i, ld_param(i) * P.decay - P.lr * (m / P.bc1) / (sqrt(v / P.bc2) + P.eps));
}

//! kernel sum_squares
@compute @workgroup_size(${WG})
fn sum_squares(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = wg.x * ${WG}u + lid; i < P.n; i += nwg.x * ${WG}u) {
    let v = ld_x(i);
    s += v * v;
  }
  let total = wg_sum(&red_a, s, lid);
  if (lid == 0u) { st_partial(P.slot + wg.x, total); }
}

//! kernel norm_from_partials
// norm[0] = sqrt(Σ partials) over `count` partials of sum_squares, in one workgroup (no host read).
@compute @workgroup_size(${WG})
fn norm_from_partials(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < P.count; i += ${WG}u) { s += ld_partial(i); }
  let total = wg_sum(&red_a, s, lid);
  if (lid == 0u) { st_norm(0u, sqrt(total)); }
}

//! kernel group_dro
// q_g ← q_g·exp(η·L_g) for the groups present, renormalised in log space (subtracting the largest exponent
// so a large η·L cannot overflow); then w_i = q_{g_i}/count_{g_i}. G is small: invocation 0 updates q.
@compute @workgroup_size(${WG})
fn group_dro(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    var mx = -3.0e38;
    for (var g = 0u; g < P.G; g++) {
      let count = ld_gcount(g);
      var boost = 0.0;
      if (count > 0.0) { boost = P.eta * ld_gsum(g) / count; }
      let qg = ld_q(g);
      var lq = -3.0e38;
      if (qg > 0.0) { lq = log(qg) + boost; }
      st_q(g, lq);
      mx = max(mx, lq);
    }
    var total = 0.0;
    for (var g = 0u; g < P.G; g++) {
      let lq = ld_q(g);
      var e = 0.0;
      if (lq > -1.0e38) { e = exp(lq - mx); }
      st_q(g, e);
      total += e;
    }
    for (var g = 0u; g < P.G; g++) { st_q(g, ld_q(g) / total); }
  }
  storageBarrier();
  for (var i = lid; i < P.B; i += ${WG}u) {
    let g = u32(ld_group(i));
    st_w(i, ld_q(g) / ld_gcount(g));
  }
}

//! kernel group_reweight
// The FairTune paper's reweighting: invocation 0 sets gw_g = 1 + η·L_g/Σ_present L for the groups present
// and the batch's weight mass Σ count_g·gw_g; then w_i = gw_{g_i}/mass.
var<workgroup> mass: f32;
@compute @workgroup_size(${WG})
fn group_reweight(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    var total = 0.0;
    var present = 0.0;
    for (var g = 0u; g < P.G; g++) {
      let count = ld_gcount(g);
      if (count > 0.0) {
        total += ld_gsum(g) / count;
        present += 1.0;
      }
    }
    var m = 0.0;
    for (var g = 0u; g < P.G; g++) {
      let count = ld_gcount(g);
      if (count > 0.0) {
        var share = 1.0 / present;
        if (total > 0.0) { share = ld_gsum(g) / count / total; }
        st_gw(g, 1.0 + P.eta * share);
        m += count * ld_gw(g);
      }
    }
    mass = m;
  }
  storageBarrier();
  workgroupBarrier();
  let total_mass = mass;
  for (var i = lid; i < P.B; i += ${WG}u) {
    st_w(i, ld_gw(u32(ld_group(i))) / total_mass);
  }
}
