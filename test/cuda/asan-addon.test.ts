// The emulated CUDA addon itself under AddressSanitizer and UndefinedBehaviorSanitizer: the glue (argument
// checks, N-API conversions), the launchers and the kernels as the jest lanes load them, not only the C++
// test binary. The addon is built with both sanitizers into a temporary folder (test/cuda/build-emu-addon.sh),
// and a child jest runs the cuda-emu tests that call every op (a whole HR training step against the
// reference, the backend's own tests) with libasan preloaded (node itself is not instrumented) and
// FAIRTUNE_CUDA_EMU_ADDON pointing at the sanitized build. Any report fails the child.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

jest.setTimeout(600000);

const root = path.resolve(__dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-asan-addon-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the emulated addon runs a training step and the backend tests clean under ASan and UBSan', () => {
  const built = execFileSync('sh', [path.join(__dirname, 'build-emu-addon.sh'), dir, '-fsanitize=address,undefined -fno-omit-frame-pointer -g'], {
    encoding: 'utf8', timeout: 400000,
  }).trim().split('\n').pop()!;
  expect(fs.existsSync(built)).toBe(true);
  // The build really is instrumented (otherwise the run below would prove nothing).
  const symbols = execFileSync('nm', ['-D', built], { encoding: 'utf8' });
  expect(symbols).toMatch(/__asan_/);
  expect(symbols).toMatch(/__ubsan_/);
  const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  expect(fs.existsSync(libasan)).toBe(true);
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/jest/bin/jest.js'), '-i', 'test/cuda/trace.test.ts', 'test/cuda/backend.test.ts'], {
    cwd: root, encoding: 'utf8', timeout: 180000,
    env: {
      ...process.env, LD_PRELOAD: libasan, FAIRTUNE_CUDA_EMU_ADDON: built,
      ASAN_OPTIONS: 'detect_leaks=0', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  });
  const log = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`sanitized run exited ${r.status}:\n${log.slice(-6000)}`);
  expect(log).not.toMatch(/ERROR: AddressSanitizer|runtime error:/);
  expect(log).toMatch(/Tests:\s+\d+ passed/);
});
