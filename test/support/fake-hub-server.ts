// A local stand-in for the Hugging Face hub, for tests and the browser e2e: a real HTTP server
// (node:http on 127.0.0.1, a free port) that serves folders — e.g. tiny checkpoints from
// native-models/tiny — in the hub's layout:
//
//   GET /api/models/{owner}/{name}/revision/{rev}          {id, sha, siblings}
//   GET /api/models/{owner}/{name}/tree/{rev}?recursive=…  entries with LFS metadata, paginated by a Link header
//   GET|HEAD /{owner}/{name}/resolve/{rev}/{path}          the file (Range supported); *.safetensors are LFS
//                                                          files and answer 302 to /cdn/{sha256}, as the hub does
//
// Every response carries what the hub sends: X-Repo-Commit, ETag, X-Linked-Etag / X-Linked-Size
// for LFS files, X-Error-Code on errors. Knobs let a test break things on purpose (token required,
// connection cut after N bytes, a corrupted byte, stalls, slow delivery, 5xx bursts), and every
// request is recorded in `requests` (with the body bytes actually sent).
//
//   const hub = await startFakeHub({ repos: { 'Qwen/Qwen3-VL-Embedding-2B': checkpointDir } });
//   … downloadSnapshot(…, { endpoint: hub.url }) …
//   hub.fileRequests('model.safetensors')   // what was fetched, with Range headers and byte counts
//   await hub.close();
//
// `layoutHfCache` writes a folder into a huggingface_hub-style cache (blobs/, snapshots/, refs/)
// with the same commit the fake hub reports; `startForwardProxy` is a minimal HTTP proxy.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';

export interface FakeHubFile {
  path: string;
  size: number;
  /** Git blob sha1 (of the LFS pointer, for LFS files). */
  oid: string;
  /** SHA-256 of the content, for LFS files; null otherwise. */
  sha256: string | null;
  content: Buffer;
}

export interface FakeRepo {
  repo: string;
  commit: string;
  files: FakeHubFile[];
}

export type FakeRequestKind = 'revision' | 'tree' | 'resolve' | 'cdn' | 'other';

export interface FakeHubRequest {
  method: string;
  url: string;
  kind: FakeRequestKind;
  repo: string | null;
  /** Repo path of the file, for resolve and cdn requests. */
  file: string | null;
  /** The Range header, or null. */
  range: string | null;
  /** The Authorization header as received, or null. */
  authorization: string | null;
  status: number;
  /** Body bytes written to the socket so far. */
  bytesSent: number;
}

export interface FakeHubOptions {
  /** Repo id → folder whose files (recursively) the repo holds. */
  repos: Record<string, string>;
  /** When set, every request needs `Authorization: Bearer <token>` (401 without it). */
  token?: string | null;
  /** Tree entries per page; smaller values force pagination (default 1000, like the hub). */
  treePageSize?: number;
  /** Answer LFS resolves with a 302 to /cdn/{sha256} (default true, like the hub). */
  redirectLfs?: boolean;
}

export interface FakeHub {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` (or HF_ENDPOINT). */
  url: string;
  requests: FakeHubRequest[];
  /** Requests that carried file bytes (resolve of a non-LFS file, cdn for LFS), optionally for one file; redirects excluded. */
  fileRequests(file?: string): FakeHubRequest[];
  repo(repo: string): FakeRepo;
  /** Require a token from now on (null: no longer). */
  requireToken(token: string | null): void;
  /** The next content response for `file` closes the connection after `bytes` body bytes. Once. */
  cutAfter(file: string, bytes: number): void;
  /** Flip one byte (the middle one) of `file` in the next content response, or in every one. */
  corrupt(file: string, mode?: 'once' | 'always'): void;
  /** Content responses for `file` ('*': any) send `afterBytes` bytes and then nothing, until `unstall()` or close; with `once`, only the next one. */
  stall(file: string, afterBytes: number, options?: { once?: boolean }): void;
  unstall(): void;
  /** Content responses for `file` ('*': any) send `chunkBytes` then wait `delayMs`, repeatedly. */
  slow(file: string, chunkBytes: number, delayMs: number): void;
  /** The next `count` requests (of `kind`, when given) answer `status` (default 503), with Retry-After when given. */
  failNext(count: number, options?: { status?: number; retryAfter?: string; kind?: FakeRequestKind }): void;
  /** How Range requests are answered: normally (null), with a 200 and the whole file ('ignore'), or with 416 ('416'). */
  rangeMode(mode: 'ignore' | '416' | null): void;
  /** The most file-content responses that were being sent at one time (since start or reset). */
  peakTransfers(): number;
  /** Forget recorded requests. */
  clearRequests(): void;
  /** Turn every knob off (token, cuts, corruption, stalls, slowness, failures, range mode) and forget requests. */
  reset(): void;
  close(): Promise<void>;
}

const LFS_PATTERN = /\.safetensors$/;
const CHUNK = 64 * 1024;

function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** A folder as a hub repo: files with their oids (*.safetensors as LFS) and a deterministic commit sha. */
export async function describeRepo(repo: string, folder: string): Promise<FakeRepo> {
  const files: FakeHubFile[] = [];
  for (const rel of await walk(folder)) {
    const content = await readFile(path.join(folder, ...rel.split('/')));
    if (LFS_PATTERN.test(rel)) {
      const sha256 = createHash('sha256').update(content).digest('hex');
      files.push({ path: rel, size: content.length, oid: gitBlobSha1(lfsPointer(sha256, content.length)), sha256, content });
    } else {
      files.push({ path: rel, size: content.length, oid: gitBlobSha1(content), sha256: null, content });
    }
  }
  const commit = createHash('sha1')
    .update(`fake-hub-commit\0${repo}\0`)
    .update(files.map((f) => `${f.path}\0${f.oid}\n`).join(''))
    .digest('hex');
  return { repo, commit, files };
}

/** Resolves on 'drain' or 'close', removing both listeners (events.once would leave one behind each time). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

interface Stall {
  file: string;
  afterBytes: number;
  once: boolean;
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const repos = new Map<string, FakeRepo>();
  for (const [id, folder] of Object.entries(options.repos)) repos.set(id, await describeRepo(id, folder));
  const blobs = new Map<string, { repo: FakeRepo; file: FakeHubFile }>();
  for (const repo of repos.values()) for (const file of repo.files) if (file.sha256) blobs.set(file.sha256, { repo, file });

  let token = options.token ?? null;
  const pageSize = options.treePageSize ?? 1000;
  const redirectLfs = options.redirectLfs ?? true;
  const requests: FakeHubRequest[] = [];
  const cuts = new Map<string, number>();
  const corruptions = new Map<string, 'once' | 'always'>();
  let stalls: Stall[] = [];
  let releaseStalls: (() => void)[] = [];
  let slowness: { file: string; chunkBytes: number; delayMs: number }[] = [];
  let failures: { count: number; status: number; retryAfter?: string; kind?: FakeRequestKind } | null = null;
  let rangeMode: 'ignore' | '416' | null = null;
  let activeTransfers = 0;
  let peakTransfers = 0;
  let baseUrl = '';

  function json(res: http.ServerResponse, record: FakeHubRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
    record.bytesSent = Buffer.byteLength(text);
  }

  function resolveRevision(repo: FakeRepo, rev: string): boolean {
    return rev === 'main' || rev === repo.commit;
  }

  function waitForUnstall(res: http.ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      releaseStalls.push(resolve);
      res.once('close', () => resolve());
    });
  }

  /** Writes `content[start..end]` with the knobs applied: corruption, cut, stall, slowness. */
  async function sendContent(req: http.IncomingMessage, res: http.ServerResponse, record: FakeHubRequest, repo: FakeRepo, file: FakeHubFile, headers: Record<string, string | number>): Promise<void> {
    const size = file.size;
    const rangeHeader = req.headers.range ?? null;
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (rangeHeader !== null && rangeMode === '416') {
      record.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${size}`, 'x-repo-commit': repo.commit }).end();
      return;
    }
    if (rangeHeader !== null && rangeMode !== 'ignore') {
      const m = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader);
      if (!m) {
        record.status = 400;
        res.writeHead(400).end();
        return;
      }
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(Number(m[2]), size - 1);
      if (start >= size || start > end) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'x-repo-commit': repo.commit }).end();
        return;
      }
      status = 206;
    }
    let body = file.content.subarray(start, end + 1);
    const corruptMode = corruptions.get(file.path);
    const flipAt = Math.floor(size / 2);
    if (corruptMode && flipAt >= start && flipAt <= end) {
      body = Buffer.from(body);
      body[flipAt - start] ^= 0xff;
      if (corruptMode === 'once') corruptions.delete(file.path);
    }
    const cut = cuts.get(file.path);
    if (cut !== undefined) cuts.delete(file.path);
    const stall = stalls.find((s) => s.file === file.path || s.file === '*');
    if (stall?.once) stalls = stalls.filter((s) => s !== stall);
    const slow = slowness.find((s) => s.file === file.path || s.file === '*');
    record.status = status;
    res.writeHead(status, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-length': body.length,
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    activeTransfers++;
    peakTransfers = Math.max(peakTransfers, activeTransfers);
    let counted = true;
    const ended = () => {
      if (counted) activeTransfers--;
      counted = false;
    };
    res.once('finish', ended);
    res.once('close', ended);
    let sent = 0;
    let stalled = false;
    while (sent < body.length) {
      if (res.destroyed) return;
      let n = Math.min(CHUNK, body.length - sent);
      if (slow) n = Math.min(n, slow.chunkBytes);
      if (cut !== undefined) n = Math.min(n, cut - sent);
      if (stall && !stalled) n = Math.min(n, stall.afterBytes - sent);
      if (n <= 0) {
        if (cut !== undefined && sent >= cut) {
          res.socket?.destroy(); // cut mid-body: the client sees a short read
          return;
        }
        if (stall && !stalled) {
          stalled = true;
          await waitForUnstall(res);
          continue;
        }
      }
      const ok = res.write(body.subarray(sent, sent + n));
      sent += n;
      record.bytesSent = sent;
      if (sent === body.length) ended(); // the client may start its next request as soon as it has every byte
      if (!ok) await drained(res);
      if (slow && sent < body.length) await new Promise((r) => setTimeout(r, slow.delayMs));
    }
    if (cut !== undefined && sent >= cut && cut < body.length) {
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  function fileHeaders(repo: FakeRepo, file: FakeHubFile): Record<string, string | number> {
    return file.sha256
      ? { 'x-repo-commit': repo.commit, etag: `"${file.sha256}"`, 'x-linked-etag': `"${file.sha256}"`, 'x-linked-size': file.size }
      : { 'x-repo-commit': repo.commit, etag: `"${file.oid}"` };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const record: FakeHubRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      kind: 'other',
      repo: null,
      file: null,
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      status: 0,
      bytesSent: 0,
    };
    requests.push(record);
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    // Classify first, so failNext can target a kind of request.
    let rev = '';
    let filePath = '';
    if (segments[0] === 'api' && segments[1] === 'models' && (segments[4] === 'revision' || segments[4] === 'tree')) {
      record.kind = segments[4] as FakeRequestKind;
      record.repo = `${segments[2]}/${segments[3]}`;
      rev = segments.slice(5).join('/');
    } else if (segments[2] === 'resolve') {
      record.kind = 'resolve';
      record.repo = `${segments[0]}/${segments[1]}`;
      rev = segments[3] ?? '';
      filePath = segments.slice(4).join('/');
      record.file = filePath;
    } else if (segments[0] === 'cdn') {
      record.kind = 'cdn';
      const blob = blobs.get(segments[1] ?? '');
      record.file = blob?.file.path ?? null;
      record.repo = blob?.repo.repo ?? null;
    }
    if (failures && failures.count > 0 && (failures.kind === undefined || failures.kind === record.kind)) {
      failures.count--;
      json(res, record, failures.status, { error: 'fake failure' }, failures.retryAfter !== undefined ? { 'retry-after': failures.retryAfter } : {});
      return;
    }
    if (token !== null && record.kind !== 'cdn' && req.headers.authorization !== `Bearer ${token}`) {
      json(res, record, 401, { error: 'Invalid credentials in Authorization header' });
      return;
    }
    if (record.kind === 'other') {
      json(res, record, 404, { error: 'Not found' });
      return;
    }
    if (record.kind === 'cdn') {
      const blob = blobs.get(segments[1] ?? '');
      if (!blob) return json(res, record, 404, { error: 'blob not found' });
      await sendContent(req, res, record, blob.repo, blob.file, fileHeaders(blob.repo, blob.file));
      return;
    }
    const repo = repos.get(record.repo!);
    if (!repo) return json(res, record, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (!resolveRevision(repo, rev)) return json(res, record, 404, { error: `Invalid rev id: ${rev}` }, { 'x-error-code': 'RevisionNotFound' });
    if (record.kind === 'revision') {
      return json(res, record, 200, { id: repo.repo, sha: repo.commit, siblings: repo.files.map((f) => ({ rfilename: f.path })) });
    }
    if (record.kind === 'tree') {
      const entries = treeEntries(repo, url.searchParams.get('recursive') === 'true');
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = {};
      if (cursor + pageSize < entries.length) {
        headers.link = `<${baseUrl}/api/models/${repo.repo}/tree/${encodeURIComponent(rev)}?recursive=true&cursor=${cursor + pageSize}>; rel="next"`;
      }
      return json(res, record, 200, page, headers);
    }
    const file = repo.files.find((f) => f.path === filePath);
    if (!file) return json(res, record, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': repo.commit });
    if (file.sha256 && redirectLfs) {
      record.status = 302;
      res.writeHead(302, { ...fileHeaders(repo, file), location: `${baseUrl}/cdn/${file.sha256}`, 'content-length': 0 }).end();
      return;
    }
    await sendContent(req, res, record, repo, file, fileHeaders(repo, file));
  }

  function treeEntries(repo: FakeRepo, recursive: boolean): unknown[] {
    const out: unknown[] = [];
    const dirs = new Set<string>();
    for (const f of repo.files) {
      const parts = f.path.split('/');
      if (!recursive && parts.length > 1) {
        if (!dirs.has(parts[0])) out.push({ type: 'directory', path: parts[0], oid: '0'.repeat(40), size: 0 });
        dirs.add(parts[0]);
        continue;
      }
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!dirs.has(dir)) out.push({ type: 'directory', path: dir, oid: '0'.repeat(40), size: 0 });
        dirs.add(dir);
      }
      out.push(
        f.sha256
          ? { type: 'file', path: f.path, size: f.size, oid: f.oid, lfs: { oid: f.sha256, size: f.size, pointerSize: lfsPointer(f.sha256, f.size).length } }
          : { type: 'file', path: f.path, size: f.size, oid: f.oid },
      );
    }
    return out;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    fileRequests: (file) => requests.filter((r) => (r.kind === 'cdn' || (r.kind === 'resolve' && r.status !== 302)) && r.file !== null && (file === undefined || r.file === file)),
    repo(id) {
      const repo = repos.get(id);
      if (!repo) throw new Error(`the fake hub serves no repo ${id}`);
      return repo;
    },
    requireToken: (value) => void (token = value),
    cutAfter: (file, bytes) => void cuts.set(file, bytes),
    corrupt: (file, mode = 'once') => void corruptions.set(file, mode),
    stall: (file, afterBytes, opts = {}) => void stalls.push({ file, afterBytes, once: opts.once ?? false }),
    unstall() {
      stalls = [];
      for (const release of releaseStalls) release();
      releaseStalls = [];
    },
    slow: (file, chunkBytes, delayMs) => void slowness.push({ file, chunkBytes, delayMs }),
    failNext(count, opts = {}) {
      failures = { count, status: opts.status ?? 503, retryAfter: opts.retryAfter, kind: opts.kind };
    },
    rangeMode: (mode) => void (rangeMode = mode),
    peakTransfers: () => peakTransfers,
    clearRequests: () => void requests.splice(0),
    reset() {
      token = options.token ?? null;
      cuts.clear();
      corruptions.clear();
      slowness = [];
      failures = null;
      rangeMode = null;
      peakTransfers = activeTransfers;
      stalls = [];
      for (const release of releaseStalls) release();
      releaseStalls = [];
      requests.splice(0);
    },
    async close() {
      stalls = [];
      slowness = [];
      for (const release of releaseStalls) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The API the brief names: `start({ repos })`. */
export const start = startFakeHub;

/**
 * Writes `folder` into a Hugging Face cache at `cacheDir` the way huggingface_hub does:
 * blobs/{etag} (sha256 for *.safetensors, git sha1 otherwise), snapshots/{commit}/{path} as
 * relative symlinks into blobs/, refs/{revision} holding the commit (the fake hub's commit for
 * this repo and folder, so online and offline pulls agree).
 */
export async function layoutHfCache(cacheDir: string, repo: string, folder: string, options: { revision?: string; files?: string[] } = {}): Promise<{ repoDir: string; commit: string; snapshotDir: string }> {
  const described = await describeRepo(repo, folder);
  const repoDir = path.join(cacheDir, `models--${repo.split('/').join('--')}`);
  const snapshotDir = path.join(repoDir, 'snapshots', described.commit);
  await mkdir(path.join(repoDir, 'blobs'), { recursive: true });
  for (const file of described.files) {
    if (options.files && !options.files.includes(file.path)) continue;
    const etag = file.sha256 ?? file.oid;
    await writeFile(path.join(repoDir, 'blobs', etag), file.content);
    const link = path.join(snapshotDir, ...file.path.split('/'));
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.relative(path.dirname(link), path.join(repoDir, 'blobs', etag)), link);
  }
  const ref = path.join(repoDir, 'refs', ...(options.revision ?? 'main').split('/'));
  await mkdir(path.dirname(ref), { recursive: true });
  await writeFile(ref, described.commit); // huggingface_hub writes the sha without a newline
  return { repoDir, commit: described.commit, snapshotDir };
}

export interface ForwardProxy {
  url: string;
  /** Absolute URLs of the requests it forwarded (and `CONNECT host:port` for tunnels). */
  requests: string[];
  close(): Promise<void>;
}

/** A minimal forward HTTP proxy: absolute-URI requests are forwarded; CONNECT is tunnelled. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
