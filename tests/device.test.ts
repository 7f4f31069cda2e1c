import { describe, expect, it } from 'vitest';
import { compileModule, createTensor, GpuError, pipelines, specialize } from '../src/index.js';
import { testGpu } from './helpers.js';

describe('device (Node, Dawn)', () => {
  it('acquires an adapter and a device with the limits training needs', async () => {
    const gpu = await testGpu();
    expect(gpu.device).toBeDefined();
    expect(gpu.info.backend).toBe('node-dawn');
    // the device got the adapter's limits, not the defaults
    expect(gpu.limits.maxStorageBufferBindingSize).toBe(gpu.adapter.limits.maxStorageBufferBindingSize);
    expect(gpu.limits.maxBufferSize).toBe(gpu.adapter.limits.maxBufferSize);
    expect(gpu.limits.maxComputeWorkgroupStorageSize).toBe(gpu.adapter.limits.maxComputeWorkgroupStorageSize);
    for (const f of ['timestamp-query', 'subgroups', 'shader-f16']) {
      expect(gpu.features.has(f)).toBe(gpu.adapter.features.has(f));
    }
  });

  it('round-trips data through a compute shader', async () => {
    const gpu = await testGpu();
    const module = await compileModule(
      gpu,
      'double.wgsl',
      `
      @group(0) @binding(0) var<storage, read_write> x: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
        if (g.x < arrayLength(&x)) { x[g.x] = 2.0 * x[g.x] + 1.0; }
      }`,
    );
    const pipeline = gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const data = Float32Array.from({ length: 1000 }, (_, i) => i - 500.5);
    const t = createTensor(gpu, [1000], data, { label: 'x' });
    const bg = gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: t.binding() }] });
    const enc = gpu.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(Math.ceil(1000 / 64));
    pass.end();
    gpu.device.queue.submit([enc.finish()]);
    const out = await t.read();
    expect(Array.from(out)).toEqual(Array.from(data, (v) => Math.fround(2 * v + 1)));
    t.dispose();
  });

  it('a WGSL syntax error is thrown naming the shader and the line', async () => {
    const gpu = await testGpu();
    const code = 'fn ok() {}\nfn broken() { let a = ; }\n';
    await expect(compileModule(gpu, 'broken_kernel.wgsl', code)).rejects.toThrow(/broken_kernel\.wgsl:2:\d+/);
    await expect(compileModule(gpu, 'broken_kernel.wgsl', code)).rejects.toBeInstanceOf(GpuError);
  });

  it('specialises shaders and caches pipelines by compile-time facts only', async () => {
    const gpu = await testGpu();
    const src = specialize('step', { U8: true, WORDS: false, WG: 32 });
    expect(src).toContain('@workgroup_size(32)');
    expect(src).toContain('& 0xffu');
    expect(src).not.toContain('bitcast<f32>(data[x])');
    expect(src).not.toContain('#if');
    expect(specialize('step', { U8: false, WORDS: false, WG: 32 })).toContain('bitcast<f32>(data[x])');
    expect(() => specialize('step', { U8: true, WORDS: false })).toThrow(/shader 'step' needs define 'WG'/);
    const cache = pipelines(gpu);
    const before = cache.size;
    const p1 = await cache.get('step', { U8: true, WORDS: false, WG: 32 }, 'gather');
    const p2 = await cache.get('step', { WG: 32, WORDS: false, U8: true }, 'gather');
    expect(cache.size).toBe(before + 1);
    expect(p1).toBe(p2);
  });

  it('refuses tensors beyond the device limits with a clear error', async () => {
    const gpu = await testGpu();
    const n = Math.floor(gpu.limits.maxStorageBufferBindingSize / 4) + 1;
    expect(() => createTensor(gpu, [n])).toThrow(/beyond this device's limit/);
    expect(() => createTensor(gpu, [0, 3])).toThrow(/positive integers/);
    expect(() => createTensor(gpu, [2, 2], [1, 2, 3])).toThrow(/needs 4 values, got 3/);
  });
});
