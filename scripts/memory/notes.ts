// Notes for memory runs: markdown files from a paragraph to a few pages, as a notes folder holds.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mulberry32 } from '../fixtures/seeded-random.ts';

const WORDS = 'harbour ferry lighthouse keeper logged weather fog mail doctor island tide evening market bread letter storm quiet boat engine repair winter supplies'.split(' ');

export async function writeNotes(folder: string, count: number, seed = 3): Promise<void> {
  await mkdir(folder, { recursive: true });
  const next = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    const paragraphs = 1 + (next() % 40);
    const body = Array.from({ length: paragraphs }, () => Array.from({ length: 40 + (next() % 80) }, () => WORDS[next() % WORDS.length]).join(' ') + '.').join('\n\n');
    await writeFile(path.join(folder, `note-${String(i).padStart(2, '0')}.md`), `# Note ${i}\n\n${body}\n`);
  }
}
