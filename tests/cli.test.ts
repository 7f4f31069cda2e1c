import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('slimgpu CLI', () => {
  it('info --json prints the adapter (lavapipe here)', async () => {
    const r = await cli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe('node-dawn');
    expect(info.features).toContain('timestamp-query');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    // CI machines have no GPU: the adapter must be Mesa's lavapipe (llvmpipe)
    if (process.env.CI) expect(`${info.vendor} ${info.description}`).toMatch(/mesa|llvmpipe/i);
  });

  it('info prints a table; unknown commands fail with usage help', async () => {
    const r = await cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/maxStorageBufferBindingSize\s+\d+/);
    const bad = await cli(['frobnicate']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
