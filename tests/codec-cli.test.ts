// `slimgpu compress` / `decompress` as gzip/zstd are used (docs/codec-v5.md): stdin to stdout, -o,
// -c, -d, -k/--rm, -f, exit statuses, atomic outputs, named errors; CM alone without WebGPU.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressBytes } from '../src/codec/v5/index.js';
import { CountPredictor } from '../bench/predictor-double.js';
import { SHIPPED_MODEL_IDS } from '../src/codec/pretrained/index.js';

const BIN = join(import.meta.dirname, '../bin/slimgpu.js'),
  NO_WEBGPU = join(import.meta.dirname, 'fixtures/no-webgpu.mjs');
const dir = mkdtempSync(join(tmpdir(), 'slimgpu-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/slimz/input.txt')));

function run(args: string[], input?: Uint8Array) {
  const r = spawnSync(process.execPath, ['--import', NO_WEBGPU, BIN, ...args], { input, cwd: dir, maxBuffer: 1 << 26, timeout: 600_000 }); // a primed model (the default) primes once per process: ~10 s of CPU, minutes on a loaded machine
  return { code: r.status, stdout: new Uint8Array(r.stdout), stderr: r.stderr.toString() };
}

describe('slimgpu compress / decompress, gzip style (CM alone: no GPU is ever loaded)', () => {
  it('stdin to stdout both ways, -c, -d as decompress, quiet in a pipe', () => {
    const c = run(['compress', '--model', 'none'], text);
    expect(c.code).toBe(0);
    expect(c.stderr).not.toMatch(/error|webgpu|\|/i); // no progress bar in a pipe
    expect(c.stdout.length).toBeLessThan(text.length / 2);
    expect([...c.stdout.subarray(0, 4)]).toEqual([0xc5, 0x53, 0x5a, 6]);
    const d = run(['decompress', '-'], c.stdout);
    expect(d.code).toBe(0);
    expect(d.stdout).toEqual(text);
    const alias = run(['compress', '-d', '-q'], c.stdout);
    expect(alias.stdout).toEqual(text);
    expect(alias.stderr).toBe('');
    writeFileSync(join(dir, 'a.txt'), text);
    const viaC = run(['compress', '--model', 'none', '-c', 'a.txt']);
    expect(viaC.stdout).toEqual(c.stdout);
    expect(existsSync(join(dir, 'a.txt.slimz'))).toBe(false);
  });

  it('files: FILE → FILE.slimz → FILE, -o, keeps the input unless --rm, refuses to overwrite without -f', () => {
    writeFileSync(join(dir, 'b.txt'), text);
    expect(run(['compress', '--model', 'none', 'b.txt', '--json']).code).toBe(0);
    const z = readFileSync(join(dir, 'b.txt.slimz'));
    expect(existsSync(join(dir, 'b.txt'))).toBe(true); // kept (zstd's default)
    // an existing output: refused, untouched, non-zero exit
    const again = run(['compress', '--model', 'none', 'b.txt']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/'b\.txt\.slimz' already exists \(use -f to overwrite\)/);
    expect(readFileSync(join(dir, 'b.txt.slimz'))).toEqual(z);
    expect(run(['decompress', 'b.txt.slimz']).stderr).toMatch(/'b\.txt' already exists/);
    expect(run(['decompress', 'b.txt.slimz', '-f', '--rm']).code).toBe(0);
    expect(readFileSync(join(dir, 'b.txt'))).toEqual(Buffer.from(text));
    expect(existsSync(join(dir, 'b.txt.slimz'))).toBe(false); // --rm after a verified write
    expect(run(['compress', '--model', 'none', 'b.txt', '-o', 'x.slimz', '--rm']).code).toBe(0);
    expect(existsSync(join(dir, 'b.txt'))).toBe(false);
    expect(run(['decompress', 'x.slimz', '-o', 'y.txt', '-k']).code).toBe(0);
    expect(readFileSync(join(dir, 'y.txt'))).toEqual(Buffer.from(text));
    expect(existsSync(join(dir, 'x.slimz'))).toBe(true);
    expect(run(['decompress', 'x.slimz', '-k', '--rm']).stderr).toMatch(/--keep and --rm contradict/);
  });

  it('bad input: each a named error, a non-zero exit, and no output file', () => {
    writeFileSync(join(dir, 'c.txt'), text);
    // the default (auto) is the shipped pretrained model for small inputs; while none is shipped, that is said plainly
    const def = run(['compress', 'c.txt']);
    if (SHIPPED_MODEL_IDS.length === 0) {
      expect(def.code).not.toBe(0);
      expect(def.stderr).toMatch(/no pretrained model is shipped in this build of slimgpu \(use --model none\)/);
      expect(existsSync(join(dir, 'c.txt.slimz'))).toBe(false);
    } else {
      // a shipped model: the default round-trips, and names its model in the header
      expect(def.code, def.stderr).toBe(0);
      const z = new Uint8Array(readFileSync(join(dir, 'c.txt.slimz')));
      expect(z[4]! & 3).toBe(1);
      expect(run(['decompress', 'c.txt.slimz', '-o', 'c.back']).code).toBe(0);
      expect(readFileSync(join(dir, 'c.back'))).toEqual(Buffer.from(text));
      // auto is the pretrained model at any size (here 70 KB from stdin, size unknown; --model none: the CM alone)
      const big = new Uint8Array(70_000).map((_, i) => text[i % text.length]!);
      const zb = run(['compress'], big).stdout;
      expect(zb[4]! & 3).toBe(1);
      expect(run(['compress', '--model', 'none'], big).stdout[4]! & 3).toBe(0);
      expect(Buffer.from(run(['decompress'], zb).stdout)).toEqual(Buffer.from(big));
    }
    expect(run(['compress', 'nope.txt', '--model', 'none']).stderr).toMatch(/cannot read input 'nope\.txt': no such file/);
    expect(run(['compress', 'c.txt', '--model', 'nonsense']).stderr).toMatch(
      /--model must be auto, pretrained, pretrained:<id>, none or gpt:L-D-H-T/,
    );
    // a file coded with a model this build does not have: its id is named
    const double = new CountPredictor(text);
    return compressBytes(text, double).then((c) => {
      writeFileSync(join(dir, 'p.slimz'), c.bytes);
      const d = run(['decompress', 'p.slimz', '-o', 'p.txt']);
      expect(d.code).not.toBe(0);
      expect(d.stderr).toContain(`coded with pretrained model ${double.id.slice(0, 16)}…, which this build of slimgpu does not have`);
      expect(existsSync(join(dir, 'p.txt'))).toBe(false);
      // truncated and damaged CM-alone files, from a file and from stdin
      const z = run(['compress', '--model', 'none'], text).stdout;
      writeFileSync(join(dir, 'cut.slimz'), z.subarray(0, z.length - 9));
      const t = run(['decompress', 'cut.slimz', '-o', 'cut.txt']);
      expect(t.code).not.toBe(0);
      expect(t.stderr).toMatch(/slimgpu\.codec: .*(truncated|damaged|CRC-32)/);
      expect(existsSync(join(dir, 'cut.txt'))).toBe(false);
      const bad = z.slice();
      bad[5]! ^= 1;
      expect(run(['decompress'], bad).stderr).toMatch(/header is damaged/);
      expect(run(['decompress'], text).stderr).toMatch(/not a \.slimz file/);
      expect(run(['decompress'], new Uint8Array(0)).code).not.toBe(0);
    });
  }, 600_000); // four runs of the default (primed) model: ~10 s of CPU of priming each
});
