// `trove model inspect`: what a model package holds, and (with --verify) whether its files still
// match the hashes recorded when it was built.
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { inspectModelPackage, type PackageInspection } from '../../../../native-models/package/node/inspect-package.ts';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function describe(report: PackageInspection): string {
  const m = report.manifest;
  const lines = [
    `${report.dir}`,
    `  ${m.kind} package, ${m.precision}, ${m.variant} graphs, format ${m.formatVersion}, built by ${m.builder.name} ${m.builder.version}`,
    `  source: ${m.source.repo ?? '(repo not recorded)'}${m.source.revision ? ` @ ${m.source.revision}` : ''}; ${m.source.files.map((f) => f.name).join(', ')}`,
    `  text: hidden ${m.text.hidden}, ${m.text.layers} layers, ${m.text.heads} heads (${m.text.kvHeads} kv) × ${m.text.headDim}, vocab ${m.text.vocabSize}`,
    `  vision: hidden ${m.vision.hidden}, depth ${m.vision.depth}, ${m.vision.heads} heads × ${m.vision.headDim}, out ${m.vision.outHidden}, DeepStack taps [${m.vision.deepstackVisualIndexes.join(', ')}]`,
    `  tokens: image ${m.tokens.image}, video ${m.tokens.video}, vision start/end ${m.tokens.visionStart}/${m.tokens.visionEnd}, pad ${m.tokens.pad}${m.tokens.yes !== null ? `, yes/no ${m.tokens.yes}/${m.tokens.no}` : ''}`,
    `  graphs: ${m.graphs.vision}, ${m.graphs.decoder}`,
    `  files (${mib(report.totalBytes)}${report.hashesChecked ? ', SHA-256 verified' : ', sizes checked; --verify to check hashes'}):`,
    ...report.files.map((f) => `    ${f.problem ? '✗' : '✓'} ${f.name.padEnd(32)} ${mib(f.bytes).padStart(12)}${f.problem ? `  ${f.problem}` : ''}`),
  ];
  if (report.unlistedFiles.length > 0) lines.push(`  not in the manifest (ignored): ${report.unlistedFiles.join(', ')}`);
  lines.push(report.ok ? '  ok' : `  ${report.problems.length} problem(s); rebuild the package with 'trove model build'.`);
  return lines.join('\n');
}

export const modelInspectCommand = defineCommand({
  name: 'model inspect',
  summary: "Show a model package's manifest and check its files (--verify: also their SHA-256).",
  usage: '<package-dir> [--verify] [--json]',
  description:
    "Shows a model package's manifest (kind, precision, source checkpoint, builder, dimensions, token\n" +
    'ids) and checks every listed file is present with its recorded size. Exits 1 when a file is\n' +
    'missing, has another size or (with --verify) another hash.',
  positionals: true,
  options: {
    verify: { type: 'boolean', help: "also recompute every file's SHA-256 (reads the whole package)" },
    json: { type: 'boolean', help: 'print {"manifest": …, "check": …} as JSON' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new CliUsageError(`model inspect takes one package folder, got ${positionals.length}.`);
    const report = await inspectModelPackage(positionals[0]!, { verify: values.verify === true });
    if (values.json) {
      const { manifest, ...check } = report;
      console.log(JSON.stringify({ manifest, check }, null, 2));
    } else {
      console.log(describe(report));
    }
    return report.ok ? 0 : 1;
  },
});
