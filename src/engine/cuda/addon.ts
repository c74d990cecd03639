// Finds and loads a CUDA addon. Loading never throws: a missing build or a machine without a driver is
// returned as a reason, so backend selection can say "cuda unavailable: <reason>".
//  - 'cuda' (fairtune_cuda.node, built by `npm run build:cuda` with nvcc): $FAIRTUNE_CUDA_ADDON when set
//    (exclusive), else build-cuda/Release/.
//  - 'cuda-emu' (fairtune_cuda_emu.node, built by node-gyp with every `npm ci`): $FAIRTUNE_CUDA_EMU_ADDON
//    when set (exclusive), else build/Release/.
import * as fs from 'fs';
import * as path from 'path';
import { CUDA_FUNCTIONS, CudaAddon } from './native-api';

export type CudaFlavour = 'cuda' | 'cuda-emu';
export type CudaLoad = { ok: true; addon: CudaAddon; path: string } | { ok: false; reason: string };

const FLAVOURS: Record<CudaFlavour, { file: string; env: string; dirs: string[]; hint: string }> = {
  cuda: {
    file: 'fairtune_cuda.node',
    env: 'FAIRTUNE_CUDA_ADDON',
    dirs: [path.join('build-cuda', 'Release')],
    hint: 'build it with `npm run build:cuda` on a machine with nvcc',
  },
  'cuda-emu': {
    file: 'fairtune_cuda_emu.node',
    env: 'FAIRTUNE_CUDA_EMU_ADDON',
    dirs: [path.join('build', 'Release')],
    hint: 'build it with `npm run build`',
  },
};

function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
}

export function cudaAddonCandidates(flavour: CudaFlavour, env: NodeJS.ProcessEnv = process.env): string[] {
  const f = FLAVOURS[flavour];
  const forced = env[f.env];
  if (forced !== undefined && forced !== '') return [path.resolve(forced)];
  const root = packageRoot();
  return f.dirs.map((d) => path.join(root, d, f.file));
}

const cache = new Map<CudaFlavour, CudaLoad>();

export function loadCudaAddon(flavour: CudaFlavour): CudaLoad {
  const hit = cache.get(flavour);
  if (hit) return hit;
  const reasons: string[] = [];
  let result: CudaLoad | undefined;
  for (const file of cudaAddonCandidates(flavour)) {
    if (!fs.existsSync(file)) {
      reasons.push(`${file} not found`);
      continue;
    }
    let mod: unknown;
    try {
      mod = require(file);
    } catch (e) {
      reasons.push(`${file} failed to load: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const missing = CUDA_FUNCTIONS.filter((fn) => typeof (mod as Record<string, unknown>)[fn] !== 'function');
    if (missing.length > 0) {
      reasons.push(`${file} is a stale build (missing ${missing.join(', ')})`);
      continue;
    }
    result = { ok: true, addon: mod as CudaAddon, path: file };
    break;
  }
  if (result === undefined) {
    result = { ok: false, reason: `${FLAVOURS[flavour].file} not available (${FLAVOURS[flavour].hint}): ${reasons.join('; ')}` };
  }
  cache.set(flavour, result);
  return result;
}
