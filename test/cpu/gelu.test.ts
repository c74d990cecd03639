// The cpu GELU evaluates Φ through a fitted erfc in float32 vector code (kernels/cpu/elementwise.cc), not
// erf in double: checked here against the reference's double-precision erf more tightly than the conformance
// suite's rtol (which scales by the mean magnitude, so it would not see the negative tail), on every ISA path,
// and for independence from where a span starts (each element runs the same vector code, tails included).
import { hostData } from '../../src/engine/host-storage';
import { normalCdf, normalPdf } from '../../src/engine/reference/erf';
import { cpu, isaPaths } from './helpers';

const detected = cpu.info().detectedIsa;
afterAll(() => cpu.setIsa(detected));

// x from -5.6 (|x|/√2 = 4, where erfc's float32 error is largest short of the underflowing tail) to 12.
const xs = Float32Array.from({ length: 17601 }, (_, i) => -5.6 + i * 0.001);

function run(x: Float32Array): { y: Float32Array; dx: Float32Array } {
  const xt = cpu.tensor([x.length], x), y = cpu.tensor([x.length]), dx = cpu.tensor([x.length]);
  cpu.gelu(xt, y);
  cpu.geluBackward(cpu.tensor([x.length], new Float32Array(x.length).fill(1)), xt, dx);
  return { y: Float32Array.from(hostData(y)), dx: Float32Array.from(hostData(dx)) };
}

test.each(isaPaths())('%s: y within 3e-6 relative of x·Φ(x), dy/dx within 1e-6 of Φ(x) + x·φ(x)', (isa) => {
  cpu.setIsa(isa);
  const { y, dx } = run(xs);
  let worstY = 0, worstD = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i], wantY = v * normalCdf(v), wantD = normalCdf(v) + v * normalPdf(v);
    worstY = Math.max(worstY, Math.abs(y[i] - wantY) / Math.max(Math.abs(wantY), 1e-30));
    worstD = Math.max(worstD, Math.abs(dx[i] - wantD));
  }
  expect(worstY).toBeLessThan(3e-6);
  expect(worstD).toBeLessThan(1e-6);
});

test.each(isaPaths())('%s: an element gives the same bits wherever its span starts; NaN and ±∞ as x·Φ(x) gives them', (isa) => {
  cpu.setIsa(isa);
  const x = xs.subarray(0, 4099);
  const whole = run(x), shifted = run(x.subarray(3));
  expect(Buffer.from(shifted.y.buffer).equals(Buffer.from(whole.y.slice(3).buffer))).toBe(true);
  expect(Buffer.from(shifted.dx.buffer).equals(Buffer.from(whole.dx.slice(3).buffer))).toBe(true);
  const special = run(Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 40, -40]));
  expect(Array.from(special.y)).toEqual([NaN, Infinity, NaN, 0, -0, 40, -0]);
});
