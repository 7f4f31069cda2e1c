// Interaction data: MovieLens's three formats (generated here, byte for byte like the downloads),
// the generic CSV, Debian's dumpavail, the filters and the leave-last-out split.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/dataset.js';
import { detectMovieLens, firstAlternative, parseDebianDeps, parseInteractionsCsv, parseMovieLens } from '../src/data/interactions.js';
import { loadInteractionLog, loadRecData } from '../src/data/interactions-load.js';
import { filterLog, leaveLastOut } from '../src/data/rec-split.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// (user, item, rating, timestamp) rows; user 1 has 4 items, user 2 three, user 3 one
const ROWS: [number, number, number, number][] = [
  [1, 10, 4, 881250949],
  [1, 20, 3, 881250950],
  [2, 10, 5, 891717742],
  [1, 30, 1, 878887116],
  [2, 40, 2.5, 880606923],
  [3, 20, 4, 886397596],
  [2, 20, 3, 884182806],
  [1, 40, 5, 891628467],
];
const uData = ROWS.map((r) => r.join('\t')).join('\n') + '\n';
const ratingsDat = ROWS.map((r) => r.join('::')).join('\n') + '\n';
const ratingsCsv = 'userId,movieId,rating,timestamp\n' + ROWS.map((r) => r.join(',')).join('\n') + '\n';

describe('MovieLens formats', () => {
  it('reads u.data, ratings.dat and ratings.csv to the same log', () => {
    const logs = [
      parseMovieLens(uData, 'u.data'),
      parseMovieLens(ratingsDat, 'ratings.dat'),
      parseMovieLens(ratingsCsv.replace(/\n/g, '\r\n'), 'ratings.csv'),
    ];
    expect(logs.map((l) => detectMovieLens(l === logs[0] ? uData : l === logs[1] ? ratingsDat : ratingsCsv, 'x'))).toEqual([
      'u.data',
      'ratings.dat',
      'ratings.csv',
    ]);
    for (const l of logs) {
      expect(l.users).toEqual(['1', '2', '3']);
      expect(l.items).toEqual(['10', '20', '30', '40']);
      expect([...l.rating!]).toEqual(ROWS.map((r) => r[2]));
      expect([...l.timestamp!]).toEqual(ROWS.map((r) => r[3]));
      expect(l.duplicates).toBe(0);
    }
  });

  it('names the file and line of a malformed row', () => {
    expect(() => parseMovieLens(uData + '4\t10\t3\n', 'u.data')).toThrow(/u\.data:9: expected 4 fields/);
    expect(() => parseMovieLens(ratingsDat.replace('2::40::2.5', '2::40::abc'), 'ratings.dat')).toThrow(
      /ratings\.dat:5: rating 'abc' is not a number/,
    );
    expect(() => parseMovieLens(ratingsCsv.replace('881250950', '88125x'), 'ratings.csv')).toThrow(
      /ratings\.csv:3: timestamp '88125x' is not an integer/,
    );
    expect(() => parseMovieLens('hello world\n', 'foo')).toThrow(/foo: not a MovieLens ratings file/);
    expect(() => parseMovieLens('', 'empty')).toThrow(DataError);
  });

  it('keeps a duplicate (user, item) once, at its first occurrence', () => {
    const l = parseMovieLens(uData + '1\t10\t1\t999999999\n', 'u.data');
    expect(l.user.length).toBe(8);
    expect(l.duplicates).toBe(1);
    expect(l.rating![0]).toBe(4);
  });

  it('loads movielens:DIR from any of the three file names', async () => {
    for (const [name, body] of [
      ['u.data', uData],
      ['ratings.dat', ratingsDat],
      ['ratings.csv', ratingsCsv],
    ] as const) {
      const d = join(dir, name.replace('.', '_'));
      await mkdir(d);
      await writeFile(join(d, name), body);
      const log = await loadInteractionLog(`movielens:${d}`);
      expect(log.user.length).toBe(8);
    }
    await expect(loadInteractionLog(`movielens:${dir}`)).rejects.toThrow(/holds none of u\.data/);
    await expect(loadInteractionLog('movielens:/no/such/dir')).rejects.toThrow(/no such file or folder/);
    await expect(loadInteractionLog('netflix:x')).rejects.toThrow(/unknown recommendation data 'netflix:x'/);
  });
});

describe('interactions CSV', () => {
  it('finds columns by name in any order, or by the given names', () => {
    const l = parseInteractionsCsv('time,item,user\n5,a,u1\n3,b,u1\n', 'x.csv');
    expect(l.users).toEqual(['u1']);
    expect([...l.timestamp!]).toEqual([5, 3]);
    expect(l.rating).toBeUndefined();
    const m = parseInteractionsCsv('who,what,score\nu,i,2\n', 'y.csv', { user: 'who', item: 'what', rating: 'score' });
    expect([...m.rating!]).toEqual([2]);
  });

  it('names a missing column, a wrong field count and a non-numeric rating', () => {
    expect(() => parseInteractionsCsv('a,b\n1,2\n', 'w.csv')).toThrow(/w\.csv: the header \[a, b\] names no user column/);
    expect(() => parseInteractionsCsv('user,item\n1,2\n', 'w.csv', { rating: 'stars' })).toThrow(/no column 'stars' for the rating/);
    expect(() => parseInteractionsCsv('user,item,rating\n1,2,3\n1,2\n', 'w.csv')).toThrow(/w\.csv:3: expected 3 fields/);
    expect(() => parseInteractionsCsv('user,item,rating\n1,2,NaN\n', 'w.csv')).toThrow(/w\.csv:2: rating 'NaN' is not a number/);
    expect(() => parseInteractionsCsv('user,item\n1,\n', 'w.csv')).toThrow(/w\.csv:2: empty item/);
    expect(() => parseInteractionsCsv('user,item\n', 'w.csv')).toThrow(/holds no interactions/);
  });
});

describe('debian-deps', () => {
  const dump = [
    'Package: app',
    'Version: 1',
    'Depends: libc6 (>= 2.34), libfoo1 | libfoo-alt,',
    ' python3:any',
    'Recommends: app-data',
    '',
    'Package: tool',
    'Pre-Depends: dpkg (>= 1.15)',
    'Depends: libc6, tool',
    '',
    'Package: app',
    'Version: 2',
    'Depends: libc6, libbar2',
    '',
    'Package: data-only',
    'Description: no deps',
    '',
  ].join('\n');
  it('takes Depends, Pre-Depends and Recommends, the first alternative, union over stanzas', () => {
    const l = parseDebianDeps(dump);
    expect(l.users).toEqual(['app', 'tool']);
    const itemsOf = (u: string) =>
      [...l.user]
        .map((x, k) => [x, k] as const)
        .filter(([x]) => l.users[x] === u)
        .map(([, k]) => l.items[l.item[k]!]);
    expect(itemsOf('app')).toEqual(['libc6', 'libfoo1', 'python3', 'app-data', 'libbar2']);
    expect(itemsOf('tool')).toEqual(['dpkg', 'libc6']);
    expect(l.duplicates).toBe(1);
    expect(firstAlternative(' a (>= 1) | b ')).toBe('a');
    expect(() => parseDebianDeps('Package: x\ngarbage\n', 'dump.txt')).toThrow(/dump\.txt:2: not a 'Field: value' line/);
  });

  it('loads from a saved dump and applies its filters', async () => {
    const f = join(dir, 'dump.txt');
    await writeFile(f, dump);
    const log = filterLog(await loadInteractionLog('debian-deps', { debianFile: f }), { minItemUsers: 2 });
    expect(log.items).toEqual(['libc6']);
    await expect(loadRecData('debian-deps', { debianFile: f })).rejects.toThrow(/no interactions left/);
  });
});

describe('filters and leave-last-out', () => {
  it('puts the latest item in test and the one before in validation', () => {
    const s = leaveLastOut(parseMovieLens(uData, 'u.data'));
    // user 1 by time: 30 (878887116), 10, 20, 40  → train 30, 10; valid 20; test 40
    expect([...s.trainItems.subarray(s.trainPtr[0], s.trainPtr[1])]).toEqual([2, 0]);
    expect([s.valid[0], s.test[0]]).toEqual([1, 3]);
    // user 2: 40 (880606923), 20, 10 → train 40; valid 20; test 10
    expect([s.valid[1], s.test[1]]).toEqual([1, 0]);
    // user 3 has one interaction: trained on, not evaluated
    expect([s.valid[2], s.test[2]]).toEqual([-1, -1]);
    expect(s.trainPtr[3] - s.trainPtr[2]).toBe(1);
    expect(s.evalUsers).toBe(2);
    expect([...s.popularity]).toEqual([1, 1, 1, 1]);
  });

  it('without timestamps: a seeded random order, the same for the same seed', () => {
    const l = parseInteractionsCsv('user,item\n' + Array.from({ length: 20 }, (_, i) => `u,i${i}`).join('\n'), 'r.csv');
    const a = leaveLastOut(l, 1),
      b = leaveLastOut(l, 1),
      c = leaveLastOut(l, 2);
    expect(a.test[0]).toBe(b.test[0]);
    expect([a.test[0], a.valid[0]]).not.toEqual([c.test[0], c.valid[0]]);
    expect(a.trainPtr[1]).toBe(18);
  });

  it('filters rare items, then short users, renumbering ids', () => {
    const l = filterLog(parseMovieLens(uData, 'u.data'), { minItemUsers: 2, minUserItems: 2 });
    expect(l.items).toEqual(['10', '20', '40']);
    expect(l.users).toEqual(['1', '2']);
    expect(() => filterLog(l, { minItemUsers: 99 })).toThrow(/no interactions left/);
    expect(() => leaveLastOut(parseInteractionsCsv('user,item\na,b\n', 'z.csv'))).toThrow(/no user has the 3 interactions/);
  });
});
