// The floors of src/: each folder may import only from folders on lower floors, so the code reads top-down
// (cli → runner/profile/trace → report → experiment → fairness → train → model → data → engine → util) and
// a lower floor never needs to know who uses it. Runners are injected by the CLI; the CLI writes reports.
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '../../src');

const FLOORS: Record<string, number> = {
  cli: 10,
  runner: 9, profile: 9, trace: 9,
  report: 8,
  experiment: 7,
  fairness: 6,
  train: 5,
  model: 4,
  data: 3,
  engine: 2,
  util: 1,
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every relative import of src/ that crosses from one top-level folder into another: [from, to, file → target]. */
function crossings(): [string, string, string][] {
  const out: [string, string, string][] = [];
  const spec = /(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const file of sources(SRC)) {
    const top = path.relative(SRC, file).split(path.sep)[0];
    for (const m of fs.readFileSync(file, 'utf8').matchAll(spec)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]));
      if (target.startsWith('..')) continue;
      const to = target.split(path.sep)[0];
      if (to !== top) out.push([top, to, `${path.relative(SRC, file)} → ${target}`]);
    }
  }
  return out;
}

test('every folder of src/ has a floor', () => {
  const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  expect(folders.filter((f) => FLOORS[f] === undefined)).toEqual([]);
});

test('no import runs from a lower floor to a higher one (or across one floor)', () => {
  const all = crossings();
  expect(all.length).toBeGreaterThan(50); // the scan sees the imports (a broken pattern would pass vacuously)
  const upward = all.filter(([from, to]) => FLOORS[from] <= FLOORS[to]).map(([, , where]) => where);
  expect(upward).toEqual([]);
});
