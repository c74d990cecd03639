// Finds and loads the fairtune_native addon. Loading never throws: a missing or broken build is returned
// as a reason, so backend selection can say "cpu unavailable: <reason>" and fall back.
// Search order: $FAIRTUNE_ADDON (a path to the .node file, exclusive when set), then build/Release/
// (node-gyp, `npm install`), then build-cmake/Release/ (`npm run build:cmake`).
import * as fs from 'fs';
import * as path from 'path';
import { NATIVE_FUNCTIONS, NativeAddon } from './native-api';

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

const ADDON_FILE = 'fairtune_native.node';

/** The package root: the nearest ancestor of this file holding package.json (src/ and dist/src/ both work). */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
}

export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const forced = env.FAIRTUNE_ADDON;
  if (forced !== undefined && forced !== '') return [path.resolve(forced)];
  const root = packageRoot();
  return [path.join(root, 'build', 'Release', ADDON_FILE), path.join(root, 'build-cmake', 'Release', ADDON_FILE)];
}

function tryLoad(file: string): AddonLoad {
  let mod: unknown;
  try {
    mod = require(file);
  } catch (e) {
    return { ok: false, reason: `${file} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  const missing = NATIVE_FUNCTIONS.filter((f) => typeof (mod as Record<string, unknown>)[f] !== 'function');
  if (missing.length > 0) {
    return { ok: false, reason: `${file} is a stale build (missing ${missing.join(', ')}); rebuild with npm run build` };
  }
  return { ok: true, addon: mod as NativeAddon, path: file };
}

let cached: AddonLoad | undefined;

/** Loads the addon once per process (a native module cannot be unloaded anyway). */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const candidates = addonCandidates();
  const reasons: string[] = [];
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      reasons.push(`${file} not found`);
      continue;
    }
    const r = tryLoad(file);
    if (r.ok) return (cached = r);
    reasons.push(r.reason);
  }
  const hint = process.env.FAIRTUNE_ADDON ? '' : ' (build it with `npm run build` or `npm run build:cmake`)';
  return (cached = { ok: false, reason: `native addon not available${hint}: ${reasons.join('; ')}` });
}
