// Dawn prints its adapter warnings to stderr from native code. Starting a webgpu device routes them to a
// debug log (FAIRTUNE_WEBGPU_LOG, default in the temp folder), so a command's own output stays clean;
// FAIRTUNE_WEBGPU_LOG=- keeps them on the terminal (which also shows this test would see them).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, requireDist } from '../helpers/dist';

const WARNING = /artificially reduced/;

function backends(log: string): { stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, 'backends'], { encoding: 'utf8', env: { ...process.env, FAIRTUNE_WEBGPU_LOG: log }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`fairtune backends failed (${r.status}): ${r.stderr}`);
  return { stderr: r.stderr, stdout: r.stdout };
}

beforeAll(() => requireDist(['src/engine', 'src/cli/commands/backends.ts']));

test("Dawn's warnings go to the debug log, not the terminal; '-' keeps them on the terminal", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-dawn-'));
  try {
    const onTerminal = backends('-');
    expect(onTerminal.stdout).toMatch(/✓ webgpu/);
    // Dawn on Mesa's GLES warns about its reduced limits; if a future Dawn stops, there is nothing to route.
    if (!WARNING.test(onTerminal.stderr)) return;
    const log = path.join(dir, 'dawn.log');
    const routed = backends(log);
    expect(routed.stdout).toMatch(/✓ webgpu/);
    expect(routed.stderr).not.toMatch(WARNING);
    expect(fs.readFileSync(log, 'utf8')).toMatch(WARNING);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
