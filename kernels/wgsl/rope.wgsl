// Partial interleaved RoPE (DESIGN.md section 3): of a head's HD features the first ROT = HD/2 rotate in
// pairs (2j, 2j+1), j < PAIRS = HD/4, by pos·10000^(−2j/ROT); the rest pass unchanged. cos and sin come from
// a table computed on the host in float64, rope[(pos·PAIRS + j)·2 + {0: cos, 1: sin}].

fn rope_cs(pos: u32, j: u32) -> vec2f {
  let o = (pos * ${PAIRS}u + j) * 2u;
  return vec2f(ld_rope(o), ld_rope(o + 1u));
}

/** Feature c of the rotated q row whose head starts at element base, for token position pos. */
fn rot_q(base: u32, pos: u32, c: u32) -> f32 {
  if (c >= ${ROT}u) { return ld_q(base + c); }
  let j = c / 2u;
  let cs = rope_cs(pos, j);
  let x0 = ld_q(base + 2u * j);
  let x1 = ld_q(base + 2u * j + 1u);
  if ((c & 1u) == 0u) { return x0 * cs.x - x1 * cs.y; }
  return x1 * cs.x + x0 * cs.y;
}

fn rot_k(base: u32, pos: u32, c: u32) -> f32 {
  if (c >= ${ROT}u) { return ld_k(base + c); }
  let j = c / 2u;
  let cs = rope_cs(pos, j);
  let x0 = ld_k(base + 2u * j);
  let x1 = ld_k(base + 2u * j + 1u);
  if ((c & 1u) == 0u) { return x0 * cs.x - x1 * cs.y; }
  return x1 * cs.x + x0 * cs.y;
}
