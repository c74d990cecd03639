// `node dist/src/trace/trace-main.js SIZE BACKEND SEED BATCH PATCHES OUT`: one HR trace, as `fairtune trace`
// writes it, without loading the CLI. The GPU check (scripts/gpu-check.sh, stage steps) runs it on a machine
// that has no npm: its bundle carries dist/, the two packages this path loads (zod, pure-rand) and the addon,
// not the CLI's other packages.
import { isModelSize } from '../model/config';
import { writeTrace } from './write-trace';

function main(argv: readonly string[]): number {
  if (argv.length !== 6) {
    console.error('usage: trace-main.js SIZE BACKEND SEED BATCH PATCHES OUT');
    return 2;
  }
  const [size, backend, seed, batch, patches, out] = argv;
  if (!isModelSize(size)) {
    console.error(`trace-main: unknown model size '${size}'`);
    return 2;
  }
  const ints = [seed, batch, patches].map(Number);
  if (!ints.every((n) => Number.isInteger(n) && n >= 0) || ints[1] < 1 || ints[2] < 1) {
    console.error(`trace-main: SEED, BATCH and PATCHES must be integers (BATCH, PATCHES ≥ 1), got ${seed} ${batch} ${patches}`);
    return 2;
  }
  const r = writeTrace({ size, backend, seed: ints[0], batch: ints[1], patches: ints[2] }, out);
  console.log(`trace written to ${out} (backend ${r.backend}, ${size}, loss ${r.loss})`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`trace-main: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
