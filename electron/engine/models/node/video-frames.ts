// Decodes chosen frames of a video by frame *number* with one ffmpeg process (design spec §3.1).
// decord's `get_batch(idx)` addresses frames by their position in presentation order, not by
// timestamp, so we do the same: ffmpeg's `select` filter keeps frames whose decode-output counter
// `n` is wanted, and passthrough frame timing stops ffmpeg from duplicating or dropping frames to
// fit a constant rate (which would shift numbers in variable-frame-rate files). ffmpeg rotates
// frames upright by default (autorotate), as decord does for 90/180/270° display matrices.
// Frames stream out one at a time (rgb24 raw on stdout), so memory stays at one raw frame plus
// whatever the consumer keeps.
import { spawn } from 'node:child_process';
import { locateFfmpeg, type FfmpegTools } from './ffmpeg-locate.ts';
import { VideoReadError, type VideoProbe } from './video-probe.ts';
import type { RgbImage } from '../common/vision-types.ts';

export interface DecodeFramesOptions {
  readonly signal?: AbortSignal;
  /** Whole-file limit; default 10 minutes. */
  readonly timeoutMs?: number;
}

export interface DecodedFrame {
  /** Frame number (decode order) this image is. */
  readonly index: number;
  readonly image: RgbImage;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** `-fps_mode` exists from ffmpeg 5.1; older builds spell it `-vsync`. */
function passthroughTiming(tools: FfmpegTools): string[] {
  const v = tools.version;
  const modern = v === null || v[0] > 5 || (v[0] === 5 && v[1] >= 1);
  return modern ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
}

/** `select` expression keeping exactly these frame numbers (commas escaped for the filtergraph). */
export function selectFilterFor(indices: readonly number[]): string {
  return 'select=' + indices.map((i) => `eq(n\\,${i})`).join('+');
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('Video decoding was aborted.'), { name: 'AbortError' });
}

/**
 * Yields the frames with the given numbers, in ascending order, each once (duplicates in
 * `indices` are merged). If the decoder produces fewer frames than the probe counted (a damaged
 * tail), the missing trailing frames repeat the last decoded one, like decord's cached-frame
 * fallback; `substituted` in the final result says how many.
 */
export async function* decodeFramesByNumber(
  file: string,
  probe: VideoProbe,
  indices: readonly number[],
  options: DecodeFramesOptions = {},
): AsyncGenerator<DecodedFrame, { substituted: number }, undefined> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  if (wanted.length === 0) return { substituted: 0 };
  if (wanted[0] < 0 || wanted[wanted.length - 1] >= probe.totalFrames || !wanted.every(Number.isInteger)) {
    throw new RangeError(`Frame numbers must be integers in [0, ${probe.totalFrames - 1}], got ${wanted[0]}…${wanted[wanted.length - 1]}.`);
  }
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  const tools = await locateFfmpeg();
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error',
    '-i', file,
    '-map', `0:${probe.streamIndex}`,
    '-an', '-sn', '-dn',
    '-vf', selectFilterFor(wanted),
    ...passthroughTiming(tools),
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
  const child = spawn(tools.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => {}); // observed below; avoid an unhandled rejection while we stream
  let failure: Error | null = null;
  const kill = (why: Error): void => {
    failure ??= why;
    child.kill('SIGKILL');
  };
  const onAbort = (): void => kill(abortError(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(
    () => kill(new VideoReadError(`Decoding '${file}' took longer than ${Math.round(timeoutMs / 1000)} s and was stopped; the file may be damaged or very long.`)),
    timeoutMs,
  );

  const frameBytes = probe.width * probe.height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let produced = 0;
  let last: RgbImage | null = null;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          if (produced >= wanted.length) throw new VideoReadError(`ffmpeg returned more frames than requested from '${file}'; this is a bug, please report it.`);
          last = { width: probe.width, height: probe.height, data: frame };
          yield { index: wanted[produced++], image: last };
          frame = new Uint8Array(frameBytes);
          filled = 0;
          if (produced === wanted.length) child.kill('SIGKILL'); // nothing more needed: stop decoding the tail
        }
      }
    }
    const code = await exited;
    if (failure) throw failure;
    if (produced < wanted.length) {
      if (code !== 0 && code !== null && produced === 0) {
        throw new VideoReadError(`ffmpeg could not decode '${file}': ${stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`}. The file is damaged or truncated; re-export or re-download it.`);
      }
      if (last === null) {
        throw new VideoReadError(`No frame of '${file}' could be decoded; the file is damaged or truncated. Re-export or re-download it.`);
      }
      const substituted = wanted.length - produced;
      while (produced < wanted.length) yield { index: wanted[produced++], image: last };
      return { substituted };
    }
    return { substituted: 0 };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
