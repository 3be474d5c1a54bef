// The remote backend: the same embed / rerank API as ModelClient (runtime/model-client.ts), served
// by an existing vLLM server running Qwen3-VL-Embedding (POST /v1/embeddings with chat `messages`)
// and Qwen3-VL-Reranker (POST /v1/rerank). Shapes and the vLLM sources they follow:
// docs/remote-inference.md. Nothing here runs a model; inputs are turned into content parts
// (remote-content.ts) and sent over HTTP (vllm-client.ts).
import pLimit from 'p-limit';
import { assertMatryoshkaDims, l2Normalize, matryoshka } from '../../../store/common/embedding-codes.ts';
import { normalizeEmbedInstruction } from '../../../model-inputs/common/embedder-prompt.ts';
import { DEFAULT_RERANK_INSTRUCTION } from '../../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import { parseRemoteConfig, serverRoot, type RemoteConfig } from './remote-config.ts';
import { remoteContent, scoreInput, type RemoteContent } from './remote-content.ts';
import { abortReason, ConcurrencyLimiter, RemoteInferenceError, VllmHttpClient, type RemotePriority } from './vllm-client.ts';

export interface RemoteEmbedOptions {
  /** Task instruction (the embedder's punctuation rule applies); default "Represent the user's input." */
  readonly instruction?: string;
  /** Matryoshka size, applied here to the full embedding exactly as local inference does. */
  readonly dims?: number;
  readonly signal?: AbortSignal;
  readonly priority?: RemotePriority;
}

export interface RemoteRerankOptions {
  /** Only the default instruction is possible: vLLM's rerank request has no instruction field. */
  readonly instruction?: string;
  readonly signal?: AbortSignal;
  readonly priority?: RemotePriority;
}

export interface ConnectOptions {
  /** Embed one short text at connect time to learn the embedding size; default true. */
  readonly probe?: boolean;
  readonly signal?: AbortSignal;
}

/** Documents per rerank request: large enough to amortise the round trip, small enough to stream the answers in. */
export const RERANK_DOCUMENTS_PER_REQUEST = 32;

interface ModelList {
  data?: { id?: string }[];
}

interface EmbeddingResponse {
  data?: { index?: number; embedding?: number[] | string }[];
}

interface RerankResponse {
  results?: { index?: number; relevance_score?: number }[];
}

/** A float32 vector from vLLM: a JSON array, or base64 of little-endian float32 (encoding_format "base64"). */
export function decodeEmbedding(value: number[] | string | undefined): Float32Array {
  if (Array.isArray(value)) return Float32Array.from(value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length % 4 !== 0 || bytes.length === 0) throw new Error(`a base64 embedding of ${bytes.length} bytes is not a float32 vector`);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  throw new Error('the answer has no embedding');
}

export class RemoteModelClient {
  private readonly limiter: ConcurrencyLimiter;
  private readonly embedServer: VllmHttpClient | null;
  private readonly rerankServer: VllmHttpClient | null;
  /** Aborted by close(): stops every request still running. */
  private readonly lifetime = new AbortController();
  private learnedDims: number | null = null;
  private closed = false;

  private constructor(readonly config: RemoteConfig) {
    this.limiter = new ConcurrencyLimiter(config.concurrency);
    const http = (url: string): VllmHttpClient =>
      new VllmHttpClient(serverRoot(url), { timeoutMs: config.timeoutMs, retries: config.retries, backoffMs: config.backoffMs, apiKey: config.apiKey, limiter: this.limiter });
    this.embedServer = config.embeddingModel !== undefined ? http(config.url) : null;
    this.rerankServer = config.rerankerModel !== undefined ? http(config.rerankerUrl ?? config.url) : null;
  }

  /**
   * Validates the settings, checks that each server lists its model (GET /v1/models) and, unless
   * `probe: false`, embeds one short text to learn the embedding size.
   */
  static async connect(settings: unknown, options: ConnectOptions = {}): Promise<RemoteModelClient> {
    const client = new RemoteModelClient(parseRemoteConfig(settings));
    if (client.embedServer) await client.checkModel(client.embedServer, client.config.embeddingModel!, 'embeddingModel', options.signal);
    if (client.rerankServer) await client.checkModel(client.rerankServer, client.config.rerankerModel!, 'rerankerModel', options.signal);
    if (client.embedServer && options.probe !== false) await client.embed([{ texts: ['Trove dimension probe'] }], { signal: options.signal, priority: 'interactive' });
    return client;
  }

  /** Full embedding size the server returns; null until the first embedding (or the connect probe). */
  get dims(): number | null {
    return this.learnedDims;
  }

  /** HTTP requests in flight now (≤ concurrency), and the most there ever were. */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  get peakInFlight(): number {
    return this.limiter.peak;
  }

  /** A plain statement of where inference runs and what leaves the machine. */
  describe(): string {
    const parts: string[] = [];
    if (this.embedServer) {
      const size = this.learnedDims === null ? '' : ` (${this.learnedDims} dimensions)`;
      parts.push(`Embedding with ${this.config.embeddingModel}${size} on the vLLM server at ${this.embedServer.root}.`);
    }
    if (this.rerankServer) parts.push(`Reranking with ${this.config.rerankerModel} on the vLLM server at ${this.rerankServer.root}.`);
    const servers = [...new Set([this.embedServer?.root, this.rerankServer?.root].filter((r): r is string => r !== undefined))];
    parts.push(
      `Your files' content — images, video frames and text — is sent to ${servers.length > 1 ? 'those servers' : 'that server'} for inference ` +
        `(at most ${this.config.concurrency} requests at once, ${this.config.timeoutMs / 1000} s limit each, ${this.config.retries} retries).`,
    );
    return parts.join(' ');
  }

  async embed(inputs: readonly EmbedInput[], options: RemoteEmbedOptions = {}): Promise<Float32Array[]> {
    const server = this.embedServer;
    if (server === null) throw new RemoteInferenceError('No remote embedding model is configured; set embeddingModel in the remote settings.', 'model');
    if (options.dims !== undefined && this.learnedDims !== null) assertMatryoshkaDims(options.dims, this.learnedDims);
    const system = normalizeEmbedInstruction(options.instruction);
    const full = await this.eachInput(inputs, options, async (input, signal) => {
      const content = await remoteContent(input, { videoFrameFormat: this.config.videoFrameFormat, signal });
      const body = {
        model: this.config.embeddingModel,
        messages: [
          { role: 'system', content: [{ type: 'text', text: system }] },
          { role: 'user', content: content.parts },
        ],
        encoding_format: 'base64',
        // The embedder pools the last token of "<|im_start|>assistant\n" (docs/qwen3-vl-model.md#pooling): vLLM adds it only when asked.
        add_generation_prompt: true,
        ...(content.videoTiming ? { media_io_kwargs: { video: content.videoTiming } } : {}),
      };
      const answer = await this.send<EmbeddingResponse>(server, '/v1/embeddings', body, this.config.embeddingModel!, 'embeddingModel', signal, options.priority);
      let vector: Float32Array;
      try {
        vector = decodeEmbedding(answer.data?.[0]?.embedding);
      } catch (error) {
        throw new RemoteInferenceError(`The server at ${server.root} sent an unusable embedding (${(error as Error).message}); is it serving an embedding model (--runner pooling)?`, 'protocol', undefined, { cause: error });
      }
      this.learnDims(vector.length, server.root);
      return l2Normalize(vector);
    });
    if (options.dims === undefined || options.dims === this.learnedDims) return full;
    assertMatryoshkaDims(options.dims, this.learnedDims!);
    return full.map((v) => matryoshka(v, options.dims!));
  }

  async rerank(query: EmbedInput, documents: readonly EmbedInput[], options: RemoteRerankOptions = {}): Promise<number[]> {
    const server = this.rerankServer;
    if (server === null) throw new RemoteInferenceError('No remote reranker is configured; set rerankerModel in the remote settings.', 'model');
    if (documents.length === 0) throw new RangeError('rerank needs at least one document');
    const instruction = options.instruction;
    if (instruction !== undefined && instruction !== '' && instruction !== DEFAULT_RERANK_INSTRUCTION) {
      throw new RangeError(
        `A remote reranker cannot take the instruction "${instruction}": vLLM's rerank request has no instruction field, so the server's ` +
          `chat template always uses "${DEFAULT_RERANK_INSTRUCTION}". Rerank without an instruction, or rerank locally.`,
      );
    }
    const signal = this.callSignal(options.signal);
    const queryContent = await remoteContent(query, { videoFrameFormat: this.config.videoFrameFormat, signal: signal.signal });
    const chunks: [number, number][] = [];
    for (let start = 0; start < documents.length; start += RERANK_DOCUMENTS_PER_REQUEST) chunks.push([start, Math.min(documents.length, start + RERANK_DOCUMENTS_PER_REQUEST)]);
    const scores = new Array<number>(documents.length);
    try {
      await Promise.all(
        chunks.map(async ([start, end]) => {
          const contents: RemoteContent[] = [];
          for (const document of documents.slice(start, end)) contents.push(await remoteContent(document, { videoFrameFormat: this.config.videoFrameFormat, signal: signal.signal }));
          const body = { model: this.config.rerankerModel, query: scoreInput(queryContent), documents: contents.map(scoreInput), top_n: end - start };
          const answer = await this.send<RerankResponse>(server, '/v1/rerank', body, this.config.rerankerModel!, 'rerankerModel', signal.signal, options.priority);
          const seen = new Set<number>();
          for (const result of answer.results ?? []) {
            const { index, relevance_score: score } = result;
            if (typeof index !== 'number' || typeof score !== 'number' || index < 0 || index >= end - start || !Number.isFinite(score)) {
              throw new RemoteInferenceError(`The server at ${server.root} sent a malformed rerank result (${JSON.stringify(result)}); is it serving Qwen3-VL-Reranker with --runner pooling?`, 'protocol');
            }
            scores[start + index] = score;
            seen.add(index);
          }
          if (seen.size !== end - start) {
            throw new RemoteInferenceError(`The server at ${server.root} scored ${seen.size} of ${end - start} documents; it ignored top_n or dropped documents. Check the server's log.`, 'protocol');
          }
        }),
      );
    } catch (error) {
      signal.abort();
      throw error;
    } finally {
      signal.dispose();
    }
    return scores;
  }

  /** Stops every running request (they reject with an AbortError); later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.lifetime.abort(new DOMException('The remote model client was closed.', 'AbortError'));
  }

  private learnDims(length: number, root: string): void {
    if (this.learnedDims === null) this.learnedDims = length;
    else if (this.learnedDims !== length) {
      throw new RemoteInferenceError(
        `The server at ${root} returned a ${length}-value embedding after earlier ${this.learnedDims}-value ones; it was restarted with another model or dimension setting. ` +
          'Restart Trove so it can re-check the server (stored vectors must all have one size).',
        'protocol',
      );
    }
  }

  /** A signal for one call: aborts with the caller's signal, on close(), or when the call itself fails. */
  private callSignal(outer: AbortSignal | undefined): { signal: AbortSignal; abort: () => void; dispose: () => void } {
    if (this.closed) throw new Error('this RemoteModelClient is closed');
    const controller = new AbortController();
    const sources = [outer, this.lifetime.signal].filter((s): s is AbortSignal => s !== undefined);
    const listeners = sources.map((source) => {
      const listener = (): void => controller.abort(abortReason(source));
      if (source.aborted) listener();
      else source.addEventListener('abort', listener, { once: true });
      return () => source.removeEventListener('abort', listener);
    });
    return {
      signal: controller.signal,
      abort: () => controller.abort(new DOMException('A sibling request failed.', 'AbortError')),
      dispose: () => listeners.forEach((remove) => remove()),
    };
  }

  /** Runs `task` for every input, at most `concurrency` at once (each is one HTTP request); results in input order. */
  private async eachInput<T>(inputs: readonly EmbedInput[], options: { signal?: AbortSignal }, task: (input: EmbedInput, signal: AbortSignal) => Promise<T>): Promise<T[]> {
    const call = this.callSignal(options.signal);
    try {
      return await pLimit(this.config.concurrency).map(inputs, (input) => {
        call.signal.throwIfAborted();
        return task(input, call.signal);
      });
    } catch (error) {
      call.abort();
      throw options.signal?.aborted ? abortReason(options.signal) : error;
    } finally {
      call.dispose();
    }
  }

  private async send<T>(server: VllmHttpClient, path: string, body: unknown, model: string, setting: string, signal: AbortSignal, priority: RemotePriority | undefined): Promise<T> {
    try {
      return await server.postJson<T>(path, body, { signal, priority });
    } catch (error) {
      if (error instanceof RemoteInferenceError && error.kind === 'model') throw await this.modelMissing(server, model, setting, signal, error);
      throw error;
    }
  }

  private async checkModel(server: VllmHttpClient, model: string, setting: string, signal: AbortSignal | undefined): Promise<void> {
    const served = await this.servedModels(server, signal);
    if (!served.includes(model)) throw this.notServed(server, model, setting, served);
  }

  private async servedModels(server: VllmHttpClient, signal: AbortSignal | undefined): Promise<string[]> {
    const list = await server.getJson<ModelList>('/v1/models', { signal, priority: 'interactive' });
    return (list.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  }

  private notServed(server: VllmHttpClient, model: string, setting: string, served: readonly string[]): RemoteInferenceError {
    const listing = served.length > 0 ? `it serves: ${served.join(', ')}` : 'it lists no models';
    return new RemoteInferenceError(
      `The server at ${server.root} does not serve the model '${model}'; ${listing}. Set ${setting} in the remote settings to one of these (or start vLLM with --served-model-name '${model}').`,
      'model',
      404,
    );
  }

  private async modelMissing(server: VllmHttpClient, model: string, setting: string, signal: AbortSignal, original: RemoteInferenceError): Promise<RemoteInferenceError> {
    try {
      return this.notServed(server, model, setting, await this.servedModels(server, signal));
    } catch {
      return original;
    }
  }
}
