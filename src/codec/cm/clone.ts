// A deep copy of a CM model's whole state (tables, StateMaps, mixer, APMs, match model, per-stream
// histories), so that a state computed once — the CM run over a model's prime text — can start
// every file of a process without being computed again. Generic over the plain class instances the
// CM is made of: typed arrays are copied, arrays and objects copied field by field with their
// prototype kept; an object reached twice is copied once (shared references stay shared).
import { CmModel } from './model.js';

function copy(o: unknown, seen: Map<object, unknown>): unknown {
  if (o === null || typeof o !== 'object') return o;
  const done = seen.get(o);
  if (done !== undefined) return done;
  if (ArrayBuffer.isView(o)) {
    const c = (o as unknown as { slice(): unknown }).slice();
    seen.set(o, c);
    return c;
  }
  if (Array.isArray(o)) {
    const c: unknown[] = [];
    seen.set(o, c);
    for (const x of o) c.push(copy(x, seen));
    return c;
  }
  const c = Object.create(Object.getPrototypeOf(o) as object) as Record<string, unknown>;
  seen.set(o, c);
  for (const k of Object.keys(o)) c[k] = copy((o as Record<string, unknown>)[k], seen);
  return c;
}

/** An independent copy of `m`: coding with the copy leaves `m` as it was. */
export function cloneCm(m: CmModel): CmModel {
  if (!(m instanceof CmModel)) throw new TypeError('cloneCm: not a CmModel');
  return copy(m, new Map()) as CmModel;
}
