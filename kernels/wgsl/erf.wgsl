// The error function for the exact GELU, in float32. erfc(z) for z ≥ 0 uses the Chebyshev-fitted form
// erfc(z) ≈ t·exp(−z² − 1.26551223 + t·(1.00002368 + … + t·0.17087277)), t = 1/(1 + z/2), whose fractional
// error is below 1.2e-7 for every z ≥ 0 (Press et al., Numerical Recipes, "erfcc"); the left half follows
// from erfc(−z) = 2 − erfc(z). Going through erfc keeps the relative precision of Φ(x) in the left tail,
// where x·Φ(x) is tiny, as the reference does.

fn erfc_nonneg(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(poly);
}

fn erfc_f32(x: f32) -> f32 {
  if (x >= 0.0) {
    return erfc_nonneg(x);
  }
  return 2.0 - erfc_nonneg(-x);
}

fn erf_f32(x: f32) -> f32 {
  return 1.0 - erfc_f32(x);
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2. */
fn normal_cdf(x: f32) -> f32 {
  return 0.5 * erfc_f32(-x * 0.7071067811865476);
}

/** Standard normal density φ(x). */
fn normal_pdf(x: f32) -> f32 {
  return 0.3989422804014327 * exp(-0.5 * x * x);
}
