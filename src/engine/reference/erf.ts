// The error function to double precision, for the exact GELU of the HR head. JavaScript has no Math.erf,
// and the common 7-digit approximations (Abramowitz–Stegun 7.1.26) are not good enough for an oracle.
//  - |x| < 3: erf(x) = 2/√π · e^(−x²) · Σ_n x·(2x²)ⁿ / (1·3·…·(2n+1)). Every term is positive, so there is
//    no cancellation (unlike the alternating Maclaurin series) and the relative error stays near 1e-16.
//  - |x| ≥ 3: erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), the Laplace continued
//    fraction, evaluated bottom-up with enough terms to converge at x = 3; erf = 1 − erfc there.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const SERIES_LIMIT = 3;
const CF_TERMS = 120;

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ SERIES_LIMIT by the continued fraction. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let n = CF_TERMS; n >= 1; n--) f = x + n / 2 / f;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < SERIES_LIMIT) return x < 0 ? -erfSeries(a) : erfSeries(a);
  const r = 1 - erfcContinuedFraction(a);
  return x < 0 ? -r : r;
}

/** 1 − erf(x), accurate in relative terms for large positive x (where 1 − erf would underflow to 0). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= SERIES_LIMIT) return erfcContinuedFraction(x);
  if (x <= -SERIES_LIMIT) return 2 - erfcContinuedFraction(-x);
  return 1 - erf(x);
}

/** Standard normal CDF Φ(x), through erfc so that the left tail keeps its relative precision. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return ONE_OVER_SQRT_PI / Math.SQRT2 * Math.exp(-0.5 * x * x);
}
