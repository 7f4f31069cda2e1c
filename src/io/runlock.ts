// One writer per run folder (Node only). `slimgpu train --out DIR` holds DIR/.slimgpu.lock, a small
// JSON file {pid, host, startTime, command, since}, created with O_EXCL so two processes never both
// get it. A second run on the same folder is refused with the holder's pid and command. A lock whose
// process is gone (kill -9, a crash, a reboot) is stale: it is taken over, and temporary files the
// dead process left behind (.NAME.PID.RANDOM.tmp from writeFileAtomic) are removed. On Linux the
// holder's start time (/proc/PID/stat) is compared too, so a recycled pid does not keep a lock alive.
import * as fs from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileError } from './files.js';

export const LOCK_NAME = '.slimgpu.lock';

export class RunLockError extends FileError {
  constructor(
    message: string,
    readonly holderPid?: number,
  ) {
    super(message);
    this.name = 'RunLockError';
  }
}

export interface LockInfo {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (Linux), '' elsewhere. */
  startTime: string;
  command: string;
  since: string;
}

export interface RunLock {
  readonly path: string;
  /** A stale lock of this process that was taken over (for the log). */
  readonly tookOver?: LockInfo;
  release(): Promise<void>;
}

async function procStart(pid: number): Promise<string> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // field 22 (starttime), counted after the ')' that ends the command name
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** 'alive', 'dead', or 'unknown' (another host: nothing can be checked from here). */
async function holderState(info: LockInfo, host: string): Promise<'alive' | 'dead' | 'unknown'> {
  if (info.host !== host) return 'unknown';
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
  if (info.startTime) {
    const now = await procStart(info.pid);
    if (now && now !== info.startTime) return 'dead'; // the pid was recycled by another process
  }
  return 'alive';
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    if (Number.isSafeInteger(v.pid) && v.pid > 0 && typeof v.host === 'string') return v;
  } catch {
    /* an empty or torn lock file: its writer died while creating it */
  }
  return { pid: -1, host: '', startTime: '', command: '(unreadable lock file)', since: '' };
}

/** Removes temporary files (.NAME.PID.HEX.tmp) that `pid` left in `dir`. */
async function removeTempsOf(dir: string, pid: number): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (m && (pid < 0 || Number(m[1]) === pid)) {
      await fs.rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Takes the run folder `dir` for this process (creating the folder), or throws RunLockError naming
 * the process that holds it. `command` is recorded for the message others get.
 */
export async function acquireRunLock(dir: string, command = process.argv.slice(1).join(' ')): Promise<RunLock> {
  const host = hostname();
  const path = join(dir, LOCK_NAME);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FileError(`slimgpu: cannot create the run folder '${dir}' (${err.code}): ${err.message}`);
  }
  const me: LockInfo = { pid: process.pid, host, startTime: await procStart(process.pid), command, since: new Date().toISOString() };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await fs.open(path, 'wx', 0o644);
      try {
        await h.writeFile(JSON.stringify(me) + '\n');
        await h.sync();
      } finally {
        await h.close();
      }
      let released = false;
      const onExit = () => {
        if (!released)
          try {
            unlinkSync(path);
          } catch {
            /* gone */
          }
      };
      process.once('exit', onExit);
      return {
        path,
        tookOver,
        async release() {
          if (released) return;
          released = true;
          process.removeListener('exit', onExit);
          const cur = await readLock(path);
          if (cur && cur.pid === me.pid && cur.startTime === me.startTime) await fs.rm(path, { force: true });
        },
      };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'EEXIST') throw new FileError(`slimgpu: cannot create the lock '${path}' (${err.code}): ${err.message}`);
    }
    const held = await readLock(path);
    if (!held) continue; // released meanwhile: try again
    const state = held.pid === -1 ? 'dead' : await holderState(held, host);
    if (state !== 'dead') {
      const where = state === 'unknown' ? ` on host ${held.host} (cannot check it from ${host}; remove ${path} if that run is gone)` : '';
      throw new RunLockError(
        `slimgpu: the run folder '${dir}' is in use by process ${held.pid}${where} (${held.command || 'slimgpu'}, since ${held.since}); ` +
          `wait for it to finish or choose another --out. Lock: ${path}`,
        held.pid,
      );
    }
    // stale: the holder is gone. Remove its lock and temporary files, then take the lock (O_EXCL
    // again, so of two runs taking over at once only one wins).
    await fs.rm(path, { force: true });
    await removeTempsOf(dir, held.pid);
    tookOver = held;
  }
  throw new RunLockError(`slimgpu: could not take the lock ${path} (it changed hands repeatedly)`);
}
