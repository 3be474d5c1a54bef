// The goldens can tell a positional mistake from float noise: the golden checkpoints' attention is
// far from uniform (docs/reference-goldens.md), so a wrong DeepStack tap or a wrong rotary axis
// moves the embeddings by far more than the 1e-5 cosine tolerance. Shown twice: in Trove's own
// graph (the package built from a config.json with the DeepStack taps changed) and in the float64
// reference written from the docs, which first has to reproduce the goldens itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, symlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { prepareEmbedBatch } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import { Qwen3VLEmbedder } from '../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { openModelPackage } from '../../electron/engine/inference/node/runtime/model-package.ts';
import { buildModelPackage } from '../../native-models/package/node/build-package.ts';
import { naiveEmbed, type NaiveBatch } from '../../native-models/reference/node/naive-forward.ts';
import { loadNaiveWeights, type NaiveWeights } from '../../native-models/reference/node/naive-weights.ts';
import { naiveBatchOf } from '../support/runtime-compare.ts';
import { cosine, GoldenWorkspace, loadEmbedderGoldens, toEmbedInput, type EmbedderGoldens, type GoldenEmbedCase } from './golden-fixtures.ts';

/** The goldens' tolerance: any case below it fails the golden test. */
const MIN_COSINE = 0.99999;
/** Each perturbation must move some case 100× further than the tolerance. */
const WORST_AT_MOST = 1 - 100 * (1 - MIN_COSINE);
/** Small vision inputs (one image, one with text, an extreme aspect ratio); videos cost seconds in the float64 reference. */
const VISION_CASES = ['image-grow-both', 'text-and-image', 'image-extreme-tall'];
/** CPU unless TROVE_EP names another execution provider (docs/device-checks.md). */
const environment = { platform: process.platform, arch: process.arch, override: process.env.TROVE_EP || undefined };

const measured: Record<string, Record<string, number>> = {};

function assertPerturbationShows(label: string, cosines: Record<string, number>): void {
  measured[label] = cosines;
  for (const [id, cos] of Object.entries(cosines)) assert.ok(cos < MIN_COSINE, `${label}: ${id} still passes the golden tolerance (cosine ${cos})`);
  const worst = Math.min(...Object.values(cosines));
  assert.ok(worst <= WORST_AT_MOST, `${label}: the largest change is only 1 − ${1 - worst}`);
}

describe('perturbations fail the goldens by far', () => {
  let workspace: GoldenWorkspace;
  let goldens: EmbedderGoldens;
  let cases: GoldenEmbedCase[];

  before(async () => {
    workspace = await GoldenWorkspace.create();
    goldens = await loadEmbedderGoldens();
    cases = VISION_CASES.map((id) => goldens.cases.find((c) => c.id === id)!);
  });
  after(async () => {
    await workspace?.remove();
    console.log(`cosine to the goldens under each perturbation: ${JSON.stringify(measured)}`);
  });

  /** The golden checkpoint with config.json changed by `mutate` (weights shared by symlink). */
  async function perturbedCheckpoint(label: string, mutate: (config: Record<string, any>) => void): Promise<string> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const source = await workspace.checkpoint('embedder');
    const dir = path.join(workspace.root, `perturbed-${label.replace(/\W+/g, '-')}`);
    await mkdir(dir);
    for (const name of await readdir(source)) if (name !== 'config.json') await symlink(path.join(source, name), path.join(dir, name));
    const config = JSON.parse(await readFile(path.join(source, 'config.json'), 'utf8'));
    mutate(config);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  }

  for (const [label, taps] of [['graph: DeepStack taps from blocks [0, 1, 3] instead of [0, 2, 3]', [0, 1, 3]], ['graph: DeepStack taps in the order [2, 0, 3]', [2, 0, 3]]] as const) {
    test(label, async () => {
      const checkpointDir = await perturbedCheckpoint(label, (c) => { c.vision_config.deepstack_visual_indexes = taps; });
      const packageDir = path.join(workspace.root, `package-${taps.join('')}`);
      await buildModelPackage({ checkpointDir, outDir: packageDir, kind: 'embedding', precision: 'fp32' });
      const embedder = await Qwen3VLEmbedder.open(packageDir, { environment });
      try {
        const cosines: Record<string, number> = {};
        for (const c of [...cases, goldens.cases.find((g) => g.id === 'video-5fps')!]) {
          const [embedding] = await embedder.embed([toEmbedInput(c.input)], { instruction: c.instruction });
          cosines[c.id] = cosine(embedding!, c.embedding!);
        }
        assertPerturbationShows(label, cosines);
      } finally {
        await embedder.close();
      }
    });
  }

  describe('the float64 reference (native-models/reference)', () => {
    let weights: NaiveWeights;
    const batches = new Map<string, NaiveBatch>();

    before(async () => {
      weights = await loadNaiveWeights(await workspace.checkpoint('embedder'));
      const pkg = await openModelPackage(await workspace.package({ checkpoint: 'embedder', precision: 'fp32', variant: 'plain' }), 'embedding');
      for (const c of cases) batches.set(c.id, naiveBatchOf(await prepareEmbedBatch(pkg.tokenizer, [toEmbedInput(c.input)], { instruction: c.instruction })));
    });

    function cosines(w: NaiveWeights, change: (b: NaiveBatch) => NaiveBatch = (b) => b): Record<string, number> {
      return Object.fromEntries(cases.map((c) => [c.id, cosine(naiveEmbed(w, change(batches.get(c.id)!)).embedding[0]!, c.embedding!)]));
    }

    test('as written, it reproduces the official goldens', () => {
      const exact = cosines(weights);
      measured['reference as written'] = exact;
      for (const [id, cos] of Object.entries(exact)) assert.ok(cos >= MIN_COSINE, `${id}: the reference's cosine to the golden is ${cos}`);
    });

    test('rotary axes: H and W position rows swapped', () => {
      assertPerturbationShows('reference: M-RoPE H and W swapped', cosines(weights, (b) => ({ ...b, positionIds: [b.positionIds[0]!, b.positionIds[2]!, b.positionIds[1]!] })));
    });

    test('rotary axes: one position for all three axes (plain 1-D RoPE)', () => {
      assertPerturbationShows('reference: 1-D RoPE', cosines(weights, (b) => ({ ...b, positionIds: [b.positionIds[0]!, b.positionIds[0]!, b.positionIds[0]!] })));
    });

    test('DeepStack taps in the order [2, 0, 3]', () => {
      const vision = { ...weights.config.vision!, deepstackVisualIndexes: [2, 0, 3] };
      assertPerturbationShows('reference: DeepStack [2, 0, 3]', cosines({ ...weights, config: { ...weights.config, vision } }));
    });
  });
});
