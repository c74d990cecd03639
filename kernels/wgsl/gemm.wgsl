// Tiled GEMM through workgroup memory: C[M,N] (+)= A[M,K]·B[K,N] (+ bias[N]), with A and B addressed
// through strides so one kernel serves the forward y = x·Wᵀ + b (B(k, j) = W[j, k]) and both backward
// products dx += dy·W and dW += dyᵀ·x without transposing anything in memory.
// A workgroup of TXN×TYM invocations computes a TM×TN tile of C; each invocation owns RM×RN outputs
// (rows lid.y + i·TYM, columns lid.x + j·TXN). K advances in steps of TK through the shared tiles As, Bs.
// One dispatch covers the K slice [kb, ke): the host splits a long K into slices that accumulate, so no
// invocation outruns llvmpipe's loop limit (src/engine/webgpu/loop-budget.ts).

//! kernel gemm
var<workgroup> As: array<f32, ${TKTM}>;
var<workgroup> Bs: array<f32, ${TKTN}>;

@compute @workgroup_size(${TXN}, ${TYM})
fn gemm(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * ${TM}u;
  let col0 = wg.x * ${TN}u;
  var acc: array<f32, ${RMRN}>;
  for (var i = 0u; i < ${RMRN}u; i++) { acc[i] = 0.0; }
  for (var k0 = P.kb; k0 < P.ke; k0 += ${TK}u) {
    // Tile loads walk the operand's unit-stride index fastest, so neighbouring invocations read neighbouring
    // words whichever operand is transposed (x and dy along k in the forward and dx, dy along i in dW).
    for (var e = li; e < ${TKTM}u; e += ${NT}u) {
      var r = e / ${TK}u;
      var kk = e % ${TK}u;
      if (P.sa_k != 1u) { r = e % ${TM}u; kk = e / ${TM}u; }
      let gi = row0 + r;
      let gk = k0 + kk;
      var v = 0.0;
      if (gi < P.M && gk < P.ke) { v = ld_a(gi * P.sa_i + gk * P.sa_k); }
      As[kk * ${TM}u + r] = v;
    }
    for (var e = li; e < ${TKTN}u; e += ${NT}u) {
      var kk = e / ${TN}u;
      var cc = e % ${TN}u;
      if (P.sb_k == 1u) { kk = e % ${TK}u; cc = e / ${TK}u; }  // W [N,K] in the forward: along k
      let gk = k0 + kk;
      let gj = col0 + cc;
      var v = 0.0;
      if (gj < P.N && gk < P.ke) { v = ld_b(gk * P.sb_k + gj * P.sb_j); }
      Bs[kk * ${TN}u + cc] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      var av: array<f32, ${RM}>;
      var bv: array<f32, ${RN}>;
      for (var i = 0u; i < ${RM}u; i++) { av[i] = As[kk * ${TM}u + lid.y + i * ${TYM}u]; }
      for (var j = 0u; j < ${RN}u; j++) { bv[j] = Bs[kk * ${TN}u + lid.x + j * ${TXN}u]; }
      for (var i = 0u; i < ${RM}u; i++) {
        for (var j = 0u; j < ${RN}u; j++) {
          acc[i * ${RN}u + j] = fma(av[i], bv[j], acc[i * ${RN}u + j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${RM}u; i++) {
    let gi = row0 + lid.y + i * ${TYM}u;
    if (gi >= P.M) { continue; }
    for (var j = 0u; j < ${RN}u; j++) {
      let gj = col0 + lid.x + j * ${TXN}u;
      if (gj >= P.N) { continue; }
      let idx = gi * P.N + gj;
      var v = acc[i * ${RN}u + j] + ld_bias(gj);
      if (P.accumulate != 0u) { v += ld_c(idx); }
      if (P.relu != 0u) { v = select(0.0, v, v > 0.0); }  // the relu kernel's rule: NaN becomes 0
      st_c(idx, v);
    }
  }
}

//! kernel column_sum
// out[j] += Σ_i a[i·lda + j] over the row slice [r0, r1) (the bias gradient db, the start token's gradient),
// one invocation per column; the host covers all rows in slices (loop-budget.ts).
@compute @workgroup_size(${WG})
fn column_sum(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= P.cols) { return; }
  var s = 0.0;
  for (var i = P.r0; i < P.r1; i++) { s += ld_a(i * P.lda + j); }
  st_out(j, ld_out(j) + s);
}
