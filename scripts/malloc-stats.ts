// The native heap of this process as glibc sees it, for the soak's --malloc option (Linux, gdb).
//
// Process RSS mixes live native memory with memory the C allocator keeps after it is freed: glibc
// keeps one arena per thread that ever allocated (Dawn's and lavapipe's worker threads: 14 here)
// and hands freed pages back to the kernel only from the top of an arena, so RSS climbs in steps
// while a new pattern of transient allocations (a weight-sharing round, a checkpoint read) first
// fragments the arenas, then stays. glibc's `malloc_stats()` splits the two: "system bytes" is what
// the arenas hold, "in use bytes" what is live. Node cannot call it, so gdb attaches to this
// process (blocked in execFileSync, the GPU idle), points fd 2 at a file for the call and puts it
// back. Not for production: a diagnostic for long runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MallocStats {
  /** Bytes the allocator holds from the kernel (arenas + mmapped chunks). */
  systemBytes: number;
  /** Bytes of live allocations. */
  inUseBytes: number;
  arenas: number;
}

/** Parses the text of glibc's malloc_stats(); undefined if it has no "Total" block. */
export function parseMallocStats(text: string): MallocStats | undefined {
  const m = /Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)/.exec(text);
  if (!m) return undefined;
  return { systemBytes: Number(m[1]), inUseBytes: Number(m[2]), arenas: (text.match(/^Arena \d+:/gm) ?? []).length };
}

/** glibc's malloc_stats() of this process through gdb; undefined where gdb or glibc is missing. */
export function mallocStats(timeoutMs = 120_000): MallocStats | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'slimgpu-malloc-'));
  const file = join(dir, 'stats.txt');
  try {
    // O_WRONLY|O_CREAT|O_TRUNC = 577, mode 0600
    execFileSync(
      'gdb',
      [
        '-p',
        String(process.pid),
        '-batch',
        '-nx',
        '-iex',
        'set auto-solib-add off',
        '-ex',
        'sharedlibrary libc\\.so',
        '-ex',
        `set $f = (int)open("${file}", 577, 384)`,
        '-ex',
        'set $e = (int)dup(2)',
        '-ex',
        'call (int)dup2($f, 2)',
        '-ex',
        'call (void)malloc_stats()',
        '-ex',
        'call (int)dup2($e, 2)',
        '-ex',
        'call (int)close($e)',
        '-ex',
        'call (int)close($f)',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], timeout: timeoutMs },
    );
    return parseMallocStats(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
