// Per-layer compression targets, as Deep Compression sets them: `--sparsity 0.9`, or
// `--sparsity conv1=0.34,conv2=0.88,dense1=0.92,dense2=0.81`, or `--bits conv=8,dense=5`, or a mix
// (`--bits 5,dense1=6`: a bare number is the default for the layers not named).
// Keys: a layer name ('dense1', 'conv2d1'), its short alias ('conv1' for 'conv2d1'), or a layer
// kind ('conv', 'dense') that applies to every layer of that kind. A layer name wins over a kind,
// a kind over the default.

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export interface PerLayer {
  /** The value for layers not named (undefined: none). */
  default?: number;
  /** Values by key (layer name, alias, or kind), as given. */
  layers: Record<string, number>;
}

/** Parses "0.9", "dense1=0.92,conv1=0.34", "conv=8,dense=5" or "5,dense1=6"; `check` validates each value. */
export function parsePerLayer(text: string, what: string, check: (v: number) => string | undefined): PerLayer {
  const out: PerLayer = { layers: {} };
  const parts = String(text)
    .split(',')
    .map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new TargetError(`${what} must be a number or name=value pairs separated by commas, got '${text}'`);
  for (const p of parts) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? undefined : p.slice(0, eq).trim();
    const raw = eq < 0 ? p : p.slice(eq + 1).trim();
    const v = Number(raw);
    const err = raw === '' || !Number.isFinite(v) ? 'is not a number' : check(v);
    if (err) throw new TargetError(`${what}: '${p}' ${err}`);
    if (key === undefined) {
      if (out.default !== undefined) throw new TargetError(`${what}: more than one default value in '${text}'`);
      out.default = v;
    } else {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key))
        throw new TargetError(`${what}: '${key}' is not a layer name (e.g. dense1, conv1, or a kind: conv, dense)`);
      if (key in out.layers) throw new TargetError(`${what}: layer '${key}' is given twice`);
      out.layers[key] = v;
    }
  }
  return out;
}

/** A layer as far as targets are concerned: its name and kind ('dense', 'conv2d'). */
export interface TargetLayer {
  name: string;
  kind: string;
}

const KIND_KEYS: Record<string, string> = { conv: 'conv2d', conv2d: 'conv2d', dense: 'dense' };

function aliasOf(name: string): string | undefined {
  const m = /^conv2d(\d+)$/.exec(name);
  return m ? `conv${m[1]}` : undefined;
}

/**
 * Each layer's value (by layer name), or undefined where neither a key nor the default applies.
 * A key that matches no layer and no kind of the model is an error naming the layers.
 */
export function resolvePerLayer(t: PerLayer, layers: TargetLayer[], what: string): Map<string, number | undefined> {
  for (const k of Object.keys(t.layers)) {
    const ok = layers.some((l) => l.name === k || aliasOf(l.name) === k || KIND_KEYS[k] === l.kind);
    if (!ok) {
      const names = layers.map((l) => (aliasOf(l.name) ? `${l.name} (${aliasOf(l.name)})` : l.name));
      throw new TargetError(`${what}: '${k}' is not a layer of this model (layers: ${names.join(', ')}; kinds: conv, dense)`);
    }
  }
  const out = new Map<string, number | undefined>();
  for (const l of layers) {
    const byName = t.layers[l.name] ?? (aliasOf(l.name) ? t.layers[aliasOf(l.name)!] : undefined);
    const byKind = Object.entries(t.layers).find(([k]) => KIND_KEYS[k] === l.kind)?.[1];
    out.set(l.name, byName ?? byKind ?? t.default);
  }
  return out;
}

/** "conv1=0.34,dense1=0.92" — the inverse of parsePerLayer (for reports and configs). */
export function formatPerLayer(t: PerLayer): string {
  const parts = t.default !== undefined ? [String(t.default)] : [];
  for (const [k, v] of Object.entries(t.layers)) parts.push(`${k}=${v}`);
  return parts.join(',');
}
