// Inverted dropout with the Philox mask: y = x·keep/(1 − p). One invocation per Philox block (4 elements),
// so every block is generated once. The backward draws the same mask from the same key (dx overwritten).
//! include philox.wgsl

fn block_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * ${WG}u;
}

// Whether each of Philox block blk's four elements (blk·4 + j) is kept.
fn block_keep(blk: u32) -> vec4<bool> {
  let w = philox4x32(vec4u(blk, 0u, P.step, P.site), vec2u(P.k0, P.k1));
  return (w >> vec4u(8u)) >= vec4u(P.threshold);
}

//! kernel dropout_forward
@compute @workgroup_size(${WG})
fn dropout_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_index(gid, nwg);
  if (blk * 4u >= P.n) { return; }
  let keep = block_keep(blk);
  for (var j = 0u; j < 4u; j++) {
    let i = blk * 4u + j;
    if (i >= P.n) { break; }
    st_y(i, select(0.0, ld_x(i) * P.scale, keep[j]));
  }
}

//! kernel add_dropout
// y = a + dropout(b): the residual after a dropped branch, in one pass (the add op with dropout).
@compute @workgroup_size(${WG})
fn add_dropout(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_index(gid, nwg);
  if (blk * 4u >= P.n) { return; }
  let keep = block_keep(blk);
  for (var j = 0u; j < 4u; j++) {
    let i = blk * 4u + j;
    if (i >= P.n) { break; }
    st_y(i, ld_a(i) + select(0.0, ld_b(i) * P.scale, keep[j]));
  }
}

//! kernel dropout_backward
@compute @workgroup_size(${WG})
fn dropout_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_index(gid, nwg);
  if (blk * 4u >= P.n) { return; }
  let keep = block_keep(blk);
  for (var j = 0u; j < 4u; j++) {
    let i = blk * 4u + j;
    if (i >= P.n) { break; }
    st_dx(i, select(0.0, ld_dy(i) * P.scale, keep[j]));
  }
}
