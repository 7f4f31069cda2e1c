// Shader specialisation (wgsl-preprocessor) and the pipeline cache.
//
// A .wgsl file in shaders/ may use `${NAME}` placeholders: inside `#if ${NAME}` / `#elif ${NAME}`
// they choose a branch (wgsl-preprocessor), elsewhere they are replaced by the value as text
// (workgroup sizes, tile sizes). Only compile-time facts go in: shapes travel in uniforms, so one
// pipeline serves every shape. The cache key is (shader, entry point, sorted defines).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { shaderSources, type ShaderName } from '../gen/shaders.js';
import { GpuError, type Gpu } from './device.js';

export type Defines = Record<string, number | boolean | string>;

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The WGSL of `name` specialised with `defines`; throws on an undefined placeholder. */
export function specialize(name: ShaderName, defines: Defines = {}): string {
  const source: string = shaderSources[name];
  if (source === undefined) throw new GpuError(`slimgpu: unknown shader '${name}'`);
  const strings: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const key = m[1]!;
    if (!(key in defines)) {
      throw new GpuError(`slimgpu: shader '${name}' needs define '${key}' (given: ${Object.keys(defines).join(', ') || 'none'})`);
    }
    strings.push(source.slice(last, m.index));
    values.push(defines[key]);
    last = m.index! + m[0].length;
  }
  strings.push(source.slice(last));
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values);
}

export function pipelineKey(name: string, entryPoint: string, defines: Defines): string {
  const keys = Object.keys(defines).sort();
  return `${name}:${entryPoint}:` + keys.map((k) => `${k}=${String(defines[k])}`).join(',');
}

function formatCompileErrors(label: string, code: string, messages: readonly GPUCompilationMessage[]): string {
  const lines = code.split('\n');
  const errs = messages.filter((m) => m.type === 'error');
  return errs
    .map((m) => {
      const src = lines[m.lineNum - 1] ?? '';
      return `  ${label}:${m.lineNum}:${m.linePos} ${m.message}\n    ${src.trim()}`;
    })
    .join('\n');
}

/** Compiles a WGSL module and throws a GpuError naming the label and line on a compile error. */
export async function compileModule(gpu: Gpu, label: string, code: string): Promise<GPUShaderModule> {
  gpu.assertAlive();
  const device = gpu.device;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const scopeErr = await device.popErrorScope();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length || scopeErr) {
    const detail = errs.length ? formatCompileErrors(label, code, info.messages) : `  ${scopeErr!.message}`;
    throw new GpuError(`slimgpu: WGSL compile error in shader '${label}':\n${detail}`);
  }
  return module;
}

/** Compute pipelines built once per (shader, entry point, defines) on one device. */
export class PipelineCache {
  private cache = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly gpu: Gpu) {}

  get size(): number {
    return this.cache.size;
  }

  get(name: ShaderName, defines: Defines = {}, entryPoint = 'main'): Promise<GPUComputePipeline> {
    const key = pipelineKey(name, entryPoint, defines);
    let p = this.cache.get(key);
    if (!p) {
      p = this.build(name, defines, entryPoint, key);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async build(name: ShaderName, defines: Defines, entryPoint: string, key: string): Promise<GPUComputePipeline> {
    const code = specialize(name, defines);
    const module = await compileModule(this.gpu, `${name}.wgsl`, code);
    this.gpu.device.pushErrorScope('validation');
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.gpu.device.createComputePipelineAsync({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint },
      });
    } catch (e) {
      await this.gpu.device.popErrorScope();
      throw new GpuError(`slimgpu: cannot build pipeline ${key}: ${(e as Error).message}`);
    }
    const err = await this.gpu.device.popErrorScope();
    if (err) throw new GpuError(`slimgpu: cannot build pipeline ${key}: ${err.message}`);
    return pipeline;
  }
}

const caches = new WeakMap<Gpu, PipelineCache>();
/** The pipeline cache of a GPU context (one per device). */
export function pipelines(gpu: Gpu): PipelineCache {
  let c = caches.get(gpu);
  if (!c) {
    c = new PipelineCache(gpu);
    caches.set(gpu, c);
  }
  return c;
}
