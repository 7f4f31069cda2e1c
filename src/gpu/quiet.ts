// Dawn's start-up warnings, kept out of normal output (Node only).
//
// dawn.node prints lines such as
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 ...
// with fprintf(stderr) from native code during requestAdapter, so no JS hook sees them. Node has no
// dup(), but on Linux a terminal, file or pipe on fd 2 can be reopened through /proc/self/fd: the
// capture reopens fd 2 as a spare descriptor, points fd 2 at a temporary file for the call, then
// points fd 2 back. Lines Dawn is known to print at start-up are kept (shown with SLIMGPU_VERBOSE=1
// or `--verbose`); anything else that landed in the file is written back to stderr unchanged.
// Where fd 2 cannot be reopened (a socket, e.g. a child process whose parent captures output with
// Node's default stdio; or not Linux), nothing is redirected and the lines pass through.

/** Lines Dawn prints on every start-up on some drivers (lavapipe), hidden unless verbose. */
export const DAWN_STARTUP_NOISE = [/^Warning: \w+ artificially reduced from \d+ to \d+/];

export function verboseFromEnv(): boolean {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SLIMGPU_VERBOSE;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

export interface Captured<T> {
  value: T;
  /** Dawn's known start-up lines that were held back. */
  hidden: string[];
  /** Whether fd 2 was redirected at all. */
  redirected: boolean;
}

type Fs = typeof import('node:fs');

/** Runs `fn` with native stderr captured; returns its value and the known noise lines it printed. */
export async function captureNativeStderr<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  let fs: Fs;
  let tmpdir: string;
  try {
    const fsName = 'node:fs',
      osName = 'node:os';
    fs = (await import(/* @vite-ignore */ fsName)) as Fs;
    tmpdir = ((await import(/* @vite-ignore */ osName)) as typeof import('node:os')).tmpdir();
  } catch {
    return { value: await fn(), hidden: [], redirected: false };
  }
  let saved: number;
  try {
    saved = fs.openSync('/proc/self/fd/2', 'a'); // fails for sockets (ENXIO) and off Linux
  } catch {
    return { value: await fn(), hidden: [], redirected: false };
  }
  const file = `${tmpdir}/.slimgpu-dawn-stderr-${process.pid}-${Date.now()}.log`;
  let cap: number;
  try {
    cap = fs.openSync(file, 'w+', 0o600);
  } catch {
    fs.closeSync(saved);
    return { value: await fn(), hidden: [], redirected: false };
  }
  // fd 2 → the file. close + open are synchronous, so no JS runs in between; the lowest free
  // descriptor is 2 unless another thread opened one in that instant, which is checked.
  fs.closeSync(2);
  const got = fs.openSync(`/proc/self/fd/${cap}`, 'a');
  const restore = () => {
    if (got === 2) fs.closeSync(2);
    const back = fs.openSync(`/proc/self/fd/${saved}`, 'a');
    if (back !== 2) fs.closeSync(back); // fd 2 was taken meanwhile (never seen); leave it be
    if (got !== 2) fs.closeSync(got);
    fs.closeSync(saved);
  };
  let value: T;
  try {
    value = await fn();
  } finally {
    restore();
  }
  let text = '';
  try {
    text = fs.readFileSync(cap!, 'utf8');
  } finally {
    fs.closeSync(cap!);
    fs.rmSync(file, { force: true });
  }
  const hidden: string[] = [];
  const passed: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    (DAWN_STARTUP_NOISE.some((re) => re.test(line)) ? hidden : passed).push(line);
  }
  if (passed.length) process.stderr.write(passed.join('\n') + '\n');
  return { value, hidden, redirected: true };
}
