#!/usr/bin/env node
// One file-name style: kebab-case (lower-case words joined by '-', then extensions, e.g. attention-decode.ts,
// sgd-l2.test.ts) for every tracked file under src/, bench/, scripts/, tests/, demo/ and shaders/.
// Run by `npm run lint`; exits 1 and lists the offenders. Generated and fixture data are exempt.
import { execFileSync } from 'node:child_process';

const ROOTS = ['src', 'bench', 'scripts', 'tests', 'demo', 'shaders'];
const EXEMPT = [/^src\/gen\//, /^tests\/fixtures\//, /^demo\/samples\//];
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+)*$/;

const files = execFileSync('git', ['ls-files', '--', ...ROOTS], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const bad = files.filter((f) => !EXEMPT.some((re) => re.test(f)) && !KEBAB.test(f.split('/').pop()));
if (bad.length > 0) {
  console.error(`file names must be kebab-case (${KEBAB}); ${bad.length} are not:`);
  for (const f of bad) console.error(`  ${f}`);
  process.exit(1);
}
console.log(`file names: ${files.length} files, all kebab-case`);
