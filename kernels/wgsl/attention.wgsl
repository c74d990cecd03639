// Fused causal attention with RoPE (the FlashAttention-2 scheme) over q, k, v [B,S,D], heads of HD = D/H
// side by side; lse [B,H,S]. The forward gives each invocation one query row and streams rotated K and V
// through workgroup memory in tiles of KT keys with an online softmax, keeping only the row's logsumexp.
// The backward recomputes the probabilities from lse and uses Δ = rowsum(dO∘O); WGSL has no float atomics,
// so it is split so that every invocation owns what it writes: one pass over query rows for dq, one over
// key rows for dk and dv. Dropout on the probabilities uses Philox element ((b·H + h)·S + i)·S + j.
// Each dispatch covers a slice [lo, hi) of the loop that grows with S (keys for the forward and dq, queries
// for dk/dv), so that no invocation outruns llvmpipe's loop limit (src/engine/webgpu/loop-budget.ts); the host
// runs the slices in order. The forward carries its online-softmax state between slices: the unnormalised
// accumulator in out, and m and l in `state` [B·H·S, 2]; the gradients accumulate.
//! include philox.wgsl

fn drop_factor(bh: u32, i: u32, j: u32) -> f32 {
  if (P.drop == 0u) { return 1.0; }
  let keep = dropout_keep((bh * P.S + i) * P.S + j, vec2u(P.k0, P.k1), P.step, P.site, P.threshold);
  return select(0.0, P.dscale, keep);
}

//! kernel attn_forward
//! include rope.wgsl
var<workgroup> Ks: array<f32, ${KTHD}>;
var<workgroup> Vs: array<f32, ${KTHD}>;

@compute @workgroup_size(${QT})
fn attn_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / P.H;
  let h = bh % P.H;
  // The grid starts at the first query block that sees a key of this slice (wg0 = lo / QT).
  let qblock = wg.x + P.wg0;
  let i = qblock * ${QT}u + lid;
  // Rows below lo saw all their keys in earlier slices; a row whose own key lies in this slice finishes here.
  let valid = i < P.S && i >= P.lo;
  let finish = i < P.hi;
  let irow = min(i, P.S - 1u);
  let qbase = (b * P.S + irow) * P.D + h * ${HD}u;
  let sbase = 2u * (bh * P.S + irow);
  var q: array<f32, ${HD}>;
  var acc: array<f32, ${HD}>;
  var m = -3.0e38;
  var l = 0.0;
  let resume = valid && P.lo > 0u;
  if (resume) {
    m = ld_state(sbase);
    l = ld_state(sbase + 1u);
  }
  for (var c = 0u; c < ${HD}u; c++) {
    q[c] = rot_q(qbase, irow, c) * P.scale;
    acc[c] = 0.0;
  }
  // Only a resumed row reads out back (select() would load it in every dispatch, single-slice calls included).
  if (resume) {
    for (var c = 0u; c < ${HD}u; c++) { acc[c] = ld_out(qbase + c); }
  }
  let kv_end = min(P.hi, (qblock + 1u) * ${QT}u);
  let jend = min(i + 1u, P.hi);
  for (var j0 = P.lo; j0 < kv_end; j0 += ${KT}u) {
    for (var e = lid; e < ${KTHD}u; e += ${QT}u) {
      let j = j0 + e / ${HD}u;
      let c = e % ${HD}u;
      var kv = 0.0;
      var vv = 0.0;
      if (j < P.S) {
        let base = (b * P.S + j) * P.D + h * ${HD}u;
        kv = rot_k(base, j, c);
        vv = ld_v(base + c);
      }
      Ks[e] = kv;
      Vs[e] = vv;
    }
    workgroupBarrier();
    if (valid && jend > j0) {
      let n = min(${KT}u, jend - j0);
      for (var jj = 0u; jj < n; jj++) {
        var s = 0.0;
        for (var c = 0u; c < ${HD}u; c++) { s = fma(q[c], Ks[jj * ${HD}u + c], s); }
        let m_new = max(m, s);
        let corr = exp(m - m_new);
        let p = exp(s - m_new);
        l = l * corr + p;
        let pf = p * drop_factor(bh, i, j0 + jj);
        for (var c = 0u; c < ${HD}u; c++) { acc[c] = acc[c] * corr + pf * Vs[jj * ${HD}u + c]; }
        m = m_new;
      }
    }
    workgroupBarrier();
  }
  if (valid && finish) {
    let inv = 1.0 / l;
    for (var c = 0u; c < ${HD}u; c++) { st_out(qbase + c, acc[c] * inv); }
    st_lse(bh * P.S + i, m + log(l));
  } else if (valid) {
    for (var c = 0u; c < ${HD}u; c++) { st_out(qbase + c, acc[c]); }
    st_state(sbase, m);
    st_state(sbase + 1u, l);
  }
}

//! kernel attn_bwd_delta
// Δ[b,h,i] = Σ_c dO·O over the head's features (equals rowsum(P∘dP), dropout included).
@compute @workgroup_size(${WG})
fn attn_bwd_delta(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * ${WG}u;
  if (idx >= P.B * P.H * P.S) { return; }
  let i = idx % P.S;
  let bh = idx / P.S;
  let base = ((bh / P.H) * P.S + i) * P.D + (bh % P.H) * ${HD}u;
  var s = 0.0;
  for (var c = 0u; c < ${HD}u; c++) { s += ld_dout(base + c) * ld_out(base + c); }
  st_delta(idx, s);
}

//! kernel attn_bwd_dq
//! include rope.wgsl
var<workgroup> Ks: array<f32, ${KTHD}>;
var<workgroup> Vs: array<f32, ${KTHD}>;

@compute @workgroup_size(${QT})
fn attn_bwd_dq(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / P.H;
  let h = bh % P.H;
  let qblock = wg.x + P.wg0;
  let i = qblock * ${QT}u + lid;
  let valid = i < P.S && i >= P.lo;
  let irow = min(i, P.S - 1u);
  let qbase = (b * P.S + irow) * P.D + h * ${HD}u;
  var q: array<f32, ${HD}>;
  var g: array<f32, ${HD}>;
  var dq: array<f32, ${HD}>;
  for (var c = 0u; c < ${HD}u; c++) {
    q[c] = rot_q(qbase, irow, c);
    g[c] = ld_dout(qbase + c);
    dq[c] = 0.0;
  }
  let lse = ld_lse(bh * P.S + irow);
  let delta = ld_delta(bh * P.S + irow);
  let kv_end = min(P.hi, (qblock + 1u) * ${QT}u);
  let jend = min(i + 1u, P.hi);
  for (var j0 = P.lo; j0 < kv_end; j0 += ${KT}u) {
    for (var e = lid; e < ${KTHD}u; e += ${QT}u) {
      let j = j0 + e / ${HD}u;
      let c = e % ${HD}u;
      var kv = 0.0;
      var vv = 0.0;
      if (j < P.S) {
        let base = (b * P.S + j) * P.D + h * ${HD}u;
        kv = rot_k(base, j, c);
        vv = ld_v(base + c);
      }
      Ks[e] = kv;
      Vs[e] = vv;
    }
    workgroupBarrier();
    if (valid && jend > j0) {
      let n = min(${KT}u, jend - j0);
      for (var jj = 0u; jj < n; jj++) {
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < ${HD}u; c++) {
          s = fma(q[c], Ks[jj * ${HD}u + c], s);
          dp = fma(g[c], Vs[jj * ${HD}u + c], dp);
        }
        let p = exp(s * P.scale - lse);
        let ds = p * (dp * drop_factor(bh, i, j0 + jj) - delta) * P.scale;
        for (var c = 0u; c < ${HD}u; c++) { dq[c] = fma(ds, Ks[jj * ${HD}u + c], dq[c]); }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    // Back through the rotation: the transpose of R(θ) is R(−θ).
    for (var j = 0u; j < ${PAIRS}u; j++) {
      let cs = rope_cs(i, j);
      let g0 = dq[2u * j];
      let g1 = dq[2u * j + 1u];
      dq[2u * j] = g0 * cs.x + g1 * cs.y;
      dq[2u * j + 1u] = g1 * cs.x - g0 * cs.y;
    }
    // P.accum = 0 (overwrite): the old value is not read, so a NaN there does not leak in. Slices after the
    // first add to what the earlier ones wrote (the rotation is linear, so each slice's share rotates alone).
    let add = P.accum == 1u || P.lo > 0u;
    for (var c = 0u; c < ${HD}u; c++) { st_dq(qbase + c, select(0.0, ld_dq(qbase + c), add) + dq[c]); }
  }
}

//! kernel attn_bwd_dkdv
//! include rope.wgsl
var<workgroup> Qs: array<f32, ${KTHD}>;
var<workgroup> Gs: array<f32, ${KTHD}>;
var<workgroup> Ls: array<f32, ${KT}>;
var<workgroup> Ds: array<f32, ${KT}>;

@compute @workgroup_size(${QT})
fn attn_bwd_dkdv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / P.H;
  let h = bh % P.H;
  let j = wg.x * ${QT}u + lid;
  // Queries of this slice are [lo, hi): keys from hi on see none of them (the grid stops at hi).
  let valid = j < P.hi;
  let jrow = min(j, P.S - 1u);
  let kbase = (b * P.S + jrow) * P.D + h * ${HD}u;
  var k: array<f32, ${HD}>;
  var v: array<f32, ${HD}>;
  var dk: array<f32, ${HD}>;
  var dv: array<f32, ${HD}>;
  for (var c = 0u; c < ${HD}u; c++) {
    k[c] = rot_k(kbase, jrow, c);
    v[c] = ld_v(kbase + c);
    dk[c] = 0.0;
    dv[c] = 0.0;
  }
  // Only queries i ≥ j see key j: start at the first query of this key tile, or of the slice.
  for (var i0 = max(wg.x * ${QT}u, P.lo); i0 < P.hi; i0 += ${KT}u) {
    for (var e = lid; e < ${KTHD}u; e += ${QT}u) {
      let i = i0 + e / ${HD}u;
      let c = e % ${HD}u;
      var qv = 0.0;
      var gv = 0.0;
      if (i < P.hi) {
        let base = (b * P.S + i) * P.D + h * ${HD}u;
        qv = rot_q(base, i, c);
        gv = ld_dout(base + c);
      }
      Qs[e] = qv;
      Gs[e] = gv;
    }
    for (var e = lid; e < ${KT}u; e += ${QT}u) {
      let i = i0 + e;
      var lv = 0.0;
      var dv0 = 0.0;
      if (i < P.hi) {
        lv = ld_lse(bh * P.S + i);
        dv0 = ld_delta(bh * P.S + i);
      }
      Ls[e] = lv;
      Ds[e] = dv0;
    }
    workgroupBarrier();
    if (valid) {
      let n = min(${KT}u, P.hi - i0);
      for (var ii = 0u; ii < n; ii++) {
        let i = i0 + ii;
        if (i < j) { continue; }
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < ${HD}u; c++) {
          s = fma(Qs[ii * ${HD}u + c], k[c], s);
          dp = fma(Gs[ii * ${HD}u + c], v[c], dp);
        }
        let p = exp(s * P.scale - Ls[ii]);
        let f = drop_factor(bh, i, j);
        let ds = p * (dp * f - Ds[ii]) * P.scale;
        let pf = p * f;
        for (var c = 0u; c < ${HD}u; c++) {
          dv[c] = fma(pf, Gs[ii * ${HD}u + c], dv[c]);
          dk[c] = fma(ds, Qs[ii * ${HD}u + c], dk[c]);
        }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var jp = 0u; jp < ${PAIRS}u; jp++) {
      let cs = rope_cs(j, jp);
      let g0 = dk[2u * jp];
      let g1 = dk[2u * jp + 1u];
      dk[2u * jp] = g0 * cs.x + g1 * cs.y;
      dk[2u * jp + 1u] = g1 * cs.x - g0 * cs.y;
    }
    // Key j's first slice is the one holding query j; later slices add to it.
    let add = P.accum == 1u || j < P.lo;
    for (var c = 0u; c < ${HD}u; c++) {
      st_dk(kbase + c, select(0.0, ld_dk(kbase + c), add) + dk[c]);
      st_dv(kbase + c, select(0.0, ld_dv(kbase + c), add) + dv[c]);
    }
  }
}
