// The repository stands on its own: no tracked file sends a reader to the design notes outside it
// (`../shared/design/…`, "spec §N"), and every `docs/….md#anchor` a comment or doc cites names a
// file and a heading that exist. The model facts those citations used to point at live in
// docs/qwen3-vl-model.md.
//
// Allowed exceptions: tools that run the reference stack (tools/reference-goldens/) may name
// ../shared/tools/reference-stack, and tests, benches and fixture scripts read ../shared/corpora.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Tracked files with text content (git's own binary heuristic: no NUL in the first 8000 bytes). */
function trackedTextFiles(): { file: string; text: string }[] {
  const listing = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out: { file: string; text: string }[] = [];
  for (const file of listing.split('\0')) {
    const full = path.join(ROOT, file);
    // Deleted in the work tree but not yet committed, a symlink, or a submodule: nothing to read.
    if (file === '' || !existsSync(full) || !lstatSync(full).isFile()) continue;
    const bytes = readFileSync(full);
    if (bytes.subarray(0, 8000).includes(0)) continue;
    out.push({ file, text: bytes.toString('utf8') });
  }
  return out;
}

const FILES = trackedTextFiles();
/** This file names the patterns it looks for, so the two pattern checks skip it. */
const SELF = path.relative(ROOT, import.meta.filename).split(path.sep).join('/');
const MAY_RUN_REFERENCE_STACK = (file: string): boolean => file.startsWith('tools/reference-goldens/');

const OUTSIDE_CITATIONS: readonly RegExp[] = [
  /shared\/design/,
  /qwen3-vl-spe[c]/,
  /\bspec(?:'s)?(?:\s|&nbsp;)+§/i,
  /design\sspec/i,
  /\bBRIEF\.m[d]/,
  /store-and-shell-note[s]/,
];
/** A bare section sign with a number ("§6 example") is a design-notes citation unless a standard is named just before it. */
const SECTION_NUMBER = /§\s?\d/g;
const NAMED_STANDARD = /\b(?:RFC|ISO|IEC|AGPL|L?GPL|ECMA|IEEE|POSIX|W3C|CSS|HTML)\b[^§\n]{0,24}$/;

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

test('no tracked file cites the design notes outside the repository ("spec §N", ../shared/design)', () => {
  const found: string[] = [];
  for (const { file, text } of FILES) {
    if (MAY_RUN_REFERENCE_STACK(file) || file === SELF) continue;
    for (const pattern of OUTSIDE_CITATIONS) {
      const global = new RegExp(pattern.source, `${pattern.flags}g`);
      for (const m of text.matchAll(global)) found.push(`${file}:${lineOf(text, m.index)}: ${JSON.stringify(m[0])}`);
    }
    for (const m of text.matchAll(SECTION_NUMBER)) {
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      if (!NAMED_STANDARD.test(before) && !/\bspec(?:'s)?\s*$/i.test(before)) {
        found.push(`${file}:${lineOf(text, m.index)}: ${JSON.stringify(text.slice(Math.max(0, m.index - 12), m.index + 6))}`);
      }
    }
  }
  if (found.length > 0) assert.fail(`cite a docs/ page instead (the model facts are in docs/qwen3-vl-model.md):\n${found.join('\n')}`);
});

test('../shared is only read for the corpora (or by tools that run the reference stack)', () => {
  const found: string[] = [];
  for (const { file, text } of FILES) {
    if (MAY_RUN_REFERENCE_STACK(file) || file === SELF) continue;
    for (const m of text.matchAll(/\.\.\/shared\b(\/[\w-]+)?/g)) {
      if (m[1] !== '/corpora') found.push(`${file}:${lineOf(text, m.index)}: ${m[0]}`);
    }
  }
  if (found.length > 0) assert.fail(`only ../shared/corpora may be referenced:\n${found.join('\n')}`);
});

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces → -, repeats get -1, -2 … */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const fenceMark = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fenceMark) {
      if (fence === null) fence = fenceMark[1]![0]!;
      else if (fenceMark[1]![0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/<[^>]+>/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

test('heading anchors follow GitHub: punctuation dropped, underscores and repeats kept apart', () => {
  const anchors = headingAnchors('# A `smart_resize` (v2): x — y\n```\n# not a heading\n```\n## Flow\n## Flow\n<a id="here"></a>');
  assert.deepEqual([...anchors].sort(), ['a-smart_resize-v2-x--y', 'flow', 'flow-1', 'here']);
});

test('every cited docs page and #anchor exists', () => {
  const anchorsOf = new Map<string, Set<string> | null>();
  const anchorsFor = (doc: string): Set<string> | null => {
    if (!anchorsOf.has(doc)) {
      const full = path.join(ROOT, doc);
      anchorsOf.set(doc, existsSync(full) ? headingAnchors(readFileSync(full, 'utf8')) : null);
    }
    return anchorsOf.get(doc)!;
  };
  const broken = new Set<string>();
  const check = (file: string, text: string, index: number, doc: string, anchor: string | undefined): void => {
    const anchors = anchorsFor(doc);
    const where = `${file}:${lineOf(text, index)}`;
    if (anchors === null) broken.add(`${where}: ${doc} does not exist`);
    else if (anchor !== undefined && !anchors.has(anchor)) broken.add(`${where}: ${doc} has no heading for #${anchor}`);
  };
  for (const { file, text } of FILES) {
    // Repository-relative citations, e.g. `docs/qwen3-vl-model.md#video-sampling` in a comment.
    for (const m of text.matchAll(/(?<![\w./-])(?:\.\.\/)*(docs\/[\w./-]+\.md)(?:#([\p{L}\p{N}_-]+))?/gu)) check(file, text, m.index, m[1]!, m[2]);
    if (!file.endsWith('.md')) continue;
    // Markdown links relative to the page, e.g. [x](model-inputs.md#deliberate-deviations) or (#rope-index).
    for (const m of text.matchAll(/\]\(([\w./-]*?\.md)?(?:#([\p{L}\p{N}_-]+))?\)/gu)) {
      if (m[1] === undefined && m[2] === undefined) continue;
      const target = m[1] === undefined ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (target.startsWith('../')) continue; // outside the repository
      check(file, text, m.index, target, m[2]);
    }
  }
  if (broken.size > 0) assert.fail(`fix these citations:\n${[...broken].join('\n')}`);
});

/** Names in docs that stand for any file, not for one (`new Worker(file.ts, …)`). */
const PLACEHOLDER_NAMES = new Set(['file.ts']);
const TRACKED = FILES.map((f) => f.file);
/** Made by a build, not tracked. */
const BUILD_OUTPUTS = ['renderer/dist/', 'dist/'];

/** A path named in a doc, as written: full (`electron/engine/store/node/store.ts`), shortened from the left (`store/node/store.ts`, `store.ts`), a glob (`watch-*.ts`) or a folder (`native-models/hub/`). */
function namesSomething(name: string): boolean {
  const glob = name.includes('*');
  const pattern = glob ? new RegExp(`(?:^|/)${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}${name.endsWith('/') ? '' : '$'}`) : undefined;
  if (name.endsWith('/')) return TRACKED.some((f) => (pattern ? pattern.test(f) : f.startsWith(name) || f.includes(`/${name}`)));
  return TRACKED.some((f) => (pattern ? pattern.test(f) : f === name || f.endsWith(`/${name}`)));
}

test('every source file or folder a doc names exists', () => {
  const missing: string[] = [];
  for (const { file, text } of FILES) {
    if (!file.endsWith('.md')) continue;
    // Source files (.ts, .tsx, .mts, .wat), whole or shortened from the left, and repository folders.
    const names = [
      ...text.matchAll(/(?<![\w@.*/-])((?:\.\.\/)*(?:[\w.*-]+\/)*[\w*][\w.*-]*\.(?:ts|tsx|mts|wat))(?![\w/-])/g),
      ...text.matchAll(/(?<![\w@.*/-])((?:\.\.\/)*(?:electron|native-models|renderer|test|bench|scripts|tools|e2e|eslint-rules)\/(?:[\w.*-]+\/)*)(?![\w.*-])/g),
    ];
    for (const m of names) {
      let name = m[1]!;
      if (PLACEHOLDER_NAMES.has(name)) continue;
      if (name.startsWith('../')) {
        name = path.posix.normalize(path.posix.join(path.posix.dirname(file), name));
        if (name.startsWith('../')) continue; // outside the repository
      }
      if (BUILD_OUTPUTS.some((o) => name.startsWith(o))) continue;
      if (!namesSomething(name)) missing.push(`${file}:${lineOf(text, m.index)}: ${m[1]}`);
    }
  }
  if (missing.length > 0) assert.fail(`these doc pages name files or folders that do not exist (moved or renamed?):\n${missing.join('\n')}`);
});
