import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyReconcilePlan, reconcile, type ScannedEntry, type StoredFile } from '../../../electron/engine/library/common/reconcile.ts';
import { seededRandom } from '../../../scripts/fixtures/seeded-random.ts';

interface DiskFile {
  path: string;
  content: string;
  mtimeMs: number;
}

const print = (content: string): string => `fp:${content}`;
const contentArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 0, maxLength: 4 });
const pathArb = fc.tuple(fc.constantFrom('', 'x/', 'y/z/'), fc.constantFrom('p', 'q', 'r', 's', 't', 'u', 'v', 'w')).map(([d, n]) => `/root/${d}${n}.txt`);

/** A stored state plus the disk after arbitrary edits, renames, touches, deletions and additions. */
const scenarioArb = fc
  .record({
    before: fc.uniqueArray(fc.record({ path: pathArb, content: contentArb, mtimeMs: fc.integer({ min: 1, max: 3 }) }), { selector: (f) => f.path, maxLength: 12 }),
    ops: fc.array(fc.record({ op: fc.constantFrom('keep', 'edit', 'touch', 'rename', 'delete'), content: contentArb, path: pathArb, mtimeMs: fc.integer({ min: 1, max: 3 }) }), { minLength: 12, maxLength: 12 }),
    added: fc.array(fc.record({ path: pathArb, content: contentArb, mtimeMs: fc.integer({ min: 1, max: 3 }) }), { maxLength: 4 }),
    unknownPrints: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  })
  .map(({ before, ops, added, unknownPrints }) => {
    // Distinct mtimes per file, as real clocks give: two different files never look identical by
    // size and mtime alone (that case is the stated limit of any size+mtime change check).
    const files = before.map((f, i) => ({ ...f, mtimeMs: 10 * i + 1 }));
    const stored: StoredFile[] = files.map((f, i) => ({ id: i + 1, path: f.path, size: f.content.length, mtimeMs: f.mtimeMs, fingerprint: unknownPrints[i] ? null : print(f.content) }));
    const disk = new Map<string, DiskFile>();
    files.forEach((f, i) => {
      const { op, content, path, mtimeMs } = ops[i];
      if (op === 'keep') disk.set(f.path, { ...f });
      else if (op === 'edit') disk.set(f.path, { path: f.path, content, mtimeMs: f.mtimeMs + mtimeMs });
      else if (op === 'touch') disk.set(f.path, { ...f, mtimeMs: f.mtimeMs + mtimeMs });
      else if (op === 'rename' && !disk.has(path)) disk.set(path, { ...f, path });
    });
    added.forEach((f, k) => {
      if (!disk.has(f.path)) disk.set(f.path, { ...f, mtimeMs: 1000 + k });
    });
    return { stored, disk };
  });

const scanOf = (disk: Map<string, DiskFile>): ScannedEntry[] => [...disk.values()].map((f) => ({ path: f.path, size: f.content.length, mtimeMs: f.mtimeMs, kind: 'text' as const }));
const shape = (files: readonly { path: string; size: number; mtimeMs: number }[]): string[] => files.map((f) => `${f.path}|${f.size}|${f.mtimeMs}`).sort();

test('property: applying the plan to the stored state yields the scanned state', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async ({ stored, disk }) => {
      const scanned = scanOf(disk);
      const asked: string[] = [];
      const plan = await reconcile(stored, scanned, async (p) => {
        asked.push(p);
        return print(disk.get(p)!.content);
      });
      let next = 1000;
      const after = applyReconcilePlan(stored, plan, () => next++);
      assert.deepEqual(shape(after), shape(scanned));
      assert.equal(new Set(after.map((f) => f.id)).size, after.length, 'ids stay unique');
      for (const file of after) if (file.fingerprint !== null) assert.equal(file.fingerprint, print(disk.get(file.path)!.content), `${file.path} fingerprint`);
      // Lazy: nothing unchanged is fingerprinted, nothing twice.
      const unchanged = new Set(stored.filter((s) => disk.get(s.path)?.content.length === s.size && disk.get(s.path)?.mtimeMs === s.mtimeMs).map((s) => s.path));
      assert.ok(asked.every((p) => !unchanged.has(p)));
      assert.equal(new Set(asked).size, asked.length);
      const total = plan.added.length + plan.changed.length + plan.touched.length + plan.moved.length + plan.unchanged;
      assert.equal(total, scanned.length, 'every scanned file is accounted for once');
    }),
    { numRuns: 400 },
  );
});

test('property: a pure rename never yields add + remove', async () => {
  const renameArb = fc
    .uniqueArray(fc.record({ path: pathArb, content: contentArb, mtimeMs: fc.integer({ min: 1, max: 5 }) }), { selector: (f) => f.path, minLength: 1, maxLength: 8 })
    .chain((before) => fc.tuple(fc.constant(before), fc.shuffledSubarray([...new Set(['/root/n1.txt', '/root/n2.txt', '/root/m/n3.txt', ...before.map((f) => f.path)])], { minLength: before.length, maxLength: before.length })));
  await fc.assert(
    fc.asyncProperty(renameArb, async ([before, newPaths]) => {
      // A rename keeps the mtime; mtimes are distinct per file as on a real disk.
      const stored: StoredFile[] = before.map((f, i) => ({ id: i + 1, path: f.path, size: f.content.length, mtimeMs: 10 * i + 1, fingerprint: print(f.content) }));
      const disk = new Map(before.map((f, i) => [newPaths[i], { ...f, mtimeMs: 10 * i + 1, path: newPaths[i] }]));
      const plan = await reconcile(stored, scanOf(disk), async (p) => print(disk.get(p)!.content));
      assert.deepEqual(plan.added, []);
      assert.deepEqual(plan.removed, []);
      assert.deepEqual(plan.changed, []);
      for (const move of plan.moved) assert.equal(stored.find((s) => s.id === move.id)!.fingerprint, move.fingerprint);
    }),
    { numRuns: 300 },
  );
});

test('examples: touch vs change, move, move over an existing file, duplicate names preferred', async () => {
  const stored: StoredFile[] = [
    { id: 1, path: '/r/a.txt', size: 3, mtimeMs: 1, fingerprint: print('aaa') },
    { id: 2, path: '/r/b.txt', size: 3, mtimeMs: 1, fingerprint: print('bbb') },
    { id: 3, path: '/r/c.txt', size: 3, mtimeMs: 1, fingerprint: print('ccc') },
    { id: 4, path: '/r/d.txt', size: 3, mtimeMs: 1, fingerprint: print('ddd') },
    { id: 5, path: '/r/x/dup.txt', size: 3, mtimeMs: 1, fingerprint: print('zzz') },
    { id: 6, path: '/r/y/other.txt', size: 3, mtimeMs: 1, fingerprint: print('zzz') },
  ];
  const contents: Record<string, string> = { '/r/a.txt': 'aaa', '/r/b.txt': 'BBB', '/r/moved/c.txt': 'ccc', '/r/d.txt': 'eeeeee', '/r/z/dup.txt': 'zzz', '/r/e.txt': 'ddd' };
  const scanned: ScannedEntry[] = [
    { path: '/r/a.txt', size: 3, mtimeMs: 2, kind: 'text' }, // touched
    { path: '/r/b.txt', size: 3, mtimeMs: 2, kind: 'text' }, // same size, new content
    { path: '/r/moved/c.txt', size: 3, mtimeMs: 1, kind: 'text' }, // moved
    { path: '/r/d.txt', size: 6, mtimeMs: 2, kind: 'text' }, // size change: not fingerprinted
    { path: '/r/z/dup.txt', size: 3, mtimeMs: 1, kind: 'text' }, // one of two duplicates moved: same name wins
    { path: '/r/e.txt', size: 3, mtimeMs: 1, kind: 'text' }, // d's old content moved here
  ];
  const asked: string[] = [];
  const plan = await reconcile(stored, scanned, async (p) => (asked.push(p), print(contents[p])));
  assert.deepEqual(plan.touched, [{ id: 1, path: '/r/a.txt', size: 3, mtimeMs: 2 }]);
  assert.deepEqual(plan.changed.map((c) => [c.id, c.fingerprint]), [[2, print('BBB')]]);
  assert.deepEqual(plan.moved.map((m) => [m.id, m.from, m.path]).sort(), [[3, '/r/c.txt', '/r/moved/c.txt'], [4, '/r/d.txt', '/r/e.txt'], [5, '/r/x/dup.txt', '/r/z/dup.txt']].sort());
  // d's old content (and id) went to e.txt, so what is at d.txt now is new; its size alone says so.
  assert.ok(!asked.includes('/r/d.txt'));
  assert.deepEqual(plan.added.map((a) => [a.path, a.fingerprint]), [['/r/d.txt', null]]);
  assert.deepEqual(plan.removed, [{ id: 6, path: '/r/y/other.txt' }]);
});

test('a fingerprint failure is a problem, not a crash: the file is planned as added', async () => {
  const stored: StoredFile[] = [{ id: 1, path: '/r/a.txt', size: 3, mtimeMs: 1, fingerprint: print('aaa') }];
  const plan = await reconcile(stored, [{ path: '/r/b.txt', size: 3, mtimeMs: 1, kind: 'text' }], async () => {
    throw new Error('EACCES: permission denied');
  });
  assert.equal(plan.added.length, 1);
  assert.equal(plan.removed.length, 1);
  assert.match(plan.problems[0].message, /EACCES/);
});

test('a big reconcile hands the event loop back as it goes (timers run meanwhile) and plans exactly what it would in one go', async () => {
  // 6,000 stored files; on disk: most unchanged, some touched, edited, moved, deleted, plus new ones.
  const rand = seededRandom(14);
  const stored: StoredFile[] = [];
  const disk = new Map<string, DiskFile>();
  for (let i = 0; i < 6000; i++) {
    const path = `/root/d${i % 37}/f-${i}.txt`;
    const content = `c${i}`;
    stored.push({ id: i + 1, path, size: content.length, mtimeMs: i + 1, fingerprint: print(content) });
    const r = rand();
    if (r < 0.8) disk.set(path, { path, content, mtimeMs: i + 1 });
    else if (r < 0.85) disk.set(path, { path, content, mtimeMs: i + 2 });
    else if (r < 0.9) disk.set(path, { path, content: `${content}+`, mtimeMs: i + 2 });
    else if (r < 0.95) disk.set(`/root/moved/f-${i}.txt`, { path: `/root/moved/f-${i}.txt`, content, mtimeMs: i + 1 });
  }
  for (let i = 0; i < 500; i++) disk.set(`/root/new/n-${i}.txt`, { path: `/root/new/n-${i}.txt`, content: `n${i}`, mtimeMs: 1 });
  const scanned = scanOf(disk);
  const fingerprintOf = async (p: string): Promise<string> => print(disk.get(p)!.content);

  const whole = await reconcile(stored, scanned, fingerprintOf, { sliceMs: Infinity });
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 0);
  let paced;
  try {
    paced = await reconcile(stored, scanned, fingerprintOf, { sliceMs: 0 });
  } finally {
    clearInterval(timer);
  }
  assert.deepEqual(paced, whole);
  assert.ok(whole.moved.length > 200 && whole.touched.length > 200 && whole.removed.length > 200, 'the plan has every kind of change');
  assert.ok(ticks > 0, 'a timer ran while the plan was made');
});
