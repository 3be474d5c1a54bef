// Every request the UI, the CLI or the server can make, with its parameter and result schemas.
// Transports derive their channel names from these keys and validate both directions.
import { z } from 'zod';
import { fileFailures, itemDetail, root, searchRequest, searchResponse, status } from './entities.ts';
import { installRequest, modelsState, remoteBackendSettings } from './model-setup.ts';

const none = z.object({}).strict();
const ok = z.object({ ok: z.literal(true) });

export const API_METHODS = {
  'status.get': { params: none, result: status },
  'roots.list': { params: none, result: z.array(root) },
  'roots.add': {
    params: z.object({ path: z.string().min(1), include: z.array(z.string()).default([]), exclude: z.array(z.string()).default([]) }),
    result: root,
  },
  'roots.remove': { params: z.object({ id: z.number().int() }), result: ok },
  'indexing.pause': { params: none, result: ok },
  'indexing.resume': { params: none, result: ok },
  'search.run': { params: searchRequest, result: searchResponse },
  'items.get': { params: z.object({ id: z.number().int() }), result: itemDetail },
  /**
   * What is not indexed, and why: failed and refused files and unreadable folders, newest first,
   * a page at a time, with the total. (`status.get` counts them: `files.failed`, `unreadableFolders`.)
   */
  'files.failures': {
    params: z.object({ limit: z.number().int().min(1).max(1000).default(100), offset: z.number().int().min(0).default(0) }),
    result: fileFailures,
  },
  /**
   * Index failed files again now: those named (any status but failed is left alone), or every
   * failed file when `fileIds` is absent. Answers how many went back to the queue.
   */
  'files.retry': {
    params: z.object({ fileIds: z.array(z.number().int()).max(10_000).optional() }).strict(),
    result: z.object({ queued: z.number().int().nonnegative() }),
  },
  /** Open the item's file with the system's default app (at its page/time where the app allows). */
  'files.open': { params: z.object({ itemId: z.number().int() }), result: ok },
  /** Show the file in the system file manager. */
  'files.reveal': { params: z.object({ itemId: z.number().int() }), result: ok },
  /**
   * The system's folder chooser (the desktop app only: the shell answers it; the engine and
   * `trove serve` refuse with 'unavailable', and the browser UI asks for a path instead).
   */
  'dialog.pickFolder': { params: z.object({ title: z.string().max(200).optional() }), result: z.object({ path: z.string().nullable() }) },
  /** The model catalog, this machine's hardware and recommendation, installed packages, the task in flight. */
  'models.state': { params: none, result: modelsState },
  /** Download (or take from folders), build and activate models in the background; progress arrives as `models.changed`. */
  'models.install': { params: installRequest, result: modelsState },
  /** Stop the download/build in flight; downloaded bytes are kept for a later install. */
  'models.cancel': { params: none, result: modelsState },
  /** Go on without a model for now: keyword search only (the first-run flow stops asking). */
  'models.decline': { params: none, result: modelsState },
  /** Make an installed package active (a new embedding model re-embeds the library in the background first). */
  'models.activate': { params: z.object({ id: z.string().min(1) }), result: modelsState },
  /** Delete an installed package that is not in use. */
  'models.remove': { params: z.object({ id: z.string().min(1) }), result: modelsState },
  /** Embed and rerank on an inference server (vLLM) instead of this machine; checked before it is used. */
  'models.useRemote': { params: remoteBackendSettings, result: modelsState },
  /** Back to the models installed on this machine. */
  'models.useLocal': { params: none, result: modelsState },
  /** Deletes the unfinished downloads no running install uses (models.state `downloads`). */
  'models.removeDownloads': { params: none, result: modelsState },
} as const;

export type ApiMethod = keyof typeof API_METHODS;
export type ApiParams<M extends ApiMethod> = z.input<(typeof API_METHODS)[M]['params']>;
export type ApiParsedParams<M extends ApiMethod> = z.output<(typeof API_METHODS)[M]['params']>;
export type ApiResult<M extends ApiMethod> = z.output<(typeof API_METHODS)[M]['result']>;

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_METHODS, name);
}
