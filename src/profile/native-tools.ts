// Builds and runs the small native measuring programs of bench/native (the FMA/BF16 peak loop and the
// OpenBLAS/oneDNN sgemm peers). They are compiled with the system g++ on first use into a temp directory
// keyed by a hash of their sources, so edits rebuild them and the source tree gets no build output.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The package root: the nearest ancestor of this file holding package.json (works from src/ and dist/src/). */
export function packageRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bench', 'native'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the fairtune package root (with bench/native) above ${from}`);
    dir = up;
  }
}

const SOURCES = ['build.sh', 'peak.cc', 'gemm_peers.cc'];
// The peer libraries' headers build.sh looks for: which of them exist is part of the build's identity, so that
// installing a missing peer (as the bench's message asks) and rerunning builds again instead of reusing the
// binary built without it.
const PEER_HEADERS = [
  '/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h',
  '/usr/include/cblas.h',
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/oneapi/dnnl/dnnl.h',
];

let built: string | null = null;

/** Directory holding the built `peak` and `gemm_peers`; builds them once per source version. */
export function nativeToolsDir(log: (msg: string) => void = () => {}): string {
  if (built) return built;
  const src = path.join(packageRoot(), 'bench', 'native');
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(fs.readFileSync(path.join(src, f)));
  for (const f of PEER_HEADERS) h.update(`${f}:${fs.existsSync(f)}\n`);
  const out = path.join(os.tmpdir(), `fairtune-bench-native-${h.digest('hex').slice(0, 12)}`);
  if (!fs.existsSync(path.join(out, 'gemm_peers'))) {
    // Build into a private directory, then rename: two runs building at once never see a half-written binary.
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      execFileSync('sh', [path.join(src, 'build.sh'), tmp], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`building bench/native failed (needs g++): ${err.stderr?.trim() || err.message}`);
    }
    try {
      fs.renameSync(tmp, out);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race; its build is the same
    }
    log(`built bench/native into ${out}`);
  }
  built = out;
  return out;
}

/** Runs one native tool and parses its single JSON line. */
/** Runs a tool; `env` is added to this process's environment, or replaces it whole when `replaceEnv` is set. */
export function runNativeTool<T>(tool: 'peak' | 'gemm_peers', args: string[], env: NodeJS.ProcessEnv = {}, replaceEnv = false): T {
  const exe = path.join(nativeToolsDir(), tool);
  const out = execFileSync(exe, args, { encoding: 'utf8', env: replaceEnv ? env : { ...process.env, ...env }, maxBuffer: 1 << 20 });
  const line = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${tool} ${args.join(' ')} printed no JSON: ${out.slice(0, 200)}`);
  }
}
