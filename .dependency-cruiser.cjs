/**
 * The house's import rules (docs/ARCHITECTURE.md): no import circles, and every layer imports only
 * from the layers below it. Checked in CI by `npm run check:deps`.
 *
 *   gpu < reference < data < kernels < ops < nn < compress < io < codec < apps (image, rec) < run < api < faces
 *
 * A file outside every layer (tests, configs) is not checked against the order, only for circles.
 */
const LAYERS = [
  ['gpu', '^src/(gpu/|gen/|wgsl-preprocessor\\.d\\.ts)'],
  ['reference', '^src/reference/'],
  ['data', '^src/data/'],
  ['kernels', '^src/kernels/'],
  ['ops', '^src/ops/'],
  ['nn', '^src/nn/'],
  ['compress', '^src/compress/'],
  ['io', '^src/io/'],
  ['codec', '^src/codec/'],
  ['apps', '^src/(image|rec)/'],
  ['run', '^src/run/'],
  ['api', '^src/(index|node)\\.ts$'],
  ['faces', '^(src/cli/|demo/|bench/|scripts/)'],
];

/** One rule per layer: it may not import any layer above it. */
const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} imports only from the layers below it: ${LAYERS.slice(0, i).map(([n]) => n).join(', ') || 'none'}`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join('|') },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import circles, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unlayered-src',
      comment: 'every file under src/ belongs to a layer of the house',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => `(${p})`).join('|') },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
