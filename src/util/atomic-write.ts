// Every file the project writes is written atomically: to `<file>.tmp-<pid>`, then renamed into place, so a
// reader (or a crash) never sees half a file and an interrupted run loses nothing it had. This module is the
// one place that does it, and it also cleans up after itself:
//  - a failed write or rename removes its temporary file (an --out that is a directory used to leave one);
//  - temporary files still open when the process exits are removed;
//  - temporary files of processes that no longer exist (a Ctrl-C or kill in the middle of a write, a power
//    cut) are swept the next time the same file is written, and commands sweep their outputs on start.
// No signal handler is installed for this: a JavaScript SIGINT handler only runs between event-loop turns,
// so it would keep Ctrl-C from stopping a long synchronous training loop at once.
import * as fs from 'fs';
import * as path from 'path';

const live = new Set<string>();
let hooked = false;

function removeLive(): void {
  for (const f of live) fs.rmSync(f, { force: true, recursive: true });
  live.clear();
}

/** On exit (also process.exit), removes the temporary files still open. */
function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeLive);
}

/**
 * Whether process `pid` still runs. A zombie counts as gone: a killed cell process whose parent died with it
 * is reparented, and where PID 1 does not reap (a container's plain shell) it stays a zombie for good, which
 * `kill(pid, 0)` still reports as a process.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

/** True when /proc says `pid` has exited but is not reaped (state Z or X); false where /proc is missing. */
function zombie(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** Removes `<file>.tmp-<pid>` left by processes that no longer run. */
export function sweepStaleTemps(file: string): void {
  const dir = path.dirname(path.resolve(file)), prefix = `${path.basename(file)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) fs.rmSync(path.join(dir, n), { force: true, recursive: true });
  }
}

/** Why `file` cannot be written, in one line, or null. */
function targetProblem(file: string): string | null {
  try {
    if (fs.statSync(file).isDirectory()) return `${file} is a directory, not a file`;
  } catch {
    /* not there yet: fine */
  }
  const dir = path.dirname(path.resolve(file));
  try {
    if (!fs.statSync(dir).isDirectory()) return `${dir} is not a directory`;
  } catch {
    return `the folder ${dir} does not exist`;
  }
  return null;
}

/**
 * Writes `file` through `<file>.tmp-<pid>`: `fill` writes the temporary path (it may stream), then the rename
 * publishes it. On any failure the temporary file is removed and the error names `file`.
 */
export function writeAtomically(file: string, fill: (tmp: string) => void): void {
  const problem = targetProblem(file);
  if (problem !== null) throw new Error(`cannot write ${file}: ${problem}`);
  hookCleanup();
  sweepStaleTemps(file);
  const tmp = `${file}.tmp-${process.pid}`;
  live.add(tmp);
  try {
    fill(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true, recursive: true });
    throw e;
  } finally {
    live.delete(tmp);
  }
}

/** writeAtomically for data in memory. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, data));
}
