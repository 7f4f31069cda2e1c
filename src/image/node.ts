// Loading the shipped `img:` models in Node: models/img/<file> next to the package (src/ or dist/),
// or the folder named by SLIMGPU_IMAGE_MODELS.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGE_PRESETS, parseImageModel, type ImageModel } from './model.js';
import { ImageError } from './raw.js';

export function imageModelDir(): string {
  const env = process.env.SLIMGPU_IMAGE_MODELS;
  if (env) return env;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const d = resolve(here, up, 'models/img');
    if (existsSync(d)) return d;
  }
  return resolve(here, '../../models/img');
}

const cache = new Map<string, Promise<ImageModel>>();

/** The model of an `img:` preset id (parsed once per process). */
export function loadImageModel(id: string): Promise<ImageModel> {
  const preset = IMAGE_PRESETS[id];
  if (!preset?.file)
    return Promise.reject(
      new ImageError(
        `unknown image model '${id}' (model files: ${Object.keys(IMAGE_PRESETS)
          .filter((k) => IMAGE_PRESETS[k]!.file)
          .join(', ')})`,
      ),
    );
  let p = cache.get(id);
  if (!p) {
    const path = join(imageModelDir(), preset.file);
    p = readFile(path).then(
      (b) => parseImageModel(new Uint8Array(b), id),
      (e: NodeJS.ErrnoException) => {
        throw new ImageError(`image model '${id}' is not installed: cannot read ${path} (${e.code ?? e.message})`);
      },
    );
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}
