// Worker-thread entry: owns the onnxruntime sessions so inference never runs on the caller's
// thread (the Electron main process must stay responsive). Requests run one at a time: interactive
// ones first, then background ones, each in arrival order; a cancel aborts its request's signal,
// which the runtime checks between batches.
import { parentPort, workerData } from 'node:worker_threads';
import type { EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import { serializeError } from '../../../base/common/serialized-error.ts';
import type { ModelWorkerInit, ModelWorkerReply, ModelWorkerRequest } from './model-protocol.ts';
import { Qwen3VLEmbedder } from './qwen3vl-embedder.ts';
import { Qwen3VLReranker } from './qwen3vl-reranker.ts';

if (parentPort === null) throw new Error('model-worker-main.ts is a worker_threads entry; start it through ModelClient');
const port = parentPort;
const init = workerData as ModelWorkerInit;
const post = (reply: ModelWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

/** Structured clone turns Buffers into Uint8Arrays; the image decoder wants Buffers. */
function revive(input: EmbedInput): EmbedInput {
  if (input.images === undefined) return input;
  return { ...input, images: input.images.map((i) => (typeof i === 'string' || Buffer.isBuffer(i) ? i : Buffer.from((i as Uint8Array).buffer, (i as Uint8Array).byteOffset, (i as Uint8Array).byteLength))) };
}

let embedder: Qwen3VLEmbedder | null = null;
let reranker: Qwen3VLReranker | null = null;
const running = new Map<number, AbortController>();
type WorkRequest = Exclude<ModelWorkerRequest, { type: 'cancel' } | { type: 'close' }>;
const interactive: WorkRequest[] = [];
const background: WorkRequest[] = [];
let pumping = false;
let closing: Promise<void> | null = null;

/** Runs queued requests one at a time, interactive first; then a pending close. */
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (let next = interactive.shift() ?? background.shift(); next; next = interactive.shift() ?? background.shift()) {
      await handle(next, running.get(next.id)!.signal);
    }
  } finally {
    pumping = false;
  }
}

async function handle(request: WorkRequest, signal: AbortSignal): Promise<void> {
  try {
    if (signal.aborted) signal.throwIfAborted();
    if (request.type === 'embed') {
      if (embedder === null) throw new Error('this model worker has no embedding package; start the client with embeddingPackage');
      const embeddings = await embedder.embed(request.inputs.map(revive), { instruction: request.instruction, dims: request.dims, signal });
      post({ type: 'embeddings', id: request.id, embeddings }, embeddings.map((e) => e.buffer as ArrayBuffer));
    } else {
      if (reranker === null) throw new Error('this model worker has no reranker package; start the client with rerankerPackage');
      const scores = await reranker.rerank(revive(request.query), request.documents.map(revive), { instruction: request.instruction, signal });
      post({ type: 'scores', id: request.id, scores });
    }
  } catch (error) {
    post({ type: 'error', id: request.id, error: serializeError(error) });
  } finally {
    running.delete(request.id);
  }
}

port.on('message', (request: ModelWorkerRequest) => {
  switch (request.type) {
    case 'cancel':
      running.get(request.id)?.abort(new DOMException('The request was cancelled.', 'AbortError'));
      return;
    case 'close':
      closing ??= (async () => {
        while (pumping || interactive.length || background.length) {
          await pump();
          await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all([embedder?.close(), reranker?.close()]);
        post({ type: 'closed' });
        port.close();
      })();
      return;
    default: {
      // Registered on arrival, so a cancel for a request still waiting its turn is honoured too.
      running.set(request.id, new AbortController());
      (request.priority === 'interactive' ? interactive : background).push(request);
      void pump();
    }
  }
});

try {
  const options = { environment: init.environment, fastImages: init.fastImages };
  if (init.embeddingPackage !== undefined) embedder = await Qwen3VLEmbedder.open(init.embeddingPackage, options);
  if (init.rerankerPackage !== undefined) reranker = await Qwen3VLReranker.open(init.rerankerPackage, options);
  post({ type: 'ready', embedding: embedder?.provider ?? null, reranker: reranker?.provider ?? null });
} catch (error) {
  post({ type: 'init-error', error: serializeError(error) });
}
