// `node --import tsx bench/device-summary.ts DIR`: puts together what bench/device-run.sh left in DIR
// (providers.txt, machine.txt, <bench>.<ep>.md) as DIR/device-run.md: the machine, which EPs
// load, then per benchmark the CPU table and, for every other EP, its table and the same rows side by
// side with the CPU's: "value (× CPU)" for every numeric cell. Rows are matched by their text cells.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface Table {
  header: string[];
  rows: string[][];
}

const cells = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
/** The leading number of a cell ("12.3 (1.05×)" → 12.3), or null for text. */
const numberOf = (cell: string): number | null => {
  const m = /^-?\d+(\.\d+)?(e[-+]?\d+)?/i.exec(cell.replace(/\*\*/g, ''));
  return m ? Number(m[0]) : null;
};

/** Every markdown table of a benchmark's output. */
function tables(text: string): Table[] {
  const found: Table[] = [];
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !/^\|[-| :]+\|$/.test(lines[i + 1]!.trim())) continue;
    const table: Table = { header: cells(lines[i]!), rows: [] };
    let j = i + 2;
    for (; j < lines.length && lines[j]!.startsWith('|'); j++) table.rows.push(cells(lines[j]!));
    found.push(table);
    i = j;
  }
  return found;
}

/** The EP's rows next to the CPU's: text cells as the key, numeric cells "ep (× cpu)". */
function compare(cpu: Table, other: Table, ep: string): string {
  const key = (row: string[]) => row.filter((c) => numberOf(c) === null).join(' | ');
  const baseline = new Map(cpu.rows.map((r) => [key(r), r]));
  const lines = [`| ${other.header.join(' | ')} |`, `|${other.header.map(() => '---').join('|')}|`];
  for (const row of other.rows) {
    const base = baseline.get(key(row));
    lines.push(`| ${row.map((c, i) => {
      const v = numberOf(c);
      const b = base ? numberOf(base[i] ?? '') : null;
      // Ratio columns of the benchmark itself ("× before") and equal values (sizes) stay as they are.
      if (v === null || b === null || b === 0 || v === b || other.header[i]!.startsWith('×')) return c;
      return `${v} (${(v / b).toFixed(2)}× CPU)`;
    }).join(' | ')} |`);
  }
  return `${ep} against the CPU rows of the same run (each value, then value ÷ CPU's):\n\n${lines.join('\n')}`;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: device-summary.ts DIR');
    process.exit(2);
  }
  const read = (name: string) => readFile(path.join(dir, name), 'utf8').catch(() => '');
  const files = (await readdir(dir)).filter((f) => /^[\w-]+\.\w+\.md$/.test(f)).sort();
  const benches = [...new Set(files.map((f) => f.split('.')[0]!))];
  const out: string[] = ['# Device run', '', '## Machine', '', '```', (await read('machine.txt')).trim(), '```', '', '## Execution providers', '', '```', (await read('providers.txt')).trim(), '```'];
  for (const bench of benches) {
    out.push('', `## ${bench}`);
    const cpuText = await read(`${bench}.cpu.md`);
    const cpuTables = tables(cpuText);
    out.push('', '### cpu', '', cpuText.trim() || '(no CPU output)');
    for (const file of files.filter((f) => f.startsWith(`${bench}.`) && f !== `${bench}.cpu.md`)) {
      const ep = file.split('.')[1]!;
      const text = await read(file);
      out.push('', `### ${ep}`, '', text.trim() || '(no output)');
      tables(text).forEach((t, i) => {
        const base = cpuTables[i];
        if (base && base.header.join() === t.header.join()) out.push('', compare(base, t, ep));
      });
    }
  }
  await writeFile(path.join(dir, 'device-run.md'), `${out.join('\n')}\n`);
  console.log(`wrote ${path.join(dir, 'device-run.md')}`);
}

await main();
