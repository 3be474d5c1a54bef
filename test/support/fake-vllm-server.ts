// A stand-in for a vLLM OpenAI-compatible server, for the remote backend's tests: a real HTTP
// server on 127.0.0.1 that speaks the request/response shapes Trove uses, decodes each request
// back into Trove EmbedInputs and answers with Trove's own local runtime (ModelClient on a tiny
// package), so remote results can be compared with local inference.
//
// Shapes followed (vLLM's OpenAI-compatible server; read from vLLM's source and docs):
//   GET  /v1/models      → {object:"list", data:[{id, object:"model", owned_by:"vllm", root, max_model_len}]}
//   POST /v1/embeddings  EmbeddingChatRequest (vLLM ≥ 0.14: `messages`, `encoding_format`
//        "float" | "base64" (float32 little-endian), `add_generation_prompt`, `media_io_kwargs`
//        (per-request media IO kwargs, vLLM PR #34778)) → {id, object:"list", created, model,
//        data:[{index, object:"embedding", embedding}], usage}
//        Video parts use vLLM's frame-sequence URL `data:video/jpeg;base64,<f1>,<f2>,…` (VideoMediaIO
//        .load_base64; each frame read by Pillow whatever its format) with the timing of
//        `media_io_kwargs.video` {fps, frames_indices, total_num_frames, num_frames,
//        do_sample_frames} (VideoMediaIO metadata, vLLM PRs #37301 and #40133); without it vLLM
//        assumes fps 1 and frames 0…n−1, and so does this server.
//   POST /v1/rerank, /rerank  RerankRequest (vLLM ≥ 0.14, Jina/Cohere style): {model, query:
//        str | {content:[parts]}, documents: [str | {content:[parts]}], top_n} →
//        {id, model, usage:{prompt_tokens, total_tokens}, results:[{index, relevance_score, document}]}
//        sorted by relevance_score, highest first. The instruction is the chat template's default
//        (vLLM's examples/pooling/score/template/qwen3_vl_reranker.jinja); the request has no field for it.
//   Errors: 401 {"error":"Unauthorized"} without the right Bearer key (vLLM --api-key);
//        404 {"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":"model","code":404}};
//        400 {"error":{message, type:"BadRequestError", code:400}}.
//
// What this server does not model: vLLM's own image/frame resizing (it runs Trove's pipeline on the
// decoded inputs), several videos per request, non-integer-rate timing beyond what ffmpeg keeps.
//
// Knobs for failure tests: failNext(count, status) answers the next requests with an error,
// delayMs holds every answer (released early when the client hangs up), and the counters
// (requests, inFlight, maxInFlight, hangUps) say what the server saw.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import type { EmbedInput } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import { ModelClient } from '../../electron/engine/inference/node/runtime/model-client.ts';
import type { VideoClip } from '../../electron/engine/model-inputs/node/video-preprocess.ts';

export interface FakeVllmOptions {
  readonly embeddingPackage?: string;
  readonly rerankerPackage?: string;
  /** Served names (GET /v1/models); defaults 'tiny/Qwen3-VL-Embedding' and 'tiny/Qwen3-VL-Reranker'. */
  readonly embeddingModel?: string;
  readonly rerankerModel?: string;
  /** When set, every request needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Folder for reconstructed videos; default a new temporary folder. */
  readonly workDir?: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

type Part = { type?: string; text?: string; image_url?: { url?: string }; video_url?: { url?: string } };
type VideoTimingIn = { fps?: number; frames_indices?: number[]; total_num_frames?: number };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly payload: unknown,
  ) {
    super(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }
}

const badRequest = (message: string): HttpError => new HttpError(400, { error: { message, type: 'BadRequestError', param: null, code: 400 } });

function decodeDataUrl(url: string | undefined): { mime: string; data: string } {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url ?? '');
  if (!match) throw badRequest(`only base64 data URLs are supported here, got ${(url ?? '').slice(0, 40)}`);
  return { mime: match[1]!, data: match[2]! };
}

/** Decoded frames → a lossless AVI whose frame numbers and rate match `timing`, and the clip that samples exactly those frames. */
async function reconstructVideo(frames: Buffer[], timing: VideoTimingIn, dir: string, name: string): Promise<VideoClip> {
  const fps = timing.fps ?? 1;
  const indices = timing.frames_indices ?? frames.map((_, i) => i);
  if (indices.length !== frames.length) throw badRequest(`frames_indices length (${indices.length}) must match number of frames sent (${frames.length})`);
  if (!indices.every((v, i) => Number.isInteger(v) && v >= 0 && (i === 0 || v > indices[i - 1]!))) throw badRequest('this server needs increasing frames_indices');
  const decoded = await Promise.all(frames.map((f) => sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  const { width, height } = decoded[0]!.info;
  if (decoded.some((d) => d.info.width !== width || d.info.height !== height)) throw badRequest('all frames of a video must share one size');
  const file = path.join(dir, `${name}.avi`);
  const last = indices[indices.length - 1]!;
  const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0', '-c:v', 'png', '-y', file], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  ffmpeg.stderr.on('data', (s: Buffer) => (stderr += s.toString()));
  let k = 0;
  for (let n = 0; n <= last; n++) {
    while (k + 1 < indices.length && indices[k + 1]! <= n) k++;
    // Frames between the sampled ones are never read back; they repeat the previous sampled frame.
    if (!ffmpeg.stdin.write(decoded[k]!.data)) await once(ffmpeg.stdin, 'drain');
  }
  ffmpeg.stdin.end();
  const [code] = (await once(ffmpeg, 'close')) as [number];
  if (code !== 0) throw new Error(`ffmpeg could not write the reconstructed video: ${stderr}`);
  // Trove's window rules (common/video-window.ts) then pick frames first…last, n of them: the ones sent.
  return { path: file, start: indices[0]! > 0 ? (indices[0]! - 0.5) / fps : undefined, end: (last + 0.5) / fps, maxFrames: indices.length };
}

export class FakeVllmServer {
  /** Requests answered with an error before normal service resumes. */
  private failures: { status: number; retryAfter?: string }[] = [];
  private videoCount = 0;
  /** Milliseconds every request is held before it is answered. */
  delayMs = 0;
  readonly requests: SeenRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Connections the client closed before the answer (cancelled or timed-out requests). */
  hangUps = 0;
  private arrivals: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    private readonly client: ModelClient,
    private readonly workDir: string,
    private readonly ownsWorkDir: boolean,
    readonly embeddingModel: string,
    readonly rerankerModel: string,
    private readonly apiKey: string | undefined,
    private readonly hasEmbedding: boolean,
    private readonly hasReranker: boolean,
  ) {}

  static async start(options: FakeVllmOptions): Promise<FakeVllmServer> {
    const client = await ModelClient.start({ embeddingPackage: options.embeddingPackage, rerankerPackage: options.rerankerPackage });
    const workDir = options.workDir ?? (await mkdtemp(path.join((await import('node:os')).tmpdir(), 'trove-fake-vllm-')));
    await mkdir(workDir, { recursive: true });
    const server = createServer();
    const fake = new FakeVllmServer(
      server,
      client,
      workDir,
      options.workDir === undefined,
      options.embeddingModel ?? 'tiny/Qwen3-VL-Embedding',
      options.rerankerModel ?? 'tiny/Qwen3-VL-Reranker',
      options.apiKey,
      options.embeddingPackage !== undefined,
      options.rerankerPackage !== undefined,
    );
    server.on('request', (req, res) => void fake.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `count` requests get HTTP `status` (e.g. 503), optionally with a Retry-After header. */
  failNext(count: number, status = 503, retryAfter?: string): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, retryAfter });
  }

  /** Drops injected failures not used yet. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Resolves when the next request has arrived (its body read). */
  nextRequest(): Promise<void> {
    return new Promise((resolve) => this.arrivals.push(resolve));
  }

  resetCounters(): void {
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
    this.hangUps = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await this.client.close();
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let answered = false;
    const hungUp = new Promise<void>((resolve) =>
      res.on('close', () => {
        if (!answered) this.hangUps++;
        resolve();
      }),
    );
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text.length > 0 ? JSON.parse(text) : undefined;
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, body });
      this.arrivals.splice(0).forEach((resolve) => resolve());
      if (this.delayMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, this.delayMs))), hungUp]);
        clearTimeout(timer);
      }
      if (res.destroyed) return;
      if (this.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.apiKey}`) throw new HttpError(401, { error: 'Unauthorized' });
      const failure = this.failures.shift();
      if (failure) {
        if (failure.retryAfter !== undefined) res.setHeader('retry-after', failure.retryAfter);
        throw new HttpError(failure.status, { error: { message: `Injected failure (HTTP ${failure.status})`, type: 'ServiceUnavailableError', param: null, code: failure.status } });
      }
      const payload = await this.route(req.method ?? 'GET', url.pathname, body);
      answered = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    } catch (error) {
      answered = true;
      if (res.destroyed) return;
      const status = error instanceof HttpError ? error.status : 500;
      const payload = error instanceof HttpError ? error.payload : { error: { message: (error as Error).message, type: 'InternalServerError', param: null, code: 500 } };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    } finally {
      this.inFlight--;
    }
  }

  private route(method: string, pathname: string, body: unknown): Promise<unknown> | unknown {
    if (method === 'GET' && pathname === '/v1/models') {
      const models = [...(this.hasEmbedding ? [this.embeddingModel] : []), ...(this.hasReranker ? [this.rerankerModel] : [])];
      return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'vllm', root: id, parent: null, max_model_len: 8192 })) };
    }
    if (method === 'POST' && pathname === '/v1/embeddings') return this.embeddings(body as Record<string, unknown>);
    if (method === 'POST' && (pathname === '/v1/rerank' || pathname === '/rerank' || pathname === '/v2/rerank')) return this.rerank(body as Record<string, unknown>);
    throw new HttpError(404, { detail: 'Not Found' });
  }

  private checkModel(model: unknown, served: string, available: boolean): void {
    if (!available || (model !== undefined && model !== served)) {
      throw new HttpError(404, { error: { message: `The model \`${String(model)}\` does not exist.`, type: 'NotFoundError', param: 'model', code: 404 } });
    }
  }

  /** Content parts → an EmbedInput; the parts must come in the order Trove renders (videos, images, texts). */
  private async inputOf(content: unknown, timing: VideoTimingIn | undefined): Promise<EmbedInput> {
    if (typeof content === 'string') return { texts: [content] };
    if (!Array.isArray(content)) throw badRequest('content must be a string or a list of parts');
    const input: { texts: string[]; images: Buffer[]; videos: VideoClip[] } = { texts: [], images: [], videos: [] };
    const rank = { video_url: 0, image_url: 1, text: 2 } as Record<string, number>;
    let previous = 0;
    for (const part of content as Part[]) {
      const r = rank[part.type ?? ''];
      if (r === undefined) throw badRequest(`unsupported content part type '${String(part.type)}'`);
      if (r < previous) throw badRequest('this server renders videos, then images, then text; send the parts in that order');
      previous = r;
      if (part.type === 'text') input.texts.push(part.text ?? '');
      else if (part.type === 'image_url') input.images.push(Buffer.from(decodeDataUrl(part.image_url?.url).data, 'base64'));
      else {
        const { mime, data } = decodeDataUrl(part.video_url?.url);
        if (mime !== 'video/jpeg') throw badRequest(`this server takes videos as frame sequences (data:video/jpeg;base64,…), got ${mime}`);
        const frames = data.split(',').map((f) => Buffer.from(f, 'base64'));
        input.videos.push(await reconstructVideo(frames, timing ?? {}, this.workDir, `video-${++this.videoCount}`));
      }
    }
    if (input.videos.length > 1) throw badRequest('this server takes at most one video per request');
    return input;
  }

  private async embeddings(body: Record<string, unknown>): Promise<unknown> {
    this.checkModel(body.model, this.embeddingModel, this.hasEmbedding);
    const messages = body.messages as { role?: string; content?: unknown }[] | undefined;
    if (!Array.isArray(messages)) throw badRequest('this server implements the chat form of /v1/embeddings: send `messages`');
    if (body.add_generation_prompt !== true) throw badRequest('Qwen3-VL-Embedding pools the generation prompt\'s last token: set add_generation_prompt to true');
    const system = messages.find((m) => m.role === 'system');
    const user = messages.filter((m) => m.role === 'user');
    if (user.length !== 1) throw badRequest('send exactly one user message');
    const instruction = system === undefined ? undefined : typeof system.content === 'string' ? system.content : (system.content as Part[]).map((p) => p.text ?? '').join('');
    const media = body.media_io_kwargs as { video?: VideoTimingIn } | undefined;
    const input = await this.inputOf(user[0]!.content, media?.video);
    const [vector] = await this.client.embed([input], { instruction });
    const encoding = body.encoding_format ?? 'float';
    const embedding = encoding === 'base64' ? Buffer.from(vector!.buffer, vector!.byteOffset, vector!.byteLength).toString('base64') : Array.from(vector!);
    return {
      id: `embd-${this.requests.length}`,
      object: 'list',
      created: Math.floor(Date.now() / 1000),
      model: this.embeddingModel,
      data: [{ index: 0, object: 'embedding', embedding }],
      usage: { prompt_tokens: 0, total_tokens: 0, completion_tokens: 0, prompt_tokens_details: null },
    };
  }

  private async rerank(body: Record<string, unknown>): Promise<unknown> {
    this.checkModel(body.model, this.rerankerModel, this.hasReranker);
    const side = (value: unknown): Promise<EmbedInput> => this.inputOf(typeof value === 'string' ? value : (value as { content?: unknown }).content, undefined);
    if (!Array.isArray(body.documents)) throw badRequest('documents must be a list');
    const query = await side(body.query);
    const documents: EmbedInput[] = [];
    for (const d of body.documents as unknown[]) documents.push(await side(d));
    const scores = await this.client.rerank(query, documents);
    const topN = typeof body.top_n === 'number' && body.top_n > 0 ? body.top_n : documents.length;
    const results = scores
      .map((relevance_score, index) => {
        const d = (body.documents as unknown[])[index];
        return { index, relevance_score, document: typeof d === 'string' ? { text: d } : { multi_modal: (d as { content: unknown }).content } };
      })
      .sort((a, b) => b.relevance_score - a.relevance_score)
      .slice(0, topN);
    return { id: `rerank-${this.requests.length}`, model: this.rerankerModel, usage: { prompt_tokens: 0, total_tokens: 0 }, results };
  }
}
