// A throwaway Redis for the runner tests: a free loopback port (bind port 0, read it, close), then
// `redis-server` on it without persistence, ready once it answers PING.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';

export interface TestRedis {
  port: number;
  url(db: number): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    s.write('PING\r\n');
  });
}

/** Starts Redis on a free port, or on `port` (to bring a stopped server back where its clients expect it). */
export async function startRedis(port?: number, bin = process.env.REDIS_SERVER ?? 'redis-server'): Promise<TestRedis> {
  port ??= await freePort();
  let stderr = '';
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | null = null;
  proc.once('error', (e) => { spawnError = e; });
  proc.stdout!.on('data', (d) => { stderr += d.toString(); });
  proc.stderr!.on('data', (d) => { stderr += d.toString(); });
  const deadline = Date.now() + 10000;
  while (!(await ping(port))) {
    if (spawnError) throw new Error(`cannot start ${bin} (install Debian's redis-server, or set REDIS_SERVER): ${(spawnError as Error).message}`);
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${bin} exited with code ${proc.exitCode}: ${stderr.slice(-2000)}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${bin} on port ${port} did not answer PING within 10 s: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: (db) => `redis://127.0.0.1:${port}/${db}`,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    }),
  };
}
