// A synthetic ECG lead for the R-peak and label tests: Gaussian R, S and T waves at given beat times over
// baseline wander and a little noise (a fixed LCG, so every run is the same).
export function syntheticEcg(fs: number, beats: readonly number[], seconds: number): Float64Array {
  const x = new Float64Array(Math.round(seconds * fs));
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (let i = 0; i < x.length; i++) {
    const t = i / fs;
    let v = 0.3 * Math.sin(2 * Math.PI * 0.3 * t) + 0.02 * rnd(); // baseline wander + noise
    for (const b of beats) {
      v += 1.2 * Math.exp(-(((t - b) / 0.012) ** 2)); // R
      v -= 0.3 * Math.exp(-(((t - b - 0.03) / 0.012) ** 2)); // S
      v += 0.25 * Math.exp(-(((t - b - 0.25) / 0.05) ** 2)); // T
    }
    x[i] = v;
  }
  return x;
}

/** A pulse wave beating at the same times (a skewed bump per beat, peaking ~0.2 s after the R wave). */
export function syntheticPleth(fs: number, beats: readonly number[], seconds: number): Float64Array {
  const x = new Float64Array(Math.round(seconds * fs));
  for (let i = 0; i < x.length; i++) {
    const t = i / fs;
    let v = 0;
    for (const b of beats) {
      const d = t - b - 0.2;
      v += Math.exp(-((d / (d < 0 ? 0.08 : 0.18)) ** 2));
    }
    x[i] = v;
  }
  return x;
}

/** Beat times at a steady rate over [start, end). */
export function beatsAt(bpm: number, start: number, end: number): number[] {
  const out: number[] = [];
  for (let t = start; t < end; t += 60 / bpm) out.push(t);
  return out;
}
