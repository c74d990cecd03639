// Tests that run the built CLI (dist/) as a user would: the path to it, and a check that the build is there
// and no older than the sources it was compiled from (a stale build would test yesterday's code).
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

function sourcesOf(p: string): string[] {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesOf(path.join(p, e.name)) : e.name.endsWith('.ts') ? [path.join(p, e.name)] : []);
}

/** Throws naming the fix when a compiled file of these sources (folders or files under src/) is missing or stale. */
export function requireDist(sources: string[]): void {
  for (const src of sources.flatMap((s) => sourcesOf(path.join(ROOT, s)))) {
    const built = path.join(ROOT, 'dist', path.relative(ROOT, src)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: these tests run the built CLI; run \`npx tsc -p .\` first`);
    if (fs.statSync(built).mtimeMs < fs.statSync(src).mtimeMs) throw new Error(`${built} is older than ${src}: rebuild with \`npx tsc -p .\``);
  }
}
