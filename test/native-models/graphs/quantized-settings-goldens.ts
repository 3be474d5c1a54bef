// `node --import tsx test/native-models/graphs/quantized-settings-goldens.ts` (a measurement run by hand, not
// a test: it lives under test/ because it reads the golden fixtures): fidelity of the MatMulNBits
// settings of bench/model-quantized.ts against the official fp32 goldens (test/fixtures/goldens: transformers
// 5.12 on the golden embedder checkpoint). Every golden input under 1,000 tokens goes through a
// whole package built at each setting (vision tower included): cosine to its golden embedding, and
// top-1 / top-5 agreement when each text input ranks all inputs, as
// test/goldens/golden-precision.test.ts measures the shipped setting. TROVE_EP picks the EP.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Qwen3VLEmbedder } from '../../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { buildModelPackage } from '../../../native-models/package/node/build-package.ts';
import { GoldenWorkspace, loadEmbedderGoldens, toEmbedInput, type GoldenEmbedCase } from '../../goldens/golden-fixtures.ts';
import { cosine, fidelity, QUANT_SETTINGS, settingLabel } from '../../../bench/model-quantized-settings.ts';

const EP = process.env.TROVE_EP ?? 'cpu';
const GOLDEN_MAX_TOKENS = 1000;

async function main(): Promise<void> {
  const workspace = await GoldenWorkspace.create();
  try {
    const goldens = await loadEmbedderGoldens();
    const corpus: GoldenEmbedCase[] = [];
    for (const c of goldens.cases) {
      if (c.error || c.input_ids!.length > GOLDEN_MAX_TOKENS) continue;
      if (corpus.some((k) => cosine(k.embedding!, c.embedding!) > 0.999999)) continue;
      corpus.push(c);
    }
    const checkpointDir = await workspace.checkpoint('embedder');
    const queries = corpus.flatMap((c, i) => (c.input.images || c.input.videos ? [] : [i]));
    console.log(`\n### official fp32 goldens (golden embedder checkpoint, ${corpus.length} inputs, ${queries.length} text queries; whole package, vision included), EP ${EP}\n`);
    console.log('| setting | min cosine | mean cosine | top-1 | top-5 |');
    console.log('|---|---|---|---|---|');
    for (const [i, setting] of QUANT_SETTINGS.entries()) {
      const outDir = path.join(workspace.root, `package-${i}`);
      await buildModelPackage({ checkpointDir, outDir, kind: 'embedding', precision: setting.precision, nbits: setting.nbits });
      const embedder = await Qwen3VLEmbedder.open(outDir, { environment: { platform: process.platform, arch: process.arch, override: EP } });
      const actual: Float32Array[] = [];
      try {
        for (const instruction of [...new Set(corpus.map((c) => c.instruction))]) {
          const group = corpus.filter((c) => c.instruction === instruction);
          const out = await embedder.embed(group.map((c) => toEmbedInput(c.input)), { instruction });
          group.forEach((c, k) => { actual[corpus.indexOf(c)] = out[k]!; });
        }
      } finally {
        await embedder.close();
      }
      const f = fidelity(corpus.map((c) => c.embedding!), actual, queries);
      console.log(`| ${settingLabel(setting)} | ${f.minCosine.toFixed(6)} | ${f.meanCosine.toFixed(6)} | ${f.top1.toFixed(3)} | ${f.top5.toFixed(3)} |`);
    }
  } finally {
    await workspace.remove();
  }
}

console.log(`MatMulNBits settings on onnxruntime-node ${ort.env.versions.common} against the official fp32 goldens\n`);
await main();
