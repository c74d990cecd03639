// Elementwise ops over whole tensors (one invocation per element): ReLU and exact GELU with their
// backwards, the residual add, dst += alpha·src (accumulate and the gradient reversal), in-place scaling.
// Every kernel reads element i before writing element i, so an output may share its buffer with an input.
//! include erf.wgsl

/** Flat element index; large tensors fold their workgroups into a 2-D grid (65535 per dimension). */
fn flat_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * ${WG}u;
}

//! kernel relu
@compute @workgroup_size(${WG})
fn relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  let v = ld_x(i);
  st_y(i, select(0.0, v, v > 0.0));
}

//! kernel one_hot
// out[B,G] (n = B·G elements): 1 where the row's id equals the column (ids compared, never used as an index).
@compute @workgroup_size(${WG})
fn one_hot(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  st_out(i, select(0.0, 1.0, ld_ids(i / P.G) == f32(i % P.G)));
}

//! kernel relu_backward
// Gates on the forward output y (y > 0 ⇔ x > 0), so relu may have run in place.
@compute @workgroup_size(${WG})
fn relu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  st_dx(i, select(0.0, ld_dy(i), ld_y(i) > 0.0));
}

//! kernel gelu
@compute @workgroup_size(${WG})
fn gelu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  let v = ld_x(i);
  st_y(i, v * normal_cdf(v));
}

//! kernel gelu_backward
// d/dx x·Φ(x) = Φ(x) + x·φ(x).
@compute @workgroup_size(${WG})
fn gelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  let v = ld_x(i);
  st_dx(i, ld_dy(i) * (normal_cdf(v) + v * normal_pdf(v)));
}

//! kernel add
@compute @workgroup_size(${WG})
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  st_y(i, ld_a(i) + ld_b(i));
}

//! kernel axpy
// dst += alpha·src.
@compute @workgroup_size(${WG})
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  st_dst(i, ld_dst(i) + P.alpha * ld_src(i));
}

//! kernel scale
@compute @workgroup_size(${WG})
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= P.n) { return; }
  st_x(i, ld_x(i) * P.s);
}
