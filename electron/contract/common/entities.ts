// The nouns of Trove's API, as zod schemas: every transport (Electron IPC, HTTP/WebSocket, the
// in-process CLI) validates against these at its boundary, and the TypeScript types come from them.
import { z } from 'zod';

export const FILE_KINDS = ['image', 'video', 'pdf', 'text', 'document'] as const;
export const fileKind = z.enum(FILE_KINDS);
export type FileKind = z.infer<typeof fileKind>;

/** Where inside a file a hit is. */
export const locator = z.discriminatedUnion('type', [
  z.object({ type: z.literal('whole') }),
  /** A text chunk: character offsets into the file's text, and a short excerpt. */
  z.object({ type: z.literal('text'), start: z.number().int().nonnegative(), end: z.number().int().nonnegative(), snippet: z.string() }),
  /** A PDF (or document) page, 1-based. */
  z.object({ type: z.literal('page'), page: z.number().int().positive() }),
  /** A video moment in seconds. */
  z.object({ type: z.literal('time'), start: z.number().nonnegative(), end: z.number().nonnegative() }),
]);
export type Locator = z.infer<typeof locator>;

export const root = z.object({
  id: z.number().int(),
  path: z.string(),
  include: z.array(z.string()),
  exclude: z.array(z.string()),
  /** False while the folder is missing (an unplugged drive); its files stay indexed. */
  present: z.boolean(),
  addedAt: z.number(),
});
export type Root = z.infer<typeof root>;

/**
 * Files (not items), in one meaning everywhere: `total` files found in the folders = `indexed`
 * (searchable) + `failed` (could not be read; files.failures says why) + `pending`
 * (not read yet). "Done" is indexed + failed.
 */
export const kindCounts = z.object({
  total: z.number().int().nonnegative(),
  indexed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
});
export type KindCounts = z.infer<typeof kindCounts>;

export const indexingProgress = z.object({
  state: z.enum(['idle', 'scanning', 'indexing', 'paused']),
  files: kindCounts,
  byKind: z.record(fileKind, kindCounts),
  /** Files per second over the last minute; 0 when idle. */
  rate: z.number().nonnegative(),
  /** Seconds to finish the pending files at the current rate; null when unknown. */
  etaSeconds: z.number().nonnegative().nullable(),
  /** The file being worked on, for display. */
  current: z.string().nullable(),
  /** The same counts per folder (roots.list ids), for the folders view. */
  byRoot: z.array(z.object({ rootId: z.number().int(), files: kindCounts })),
});
export type IndexingProgress = z.infer<typeof indexingProgress>;

/** Where a model in use comes from. */
export const modelOrigin = z.discriminatedUnion('type', [
  /** A package in Trove's models folder (set up from the app or `trove model pull`): its package id. */
  z.object({ type: z.literal('installed'), packageId: z.string() }),
  /** A package folder elsewhere on disk, given for this run (`--model`, `TROVE_MODEL`, `--reranker`). */
  z.object({ type: z.literal('folder'), path: z.string() }),
  /** A model on an inference server: file contents are sent there. */
  z.object({ type: z.literal('server'), url: z.string() }),
]);
export type ModelOrigin = z.infer<typeof modelOrigin>;

/**
 * The models in use and what search can do now: one answer, computed in one place by the engine
 * (status.get `model` and models.state `inUse` are the same object), that every label is made from.
 */
export const modelStatus = z.object({
  /** The embedding model search and indexing use, or null: keyword search only until one is ready. */
  embedding: z.object({ name: z.string(), dims: z.number().int().positive(), precision: z.string(), origin: modelOrigin }).nullable(),
  reranker: z.object({ name: z.string(), precision: z.string(), origin: modelOrigin }).nullable(),
  /** Which execution provider runs the models (cpu, cuda, webgpu, …; 'remote' on a server), null without a model. */
  executionProvider: z.string().nullable(),
  /**
   * What a search does right now: by meaning and keywords, or keywords only (names, paths, text):
   * without an embedding model, and while the model's semantic index loads or is built.
   */
  search: z.enum(['semantic', 'keyword']),
  /** The semantic (ANN) index of the embedding model in use, as status.get `ann` has it; null without a model. */
  semanticIndex: z.object({ state: z.enum(['loading', 'building', 'ready', 'compacting', 'failed']), progress: z.number().min(0).max(1).nullable() }).nullable(),
  /**
   * Technical details for a disclosure: which execution provider runs each model and why the
   * others did not (onnxruntime's words); null when no local model runs.
   */
  providerDetails: z.string().nullable(),
  /**
   * Vectors the library holds from models that are not in use now (a package given with --model
   * for an earlier run, say): search does not use them until that model is in use again.
   */
  unusedVectors: z.array(z.object({ name: z.string(), path: z.string(), vectors: z.number().int().nonnegative() })),
  /** Problems to show (a saved model that could not be loaded, and why); empty when there are none. */
  notes: z.array(z.string()),
  /** All of the above in plain sentences (no execution-provider details). */
  statement: z.string(),
});
export type ModelStatus = z.infer<typeof modelStatus>;

export const status = z.object({
  files: kindCounts,
  /** Searchable parts of the indexed files: a photo, a PDF page, a video moment, a passage of text. */
  items: z.number().int().nonnegative(),
  /** Vectors of the embedding model in use (0 without one): what semantic search reaches. */
  vectors: z.number().int().nonnegative(),
  /**
   * The semantic (ANN) index of the model in use: its live vectors, and where it stands. It loads
   * or is built in the background (docs/store.md, "The ANN index in worker threads"): until it is
   * `ready` (or `compacting`, which still searches) search runs on keywords and says so.
   * `progress` is 0..1 while building or compacting.
   */
  ann: z.object({
    count: z.number().int().nonnegative(),
    state: z.enum(['loading', 'building', 'ready', 'compacting', 'failed']).optional(),
    progress: z.number().min(0).max(1).nullable().optional(),
  }),
  indexing: indexingProgress,
  model: modelStatus,
  dataDir: z.string(),
  /** Bytes used by the database, the ANN index and thumbnails. */
  diskBytes: z.number().int().nonnegative(),
  /**
   * Folders under the roots that cannot be read, and the files Trove knows in them (not part of
   * `files`: their kinds are unknown). files.failures lists each folder with its reason.
   */
  unreadableFolders: z.object({ count: z.number().int().nonnegative(), files: z.number().int().nonnegative() }),
});
export type Status = z.infer<typeof status>;

export const searchFilters = z.object({
  kinds: z.array(fileKind).optional(),
  rootIds: z.array(z.number().int()).optional(),
  /** Epoch milliseconds, inclusive; compared with the date taken, else the file's mtime. */
  from: z.number().optional(),
  to: z.number().optional(),
});
export type SearchFilters = z.infer<typeof searchFilters>;

/** An image given as a query: a file on this machine, or bytes (drop/paste). */
export const queryImage = z.union([
  z.object({ path: z.string().min(1) }),
  z.object({ dataBase64: z.string().min(1), mime: z.string().regex(/^image\//) }),
]);
export type QueryImage = z.infer<typeof queryImage>;

export const searchRequest = z
  .object({
    text: z.string().max(4000).optional(),
    image: queryImage.optional(),
    /** "More like this": use a stored item's vector as the query. */
    likeItemId: z.number().int().optional(),
    filters: searchFilters.default({}),
    sort: z.enum(['relevance', 'date']).default('relevance'),
    limit: z.number().int().min(1).max(500).default(60),
    /** Hide results scored below this probability (0 shows everything). */
    cutoff: z.number().min(0).max(1).default(0),
    /** Rerank the top candidates with the reranker (when one is installed). */
    rerank: z.boolean().default(true),
  })
  .refine((r) => (r.text !== undefined && r.text.trim() !== '') || r.image !== undefined || r.likeItemId !== undefined, {
    message: 'a search needs text, an image, or an item to find more like',
  });
export type SearchRequest = z.input<typeof searchRequest>;

export const searchResult = z.object({
  itemId: z.number().int(),
  fileId: z.number().int(),
  path: z.string(),
  name: z.string(),
  kind: fileKind,
  /** Relevance as a probability in [0, 1] (reranker score, or calibrated similarity without one). */
  score: z.number().min(0).max(1),
  locator,
  /** Epoch ms: date taken when known, else mtime. */
  date: z.number(),
  /** Which signals found it. */
  sources: z.array(z.enum(['semantic', 'keyword', 'reranked'])),
});
export type SearchResult = z.infer<typeof searchResult>;

export const searchResponse = z.object({
  results: z.array(searchResult),
  /** How many candidates were above the cut-off before `limit`. */
  total: z.number().int().nonnegative(),
  /** How many candidates the cut-off hid: whether lowering it would show more (absent: not told). */
  hiddenByCutoff: z.number().int().nonnegative().optional(),
  /** 'semantic+keyword', 'keyword' (no model yet), …, in words for the UI. */
  mode: z.string(),
  tookMs: z.number().nonnegative(),
});
export type SearchResponse = z.infer<typeof searchResponse>;

export const itemDetail = searchResult.omit({ score: true, sources: true }).extend({
  size: z.number().int().nonnegative(),
  mtime: z.number(),
  /** Text of a text chunk, or a PDF page's text layer. */
  text: z.string().nullable(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
});
export type ItemDetail = z.infer<typeof itemDetail>;

/** Something under a root that is not indexed, and why (docs/api.md, "Failures and retries"). */
export const fileFailure = z.object({
  /** The file's id, what files.retry takes; null for a folder (every scan reads it again). */
  fileId: z.number().int().nullable(),
  /** A file, or a folder that cannot be read (none of the files in it are indexed). */
  what: z.enum(['file', 'folder']),
  /** Absolute. A name that is not valid UTF-8 shows U+FFFD (�) where its bytes are not. */
  path: z.string(),
  /** The file's kind; null for a folder. */
  kind: fileKind.nullable(),
  /** Why, in words, and what to do. */
  reason: z.string(),
  /** When it was recorded (epoch ms). */
  at: z.number(),
  /** Times indexing the file started since it last changed or was retried (0: refused without reading it, or a folder). */
  attempts: z.number().int().nonnegative(),
  /** 1 for a file; for a folder the files in it Trove knows of (listed, or indexed before it became unreadable), null when unknown. */
  files: z.number().int().nonnegative().nullable(),
  /** When Trove tries again by itself: at the next start (and every rescan), or only when the file changes (or files.retry asks). */
  nextTry: z.enum(['next-start', 'on-change']),
});
export type FileFailure = z.infer<typeof fileFailure>;

/** One page of failures, newest first, with how many there are in all. */
export const fileFailures = z.object({ total: z.number().int().nonnegative(), failures: z.array(fileFailure) });
export type FileFailures = z.infer<typeof fileFailures>;
