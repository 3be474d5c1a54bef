// `manifest.json` of a model package: what the package builder (native-models/package/node) writes and
// the runtime (electron/engine/inference/node/runtime) reads. One schema, validated on both sides.
import { z } from 'zod';

/** Bumped when the graphs' contract changes so packages from another builder are refused. */
export const PACKAGE_FORMAT_VERSION = 1;

export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const GRAPH_VARIANTS = ['plain', 'fused'] as const;
export type GraphVariant = (typeof GRAPH_VARIANTS)[number];
export type PackageKind = 'embedding' | 'reranker';

const fileEntry = z.object({ name: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type PackageFile = z.infer<typeof fileEntry>;

export const modelManifestSchema = z.object({
  format: z.literal('trove-model-package'),
  formatVersion: z.number().int().positive(),
  /** graphRevision: which graphs the builder wrote (native-models/package/node/builder-version.ts); absent = 1. */
  builder: z.object({ name: z.string(), version: z.string(), graphRevision: z.number().int().positive().optional() }),
  kind: z.enum(['embedding', 'reranker']),
  precision: z.enum(PRECISIONS),
  variant: z.enum(GRAPH_VARIANTS),
  /**
   * int8/int4: the MatMulNBits settings the linears were built with (absent in packages before
   * graph revision 3: accuracy level 0 up to revision 1, then 4; block 32 throughout).
   */
  nbits: z.object({ accuracyLevel: z.number().int().min(0).max(4), blockSize: z.number().int().positive() }).optional(),
  source: z.object({
    /** Hub repo id (e.g. Qwen/Qwen3-VL-Embedding-2B) when known. */
    repo: z.string().nullable(),
    /** Hub commit the checkpoint came from, when known. */
    revision: z.string().nullable(),
    /** SHA-256 of the checkpoint files the package was built from. */
    files: z.array(fileEntry),
  }),
  text: z.object({
    hidden: z.number().int().positive(),
    layers: z.number().int().positive(),
    vocabSize: z.number().int().positive(),
    heads: z.number().int().positive(),
    kvHeads: z.number().int().positive(),
    headDim: z.number().int().positive(),
  }),
  vision: z.object({
    hidden: z.number().int().positive(),
    heads: z.number().int().positive(),
    headDim: z.number().int().positive(),
    outHidden: z.number().int().positive(),
    depth: z.number().int().positive(),
    deepstackVisualIndexes: z.array(z.number().int().nonnegative()).length(3),
  }),
  tokens: z.object({
    image: z.number().int(),
    video: z.number().int(),
    visionStart: z.number().int(),
    visionEnd: z.number().int(),
    pad: z.number().int(),
    yes: z.number().int().nullable(),
    no: z.number().int().nullable(),
  }),
  graphs: z.object({ vision: z.string(), decoder: z.string() }),
  /** Every file of the package except manifest.json, with hashes. */
  files: z.array(fileEntry),
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** Which graphs the package's builder wrote (native-models/package/node/builder-version.ts); absent = 1. */
export function packageGraphRevision(manifest: Pick<ModelManifest, 'builder'>): number {
  return manifest.builder.graphRevision ?? 1;
}

/**
 * The MatMulNBits settings an int8/int4 package computes with (null for fp32/fp16): recorded since
 * graph revision 3, before that implied by the revision (level 0 until revision 2 made level 4
 * the default; block 32 throughout). A rebuild with these settings computes the same embeddings.
 */
export function packageNBits(manifest: Pick<ModelManifest, 'builder' | 'precision' | 'nbits'>): { accuracyLevel: 0 | 1 | 2 | 3 | 4; blockSize: number } | null {
  if (manifest.precision !== 'int8' && manifest.precision !== 'int4') return null;
  if (manifest.nbits) return { accuracyLevel: manifest.nbits.accuracyLevel as 0 | 1 | 2 | 3 | 4, blockSize: manifest.nbits.blockSize };
  return { accuracyLevel: packageGraphRevision(manifest) >= 2 ? 4 : 0, blockSize: 32 };
}

/** Parses a manifest and refuses one written for another graph contract, saying what to do. */
export function parseModelManifest(json: unknown, source: string): ModelManifest {
  const parsed = modelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source} is not a valid Trove model package manifest:\n${lines.join('\n')}\nRebuild the package with 'trove model build'.`);
  }
  if (parsed.data.formatVersion !== PACKAGE_FORMAT_VERSION) {
    throw new Error(
      `${source} was built by ${parsed.data.builder.name} ${parsed.data.builder.version} for package format ${parsed.data.formatVersion}; this Trove reads format ${PACKAGE_FORMAT_VERSION}. Rebuild it with 'trove model build'.`,
    );
  }
  return parsed.data;
}
