// The one way a layer of the house builds its error helper: `const fail = thrower(DataError,
// 'slimgpu.data: ')` gives `fail(msg): never`, which throws DataError(prefix + msg). Every layer
// keeps its named error classes (tests and callers match on them); only the helper is shared.

/** A function that throws `new Err(prefix + msg)`: a layer's (or a function's) `fail`. */
export function thrower<E extends Error>(Err: new (message: string) => E, prefix = ''): (msg: string) => never {
  return (msg: string): never => {
    throw new Err(prefix + msg);
  };
}
