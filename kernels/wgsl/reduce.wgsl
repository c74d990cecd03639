// Workgroup tree reductions shared by the norms, the losses and sumSquares. WG must be a power of two; a
// call must be in uniform control flow (it contains barriers).
// A kernel that reduces twice uses red_a for the first sum and red_b for the second. Observed on Dawn's
// GLES path (llvmpipe): with one shared array, two consecutive reductions in a kernel gave invocations
// other than 0 a wrong first result even with a barrier after reading it (LayerNorm's mean then variance);
// with the result array never rewritten within a kernel every invocation reads the right sum.
var<workgroup> red_a: array<f32, ${WG}>;
var<workgroup> red_b: array<f32, ${WG}>;

fn wg_sum(red: ptr<workgroup, array<f32, ${WG}>>, v: f32, lid: u32) -> f32 {
  (*red)[lid] = v;
  workgroupBarrier();
  for (var s = ${WG}u / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { (*red)[lid] += (*red)[lid + s]; }
    workgroupBarrier();
  }
  return (*red)[0];
}

/** Row handled by this workgroup when rows are spread over a 2-D grid. */
fn row_index(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}
