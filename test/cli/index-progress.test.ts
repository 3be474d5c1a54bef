// `trove index` progress when stderr is not a terminal (CI logs, pipes): a line when work starts,
// then at most one every PLAIN_INTERVAL_MS, each with the counts, the rate and the time left; on a
// terminal one line redrawn in place. A child run shows the lines come out for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IndexingProgress } from '../../electron/contract/common/entities.ts';
import { IndexProgressPrinter, PLAIN_INTERVAL_MS, progressLine } from '../../electron/cli/node/commands/index-progress.ts';
import { runTrove, useTinyPackage } from '../support/cli-fixture.ts';

function progress(indexed: number, total: number, extra: Partial<IndexingProgress> = {}): IndexingProgress {
  const counts = { total, indexed, failed: 0, pending: total - indexed };
  return { state: 'indexing', files: counts, byKind: {} as IndexingProgress['byKind'], rate: 2.5, etaSeconds: (total - indexed) / 2.5, current: `/photos/${indexed}.jpg`, byRoot: [], ...extra };
}

test('plain output: the first line at once, then at most one per interval, with counts, rate and time left', () => {
  const lines: string[] = [];
  let now = 0;
  const printer = new IndexProgressPrinter({ isTTY: false, write: (text: string) => lines.push(text) }, () => now);
  printer.update({ ...progress(0, 0), state: 'idle' });
  assert.equal(lines.length, 0, 'nothing while idle');
  printer.update(progress(0, 400));
  for (let i = 1; i <= 100; i++) {
    now += 100; // an event every 100 ms for 10 s
    printer.update(progress(i, 400));
  }
  assert.equal(lines.length, 1 + Math.floor((100 * 100) / PLAIN_INTERVAL_MS));
  assert.equal(lines[0], 'Indexing — 0 of 400 files · 2.5 files/s · about 3 min left\n');
  assert.match(lines[1]!, /^Indexing — \d+ of 400 files · 2\.5 files\/s · about 2 min left\n$/);
  assert.ok(lines.every((l) => !l.includes('\r') && l.endsWith('\n')));
});

test('the line says what is going on: scanning, failures, paused', () => {
  assert.equal(progressLine({ ...progress(0, 12), state: 'scanning' }), 'Scanning — 12 files found so far');
  assert.equal(progressLine({ ...progress(5, 10), files: { total: 10, indexed: 3, failed: 2, pending: 5 }, etaSeconds: 30 }), 'Indexing — 5 of 10 files (2 failed) · 2.5 files/s · less than a minute left');
  assert.equal(progressLine({ ...progress(5, 10), state: 'paused', rate: 0, etaSeconds: null }), 'Paused — 5 of 10 files');
});

test('a terminal gets one line redrawn in place, cleared at the end', () => {
  const out: string[] = [];
  let now = 0;
  const printer = new IndexProgressPrinter({ isTTY: true, write: (text: string) => out.push(text) }, () => now);
  printer.update(progress(1, 3));
  now += 200;
  printer.update(progress(2, 3));
  printer.end();
  assert.ok(out[0]!.startsWith('\r\x1b[2KIndexing — 1 of 3 files'));
  assert.ok(out[1]!.startsWith('\r\x1b[2KIndexing — 2 of 3 files'));
  assert.equal(out.at(-1), '\r\x1b[2K');
  assert.ok(out.every((l) => !l.includes('\n')));
});

let folder = '';
const tiny = useTinyPackage('index-progress-cli', 'embedding', async ({ dir }) => {
  folder = path.join(dir, 'notes');
  await mkdir(folder);
  for (let i = 0; i < 6; i++) await writeFile(path.join(folder, `note-${i}.md`), `Note ${i}: aardvarks and termites.\n`);
});

test('trove index with stderr piped prints plain progress lines there; stdout keeps the summary', async () => {
  const { stdout, stderr } = await runTrove(['index', folder, '--once', '--data', path.join(tiny.dir, 'data'), '--model', tiny.packageDir]);
  assert.match(stderr, /^(Scanning|Indexing) — \d+ (of 6 files|files found so far)/m);
  assert.ok(!stderr.includes('\r'), 'no carriage returns in a log');
  assert.equal(stdout, 'indexed 6 of 6 files (0 failed)\n');
});
