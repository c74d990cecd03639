// Philox4x32-10 (Salmon et al., SC'11), bit-identical to src/engine/philox.ts: WGSL has no 64-bit integers,
// so the high word of each 32×32-bit product is assembled from 16-bit halves (the low word is the wrapping
// u32 product). Mask mapping (shared by every backend): key = (seed mod 2^32, floor(seed / 2^32)),
// counter = (floor(i/4), 0, step, site), element i takes word i mod 4, keep iff (word >> 8) ≥ threshold.

/** (high, low) words of the 64-bit product a·b. */
fn mul_hi_lo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2u(p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), a * b);
}

fn philox4x32(counter: vec4u, k: vec2u) -> vec4u {
  var x = counter;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key += vec2u(0x9e3779b9u, 0xbb67ae85u); }
    let m0 = mul_hi_lo(0xd2511f53u, x.x);
    let m1 = mul_hi_lo(0xcd9e8d57u, x.z);
    x = vec4u(m1.x ^ x.y ^ key.x, m1.y, m0.x ^ x.w ^ key.y, m0.y);
  }
  return x;
}

/** Keep flag of element i of the mask (k, step, site) at the integer threshold ceil(p·2^24). */
fn dropout_keep(i: u32, k: vec2u, step: u32, site: u32, threshold: u32) -> bool {
  let w = philox4x32(vec4u(i / 4u, 0u, step, site), k);
  return (w[i % 4u] >> 8u) >= threshold;
}
