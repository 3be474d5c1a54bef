// Downloads one file into `<file>.part`, resuming with `Range: bytes=N-` when a .part is already
// there, hashing bytes as they arrive, and renames it onto `<file>` only once size and hash match.
// On resume the .part's existing bytes are re-hashed from disk once (a hash state cannot be saved
// across processes; local reads are far cheaper than the network). A file that fails verification
// is deleted and fetched whole once more; a second failure is a 'corrupt' error, and the corrupt
// bytes are deleted, never renamed into place.
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HubError, diskFullError, isDiskFullError, type RequestSubject } from '../common/hub-errors.ts';
import { expectOk, networkError, type HubHttp, type Response } from './hub-http.ts';
import { compareContent, createContentHasher, expectedContent, hashFileInto, type ContentHasher, type ExpectedContent, type VerifyResult } from './file-verify.ts';
import type { HubFileEntry } from './hub-tree.ts';
import { TransientFailure, withRetries, type RetryPolicy } from '../common/retry-policy.ts';

export const PART_SUFFIX = '.part';

export interface FileFetchContext {
  http: HubHttp;
  url: string;
  subject: RequestSubject;
  retry: RetryPolicy;
  signal: AbortSignal;
  /** A connection that delivers no byte for this long is dropped and resumed (counts as a retry). */
  stallTimeoutMs: number;
  /** Bytes added to (or, when a file starts over, taken from) the file's downloaded total. */
  onBytes: (delta: number) => void;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Marker reason for the stall timer's abort, told apart from the caller's cancel. */
class Stalled extends Error {}

/** Where a 206 reply starts, from `Content-Range: bytes START-END/TOTAL`. */
function rangeStart(response: Response): number | null {
  const match = /^bytes\s+(\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : null;
}

interface PartState {
  offset: number;
  hasher: ContentHasher;
}

/** Streams the rest of the file into the .part, resuming and retrying; returns the verification of what it holds. */
async function downloadToPart(expected: ExpectedContent, part: string, ctx: FileFetchContext): Promise<VerifyResult & { size: number }> {
  const state: PartState = { offset: await sizeOf(part), hasher: createContentHasher(expected) };
  const startOver = async () => {
    await writeFile(part, '');
    // (A leftover .part longer than the file was counted as at most the file's size.)
    ctx.onBytes(-Math.min(state.offset, expected.size));
    state.offset = 0;
    state.hasher = createContentHasher(expected);
  };
  if (state.offset > expected.size) await startOver();
  else if (state.offset > 0) await hashFileInto(state.hasher, part, { bytes: state.offset, signal: ctx.signal });

  try {
    await withRetries(ctx.retry, ctx.signal, async (_attempt, madeProgress) => {
      if (state.offset === expected.size) return;
      const stall = new AbortController();
      const signal = AbortSignal.any([ctx.signal, stall.signal]);
      let timer = setTimeout(() => stall.abort(new Stalled()), ctx.stallTimeoutMs);
      const kick = () => {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(new Stalled()), ctx.stallTimeoutMs);
      };
      try {
        const response = await ctx.http.get(ctx.url, { signal, headers: state.offset > 0 ? { range: `bytes=${state.offset}-` } : {} });
        if (response.status === 416) {
          await response.body?.cancel().catch(() => undefined);
          await startOver();
          throw new TransientFailure('the server refused the resume range (416); fetching the whole file', 0);
        }
        await expectOk(response, ctx.subject);
        if (response.status === 206 && rangeStart(response) !== state.offset) {
          await response.body?.cancel().catch(() => undefined);
          await startOver();
          throw new TransientFailure('the server sent another byte range than asked for; fetching the whole file', 0);
        }
        // A 200 to a range request carries the whole file: drop what we had and take it from the start.
        if (response.status !== 206 && state.offset > 0) await startOver();
        await streamBody(response, part, state, expected, ctx, kick, madeProgress, signal);
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (stall.signal.aborted) throw new TransientFailure(`no data arrived for ${Math.round(ctx.stallTimeoutMs / 1000)} s`, 0, { cause: error });
        throw error;
      } finally {
        clearTimeout(timer);
      }
    });
  } catch (error) {
    if (error instanceof TransientFailure) throw networkError(error, ctx.subject);
    throw error;
  }
  return { ...compareContent(expected, state.offset, state.hasher.digest()), size: state.offset };
}

async function streamBody(
  response: Response,
  part: string,
  state: PartState,
  expected: ExpectedContent,
  ctx: FileFetchContext,
  kick: () => void,
  madeProgress: () => void,
  signal: AbortSignal,
): Promise<void> {
  if (response.body === null) throw new TransientFailure('the server sent no body');
  const reader = response.body.getReader();
  const handle = await open(part, 'a');
  try {
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array };
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal.aborted) throw error; // the caller tells cancel from stall
        throw new TransientFailure('the connection broke mid-file', null, { cause: error });
      }
      if (chunk.done) break;
      kick();
      const bytes = chunk.value!;
      try {
        await handle.write(bytes);
      } catch (error) {
        if (isDiskFullError(error)) throw diskFullError(path.dirname(part), error);
        throw error;
      }
      state.hasher.update(bytes);
      state.offset += bytes.length;
      ctx.onBytes(bytes.length);
      madeProgress();
      // More bytes than the listing promised: not the file we want; verification will fail it.
      if (state.offset > expected.size) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  } finally {
    try {
      reader.releaseLock();
    } catch {
      // a read still pending after an abort; the stream is being torn down anyway
    }
    await handle.close();
  }
  if (state.offset < expected.size) throw new TransientFailure(`the connection closed after ${state.offset} of ${expected.size} bytes`);
}

/** Downloads `entry` to `finalPath` (via `finalPath.part`), verified; see the file comment for the corrupt-file rule. */
export async function fetchVerifiedFile(entry: HubFileEntry, finalPath: string, ctx: FileFetchContext): Promise<void> {
  const expected = expectedContent(entry);
  const part = finalPath + PART_SUFFIX;
  for (let round = 1; ; round++) {
    const result = await downloadToPart(expected, part, ctx);
    if (result.ok) {
      await rename(part, finalPath);
      return;
    }
    await rm(part, { force: true });
    ctx.onBytes(-result.size);
    if (round === 2) {
      throw new HubError(
        'corrupt',
        `${entry.path} of ${ctx.subject.repo} arrived corrupt twice (${result.reason}) and was deleted. Retry later; if it keeps happening, something between you and ${new URL(ctx.subject.endpoint).host} (a proxy, antivirus, a mirror) alters downloads.`,
      );
    }
  }
}
