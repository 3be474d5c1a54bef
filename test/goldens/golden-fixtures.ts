// The committed reference goldens (test/fixtures/goldens/*-goldens.json, written by
// tools/reference-goldens from transformers 5 + the official wrappers) as typed records, the
// mapping of their inputs onto Trove's EmbedInput, and a workspace that rebuilds the golden
// checkpoints (golden-checkpoint.ts) and builds the model packages the tests compare.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GraphVariant, PackageKind, Precision } from '../../native-models/manifest/common/model-manifest.ts';
import type { EmbedInput, VideoInput } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import type { PreprocessedImage } from '../../electron/engine/model-inputs/node/image-preprocess.ts';
import type { PreprocessedVideo } from '../../electron/engine/model-inputs/node/video-preprocess.ts';
import { buildModelPackage } from '../../native-models/package/node/build-package.ts';
import type { NBitsSettings } from '../../native-models/graphs/node/graph-precision.ts';
import { readFixtureJson, writeGoldenCheckpoint, type GoldenCheckpointName } from './golden-checkpoint.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export type GoldenVideo = string | { path: string; start?: number; end?: number; maxFrames?: number };

export interface GoldenInput {
  readonly texts?: string[];
  readonly images?: string[];
  readonly videos?: GoldenVideo[];
}

export interface GoldenImage {
  readonly rows: number;
  readonly sha256: string;
  readonly sum: number;
  readonly mode: string;
  readonly size: [number, number];
  readonly resized: [number, number];
  readonly pillow13_differs: boolean;
  readonly pillow13_max_level_difference: number;
  readonly pillow13_pixel_sha256: string;
}

export interface GoldenVideoRecord {
  readonly rows: number;
  readonly sha256: string;
  readonly sum: number;
  readonly total_frames: number;
  readonly fps: number;
  readonly frame_indices: number[];
  readonly timestamps: string[];
  readonly backend: string;
  /** Mean of each patch row's 1,536 values, in pixel levels. */
  readonly row_means: number[];
}

/** What the official wrapper produced for one input (or one reranker pair). */
export interface GoldenPrepared {
  readonly prompt: string;
  readonly input_ids: number[];
  readonly image_grid_thw?: [number, number, number][];
  readonly video_grid_thw?: [number, number, number][];
  readonly images?: GoldenImage[];
  readonly videos?: GoldenVideoRecord[];
}

export interface GoldenEmbedCase extends Partial<GoldenPrepared> {
  readonly id: string;
  readonly input: GoldenInput;
  readonly instruction?: string;
  /** Set when the reference refuses the input (the error it raised). */
  readonly error?: string;
  readonly last_index?: number;
  readonly embedding?: number[];
}

export interface GoldenEmbedBatch {
  readonly id: string;
  readonly cases: string[];
  readonly padded_length: number;
  readonly embeddings: number[][];
}

export interface GoldenMatryoshka {
  readonly case: string;
  readonly dims: number;
  readonly embedding: number[];
}

export interface EmbedderGoldens {
  readonly meta: Record<string, unknown>;
  readonly cases: GoldenEmbedCase[];
  readonly batches: GoldenEmbedBatch[];
  readonly matryoshka: GoldenMatryoshka[];
}

export interface GoldenRerankPair extends GoldenPrepared {
  readonly document: GoldenInput;
  readonly kind: string;
  readonly logit: number;
  readonly score: number;
}

export interface GoldenRerankCase {
  readonly id: string;
  readonly instruction?: string;
  readonly query: GoldenInput;
  readonly pairs: GoldenRerankPair[];
}

export interface RerankerGoldens {
  readonly meta: Record<string, unknown>;
  readonly cases: GoldenRerankCase[];
}

export const loadEmbedderGoldens = (): Promise<EmbedderGoldens> => readFixtureJson<EmbedderGoldens>('embedder-goldens.json');
export const loadRerankerGoldens = (name: 'reranker' | 'reranker-tied'): Promise<RerankerGoldens> => readFixtureJson<RerankerGoldens>(`${name}-goldens.json`);

/**
 * Inputs so long that one model run needs gigabytes (an 8,192-token attention matrix): their
 * prompts, token ids and pooled index are checked on every run, their model outputs were checked
 * once (docs/reference-goldens.md).
 */
export const MODEL_RUN_MAX_TOKENS = 4096;

/** Input paths in the goldens are relative to the repository root (corpora as ../shared/corpora/…). */
export function inputPath(relative: string): string {
  return path.resolve(REPO_ROOT, relative);
}

export function toEmbedInput(input: GoldenInput): EmbedInput {
  const video = (v: GoldenVideo): VideoInput => (typeof v === 'string' ? inputPath(v) : { ...v, path: inputPath(v.path) });
  return {
    ...(input.texts ? { texts: input.texts } : {}),
    ...(input.images ? { images: input.images.map(inputPath) } : {}),
    ...(input.videos ? { videos: input.videos.map(video) } : {}),
  };
}

export function sha256Floats(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'embedding lengths differ');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Largest |Δ| between a patch row's mean (pixel levels) and the golden's. */
export function videoRowMeanDifference(pixelValues: Float32Array, rowMeans: readonly number[]): number {
  const width = pixelValues.length / rowMeans.length;
  let worst = 0;
  rowMeans.forEach((expected, r) => {
    let sum = 0;
    for (let j = 0; j < width; j++) sum += pixelValues[r * width + j]! * 127.5 + 127.5;
    worst = Math.max(worst, Math.abs(sum / width - expected));
  });
  return worst;
}

/**
 * Video pixels: the goldens come from torchcodec, Trove decodes with the ffmpeg on PATH. The
 * H.264 decode is exact everywhere; the yuv420p → RGB conversion is swscale's in both, and
 * matched to the bit here, but another ffmpeg build may round a level differently on some
 * pixels. So a hash mismatch alone does not fail: each patch row's mean must stay within this
 * many levels (a wrong frame, crop or colour matrix moves means by tens of levels).
 */
export const VIDEO_ROW_MEAN_TOLERANCE = 0.5;

/** Asserts Trove's prompt, token ids, grids, pixels, frames and timestamps equal the golden's. */
export function assertPreparedMatches(
  what: string,
  actual: { prompt: string; ids: readonly number[]; images: readonly PreprocessedImage[]; videos: readonly PreprocessedVideo[] },
  golden: GoldenPrepared,
  report?: { videoHashMismatches: string[] },
): void {
  assert.equal(actual.prompt, golden.prompt, `${what}: prompt`);
  assert.deepEqual(actual.ids, golden.input_ids, `${what}: token ids`);
  assert.deepEqual(actual.images.map((i) => i.gridThw), golden.image_grid_thw ?? [], `${what}: image_grid_thw`);
  assert.deepEqual(actual.videos.map((v) => v.gridThw), golden.video_grid_thw ?? [], `${what}: video_grid_thw`);
  actual.images.forEach((image, k) => {
    const g = golden.images![k]!;
    assert.deepEqual(image.resized, g.resized, `${what}: image ${k} resized size`);
    const hash = sha256Floats(image.pixelValues);
    const hint = hash === g.pillow13_pixel_sha256 ? ' (they equal what Pillow 13 gives: the resize passes ran in the wrong order)' : '';
    assert.equal(hash, g.sha256, `${what}: image ${k} pixel values differ from the reference${hint}`);
  });
  actual.videos.forEach((video, k) => {
    const g = golden.videos![k]!;
    assert.deepEqual(video.frameIndices, g.frame_indices, `${what}: video ${k} frame indices`);
    assert.deepEqual(video.timestamps, g.timestamps, `${what}: video ${k} timestamps`);
    assert.equal(video.fps, g.fps, `${what}: video ${k} fps`);
    assert.equal(video.pixelValues.length, g.rows * 1536, `${what}: video ${k} patch rows`);
    if (sha256Floats(video.pixelValues) !== g.sha256) {
      report?.videoHashMismatches.push(what);
      const worst = videoRowMeanDifference(video.pixelValues, g.row_means);
      assert.ok(worst <= VIDEO_ROW_MEAN_TOLERANCE, `${what}: video ${k} pixels differ from the reference by up to ${worst.toFixed(3)} levels in a patch row's mean (tolerance ${VIDEO_ROW_MEAN_TOLERANCE})`);
    }
  });
}

export interface PackageSpec {
  readonly checkpoint: GoldenCheckpointName;
  readonly precision: Precision;
  readonly variant: GraphVariant;
  /** MatMulNBits settings other than the builder's defaults (int8/int4). */
  readonly nbits?: Partial<NBitsSettings>;
}

/** A temporary folder with rebuilt golden checkpoints and the packages built from them. */
export class GoldenWorkspace {
  private readonly checkpoints = new Map<GoldenCheckpointName, Promise<string>>();
  private readonly packages = new Map<string, Promise<string>>();

  private constructor(readonly root: string) {}

  static async create(): Promise<GoldenWorkspace> {
    return new GoldenWorkspace(await mkdtemp(path.join(tmpdir(), 'trove-goldens-')));
  }

  /** The rebuilt checkpoint folder; throws unless it is byte for byte what transformers wrote. */
  checkpoint(name: GoldenCheckpointName): Promise<string> {
    let written = this.checkpoints.get(name);
    if (!written) {
      const dir = path.join(this.root, `${name}-checkpoint`);
      written = writeGoldenCheckpoint(name, dir).then(({ mismatched, fileSha256, recorded }) => {
        assert.deepEqual(mismatched, [], `${name}: tensors whose rebuilt bytes differ from transformers' file`);
        assert.equal(fileSha256, recorded.file_sha256, `${name}: the rebuilt model.safetensors differs from transformers' file`);
        return dir;
      });
      this.checkpoints.set(name, written);
    }
    return written;
  }

  /** The package of `spec`, built on first use. */
  package(spec: PackageSpec): Promise<string> {
    const settings = spec.nbits ? `-nbits-${spec.nbits.accuracyLevel ?? 'd'}-${spec.nbits.blockSize ?? 'd'}` : '';
    const outDir = path.join(this.root, `${spec.checkpoint}-${spec.precision}-${spec.variant}${settings}`);
    let built = this.packages.get(outDir);
    if (!built) {
      const kind: PackageKind = spec.checkpoint === 'embedder' ? 'embedding' : 'reranker';
      built = this.checkpoint(spec.checkpoint)
        .then((checkpointDir) => buildModelPackage({ checkpointDir, outDir, kind, precision: spec.precision, variant: spec.variant, nbits: spec.nbits }))
        .then(() => outDir);
      this.packages.set(outDir, built);
    }
    return built;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
