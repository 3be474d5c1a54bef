// Worker-thread entry for file extraction (started by extraction-pool.ts). Everything that reads a
// file's content runs here, off the engine's thread: tokenizing and chunking text (seconds per MiB),
// unzipping and walking Office XML, MuPDF (synchronous WebAssembly) listing and drawing PDF pages,
// decoding images and BMPs, and parsing ffprobe's packet lists. One task at a time: the pool sends
// the next only after this one answered, so a task never waits here behind another.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { serializeError } from '../../base/common/serialized-error.ts';
import { mupdfMemoryBytes } from '../../extract/node/pdf-extract.ts';
import type { DeferredItems } from '../../extract/node/prepared-file.ts';
import type { ExtractionReply, ExtractionRequest, ExtractionTask, ExtractionWorkerData } from './extraction-protocol.ts';
import { chunkTokenizerOf, openDeferredItems, prepareFile } from './file-items.ts';

if (parentPort === null) throw new Error('extraction-worker-main.ts is a worker_threads entry; start it through ExtractionPool');
const port = parentPort;
const { retireAboveBytes } = workerData as ExtractionWorkerData;
const post = (reply: ExtractionReply): void => {
  // The WebAssembly memory a large document needed stays with this thread: past the limit, the
  // pool retires it after this task and a fresh worker takes the next.
  port.postMessage(reply.type !== 'started' && mupdfMemoryBytes() > retireAboveBytes ? { ...reply, retire: true } : reply);
};
// libvips' operation cache keeps recent decodes and open files for reuse (up to 50 MB and 20 files
// per process); every file is read once here, so it only holds memory and descriptors.
sharp.cache(false);
const running = new Map<number, AbortController>();
const handles = new Map<number, Promise<DeferredItems>>();

function closeHandle(handle: number): void {
  handles.get(handle)?.then(
    (items) => items.close(),
    () => undefined,
  );
  handles.delete(handle);
}

async function run(task: ExtractionTask & { id: number }): Promise<void> {
  const controller = new AbortController();
  running.set(task.id, controller);
  const { signal } = controller;
  try {
    // Loading the model's tokenizer (about a second, once per worker; only text needs it) is not the file's work.
    if (task.type === 'prepare' && (task.file.kind === 'text' || task.file.kind === 'document')) await chunkTokenizerOf(task.tokenizer);
    post({ type: 'started', id: task.id });
    if (task.type === 'prepare') {
      const result = await prepareFile(task.file, task.tokenizer, { signal, deferred: task.deferred, maxTextChunks: task.maxTextChunks });
      post({ type: 'prepared', id: task.id, result });
    } else if (task.type === 'open') {
      const opening = openDeferredItems(task.file, { signal });
      handles.set(task.handle, opening);
      await opening.catch((error: unknown) => {
        handles.delete(task.handle);
        throw error;
      });
      post({ type: 'opened', id: task.id });
    } else {
      let source = handles.get(task.handle);
      if (!source) {
        // The worker that opened it stopped: open it here (the caller's handle now lives in this worker).
        source = openDeferredItems(task.file, { signal });
        handles.set(task.handle, source);
        source.catch(() => handles.delete(task.handle));
      }
      const result = await (await source).complete(task.item, { embed: task.embed });
      post({ type: 'drawn', id: task.id, result });
    }
  } catch (error) {
    post({ type: 'error', id: task.id, error: serializeError(error) });
  } finally {
    running.delete(task.id);
  }
}

port.on('message', (request: ExtractionRequest) => {
  if (request.type === 'abort') running.get(request.id)?.abort(new DOMException('The extraction was stopped.', 'AbortError'));
  else if (request.type === 'close-handle') closeHandle(request.handle);
  else void run(request);
});
