// ESLint 9 flat config: typescript-eslint's recommended rules (without type information, so a lint of
// the whole tree stays fast on 2 cores) plus the house limits of ../docs/CONVENTIONS.md. Formatting is
// Prettier's (.prettierrc.json); eslint-config-prettier turns off every rule that would fight it.
// `npm run lint` = eslint + prettier --check + the file-name check; `npm run format` fixes what can be.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/gen/', 'runs/', 'results/', 'python/', 'tests/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mjs,js}'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      // The library runs in Node and in the browser (TypeScript itself checks names in .ts files).
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      // `_`-prefixed names are the codebase's way to say "unused on purpose" (destructuring, callbacks).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Focused or skipped tests must never be committed: .only silently skips the rest of the suite,
      // .skip a test that nobody reads again. A test that cannot run here says why with it.skipIf(cond).
      'no-restricted-properties': [
        'error',
        ...['describe', 'it', 'test'].flatMap((object) => [
          { object, property: 'only', message: 'a focused test skips the rest of the suite; remove .only' },
          { object, property: 'skip', message: 'a skipped test is a test nobody runs; fix it, delete it, or use skipIf' },
        ]),
      ],
    },
  },
  {
    // House limits for the library: no function over 80 lines, no file over 400 (CONVENTIONS.md, issue 20).
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  prettier,
);
