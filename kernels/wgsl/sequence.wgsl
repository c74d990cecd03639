// Ops that move token vectors along the sequence axis: the learned start token (h[:,0] = token,
// h[:,1:] = e) and mean pooling over the S tokens. One invocation per output element.

fn flat_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * ${WG}u;
}

//! kernel start_token
@compute @workgroup_size(${WG})
fn start_token(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  let S = P.T + 1u;
  if (idx >= P.B * S * P.D) { return; }
  let b = idx / (S * P.D);
  let r = idx % (S * P.D);
  let s = r / P.D;
  let c = r % P.D;
  if (s == 0u) {
    st_h(idx, ld_token(c));
  } else {
    st_h(idx, ld_e((b * P.T + s - 1u) * P.D + c));
  }
}

//! kernel start_token_backward_de
// de[b, t, c] += dh[b, t + 1, c].
@compute @workgroup_size(${WG})
fn start_token_backward_de(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= P.B * P.T * P.D) { return; }
  let b = idx / (P.T * P.D);
  let r = idx % (P.T * P.D);
  st_de(idx, ld_de(idx) + ld_dh(b * (P.T + 1u) * P.D + P.D + r));
}

//! kernel mean_pool
@compute @workgroup_size(${WG})
fn mean_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= P.B * P.D) { return; }
  let b = idx / P.D;
  let c = idx % P.D;
  var s = 0.0;
  for (var t = 0u; t < P.S; t++) { s += ld_h((b * P.S + t) * P.D + c); }
  st_z(idx, s / f32(P.S));
}

//! kernel mean_pool_backward
@compute @workgroup_size(${WG})
fn mean_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= P.B * P.S * P.D) { return; }
  let b = idx / (P.S * P.D);
  let c = idx % P.D;
  st_dh(idx, ld_dh(idx) + ld_dz(b * P.D + c) / f32(P.S));
}
