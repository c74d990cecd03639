// Loading the addon: the search order, the reason reported when it cannot load (never a throw at import),
// the environment overrides (FAIRTUNE_ISA, FAIRTUNE_THREADS, FAIRTUNE_SPIN_US) and info().
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addonCandidates, loadAddon } from '../../src/engine/cpu/addon';

const loaded = loadAddon();
const addonPath = loaded.ok ? loaded.path : '';

function isolatedLoad(env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let result: ReturnType<typeof loadAddon> | undefined;
    jest.isolateModules(() => {
      result = (require('../../src/engine/cpu/addon') as typeof import('../../src/engine/cpu/addon')).loadAddon();
    });
    return result as ReturnType<typeof loadAddon>;
  } finally {
    process.env = saved;
  }
}

/** Runs a snippet in a fresh node process with the given environment; returns its stdout or stderr. */
function inChild(env: Record<string, string>, code: string): string {
  try {
    return execFileSync(process.execPath, ['-e', code], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    return String((e as { stderr?: string }).stderr);
  }
}

test('the addon loads from build/Release or build-cmake/Release and reports its ISA and threads', () => {
  if (!loaded.ok) throw new Error(loaded.reason);
  expect(addonCandidates({}).map((p) => path.relative(process.cwd(), p))).toEqual([
    path.join('build', 'Release', 'fairtune_native.node'),
    path.join('build-cmake', 'Release', 'fairtune_native.node'),
  ]);
  const info = loaded.addon.info();
  expect(['avx512', 'avx2', 'scalar']).toContain(info.isa);
  expect(info.threads).toBeGreaterThanOrEqual(1);
});

test('FAIRTUNE_ADDON pointing nowhere gives a reason, not a throw', () => {
  const r = isolatedLoad({ FAIRTUNE_ADDON: '/nonexistent/fairtune_native.node' });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.reason).toMatch(/\/nonexistent\/fairtune_native\.node not found/);
});

test('a file that is not an addon gives a reason naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-addon-'));
  const bogus = path.join(dir, 'fairtune_native.node');
  fs.writeFileSync(bogus, 'not a shared object');
  const r = isolatedLoad({ FAIRTUNE_ADDON: bogus });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.reason).toContain(`${bogus} failed to load`);
});

test('FAIRTUNE_ISA and FAIRTUNE_THREADS apply at load, and bad values fail the load with a message', () => {
  const show = `const a = require(${JSON.stringify(addonPath)}); process.stdout.write(JSON.stringify(a.info()))`;
  const info = JSON.parse(inChild({ FAIRTUNE_ISA: 'scalar', FAIRTUNE_THREADS: '1' }, show));
  expect(info).toMatchObject({ isa: 'scalar', threads: 1 });
  expect(inChild({ FAIRTUNE_ISA: 'sse9' }, show)).toMatch(/FAIRTUNE_ISA must be avx512, avx2 or scalar/);
  expect(inChild({ FAIRTUNE_THREADS: 'many' }, show)).toMatch(/FAIRTUNE_THREADS must be an integer/);
});

test('FAIRTUNE_SPIN_US sets how long idle pool threads spin; bad values fail the load; no spinning past the cores', () => {
  const show = `const a = require(${JSON.stringify(addonPath)}); process.stdout.write(JSON.stringify(a.info()))`;
  expect(JSON.parse(inChild({ FAIRTUNE_SPIN_US: '0', FAIRTUNE_THREADS: '1' }, show))).toMatchObject({ spinUs: 0 });
  expect(JSON.parse(inChild({ FAIRTUNE_SPIN_US: '750', FAIRTUNE_THREADS: '1' }, show))).toMatchObject({ spinUs: 750 });
  // The default (test/setup-env.js sets 200 µs for the suite itself; unset here).
  expect(JSON.parse(inChild({ FAIRTUNE_THREADS: '1', FAIRTUNE_SPIN_US: '' }, show))).toMatchObject({ spinUs: 20000 });
  // More pool threads than this process has cores: a spinning thread would take the core its partner needs.
  const cores = os.availableParallelism();
  expect(JSON.parse(inChild({ FAIRTUNE_SPIN_US: '750', FAIRTUNE_THREADS: String(cores + 1) }, show))).toMatchObject({ spinUs: 0 });
  expect(inChild({ FAIRTUNE_SPIN_US: 'fast' }, show)).toMatch(/FAIRTUNE_SPIN_US must be an integer in \[0, 100000\], got 'fast'/);
  expect(inChild({ FAIRTUNE_SPIN_US: '-1' }, show)).toMatch(/FAIRTUNE_SPIN_US must be an integer/);
});

test('setIsa refuses an ISA above what the CPU supports and setThreads changes the pool', () => {
  if (!loaded.ok) throw new Error(loaded.reason);
  const a = loaded.addon;
  const before = a.info();
  a.setThreads(1);
  expect(a.info().threads).toBe(1);
  a.setThreads(before.threads);
  if (before.detectedIsa === 'scalar') expect(() => a.setIsa('avx2')).toThrow(/does not support/);
  a.setIsa('scalar');
  expect(a.info().isa).toBe('scalar');
  a.setIsa(before.detectedIsa);
});
