// Decodes chosen frames of a video by frame *number* (docs/qwen3-vl-model.md#video-sampling). decord's `get_batch(idx)`
// addresses frames by their position in presentation order, not by timestamp, so we do the same.
//
// Two ways to get frame i, which give the same bytes:
//  - from the start: one ffmpeg decodes from frame 0 and the `select` filter keeps the frames whose
//    decode-output counter `n` is wanted (the reference way; cost grows with the frame number);
//  - by seeking: frame i is the packet with the i-th smallest pts (video-probe.ts `packets`), so an
//    ffmpeg started at the keyframe before the first wanted frame (input `-ss` on the absolute
//    timestamp, `-copyts` so frames keep their pts) keeps the frames whose *pts* is wanted. A
//    keyframe is where a decoder may start, so the frames after it decode to the same pixels, and
//    rotation and the RGB conversion are per frame. `showinfo` reports every decoded frame's pts
//    and a frame is handed out only once the decoded frames are proven to be a gap-free run of the
//    packet order that begins at a keyframe no later than the planned one; anything else (a seek
//    that landed late, a frame missing or out of place) stops the seek and decodes the rest from
//    the start, as before. Files whose packet index already shows seeking unsafe never seek.
// Passthrough frame timing stops ffmpeg from duplicating or dropping frames to fit a constant rate
// (which would shift numbers in variable-frame-rate files). ffmpeg rotates frames upright by
// default (autorotate), as decord does for 90/180/270° display matrices. Frames stream out one at a
// time (rgb24 raw on stdout), so memory stays at one raw frame plus whatever the consumer keeps.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { locateFfmpeg, type FfmpegTools } from './ffmpeg-locate.ts';
import { VideoReadError, type VideoPacketIndex, type VideoProbe } from './video-probe.ts';
import type { RgbImage } from '../common/vision-types.ts';

/** One ffmpeg run of a decode, reported when it ends (for tests and benchmarks). */
export interface DecodeRunReport {
  /** `start`: decoded from frame 0; `seek`: started at a keyframe. */
  readonly mode: 'start' | 'seek';
  readonly args: readonly string[];
  /** Frame numbers this run was asked for. */
  readonly frames: readonly number[];
  /** Seek runs: the keyframe (frame number) the run was planned to start at. */
  readonly keyframe?: number;
  /** Seek runs: frame numbers decoded, in order (starting where the seek landed). */
  readonly decoded?: readonly number[];
  /** Why a seek run was abandoned (its frames then come from a decode from the start). */
  readonly abandoned?: string;
}

/** How frames are decoded; the frames are the same whatever these say. */
export interface DecodeTuning {
  /** `false` decodes from frame 0 even where seeking is possible (the reference path; tests, bench). */
  readonly seek?: boolean;
  /** Frames a new seek must skip to be used; default `minSeekSkip(probe)`. */
  readonly minSeekSkip?: number;
  /** Called after each ffmpeg run with what it did (tests, benchmarks). */
  readonly onRun?: (run: DecodeRunReport) => void;
}

export interface DecodeFramesOptions extends DecodeTuning {
  readonly signal?: AbortSignal;
  /** Whole-call limit; default 10 minutes. */
  readonly timeoutMs?: number;
}

export interface DecodedFrame {
  /** Frame number (decode order) this image is. */
  readonly index: number;
  readonly image: RgbImage;
}

export interface DecodeResult {
  /** Trailing frames repeated because the tail did not decode. */
  readonly substituted: number;
  /** Why no frame was decoded by seeking (null when seeking was used or not needed). */
  readonly seekSkipped: string | null;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/**
 * A new seek pays a fresh ffmpeg start (process, container header, decoder setup): ≈ 0.17 s on a
 * busy 2-core machine, the time it takes to decode 30–120 M pixel·frames (decoding costs 1.4–6 ns
 * per pixel, from x264 ultrafast 720p to veryfast 320×180; bench/preprocess-video.ts). So a seek
 * must skip at least 2 s of video and 96 M pixel·frames (1,667 frames at 320×180, 105 at 720p, 47
 * at 1080p), where it wins clearly rather than within the noise; closer frames continue the run.
 */
const MIN_SKIP_SECONDS = 2;
const RESTART_COST_PIXEL_FRAMES = 96e6;

/** Frames a new seek must skip to pay for itself (see RESTART_COST_PIXEL_FRAMES). */
export function minSeekSkip(probe: Pick<VideoProbe, 'fps' | 'codedWidth' | 'codedHeight'>): number {
  return Math.max(1, Math.ceil(probe.fps * MIN_SKIP_SECONDS), Math.ceil(RESTART_COST_PIXEL_FRAMES / Math.max(1, probe.codedWidth * probe.codedHeight)));
}

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

/** `select` expression keeping the frames with exactly these pts (stream time base, integers). */
export function selectPtsFilterFor(pts: readonly number[]): string {
  return 'select=' + pts.map((p) => `eq(pts\\,${p})`).join('+');
}

/**
 * `pts` (time base num/den) in seconds for `-ss`, rounded down to the microsecond ffmpeg parses,
 * so that ffmpeg's rescale back to the time base lands on this pts, not after it.
 */
export function seekTimeFor(pts: number, timeBase: readonly [number, number]): string {
  const scaled = BigInt(pts) * BigInt(timeBase[0]) * 1_000_000n;
  const den = BigInt(timeBase[1]);
  let us = scaled / den;
  if (scaled < 0n && us * den !== scaled) us -= 1n; // floor, not truncation, below zero
  const sign = us < 0n ? '-' : '';
  const abs = us < 0n ? -us : us;
  return `${sign}${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, '0')}`;
}

/** Frames decoded in one ffmpeg run: `keyframe` 0 = from the start (no seek). */
export interface DecodePlanRun {
  readonly keyframe: number;
  readonly frames: number[];
}

/**
 * Splits sorted frame numbers into runs: a frame starts a new (seeking) run when a keyframe lies
 * after the previous wanted frame and seeking there skips at least `minSkip` frames; otherwise it
 * is decoded by the run before it. A first run whose keyframe is near the start just starts at 0.
 */
export function planDecodeRuns(index: VideoPacketIndex, wanted: readonly number[], minSkip: number): DecodePlanRun[] {
  const keyframes: number[] = [];
  index.keyframe.forEach((k, i) => {
    if (k) keyframes.push(i);
  });
  const keyframeAtOrBefore = (frame: number): number => {
    let lo = 0;
    let hi = keyframes.length - 1; // keyframes[0] === 0 (buildPacketIndex guarantees it)
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (keyframes[mid] <= frame) lo = mid;
      else hi = mid - 1;
    }
    return keyframes[lo];
  };
  const runs: DecodePlanRun[] = [];
  for (const frame of wanted) {
    const key = keyframeAtOrBefore(frame);
    const current = runs.at(-1);
    const decodedUpTo = current ? current.frames[current.frames.length - 1] : 0;
    if (key - decodedUpTo >= minSkip) runs.push({ keyframe: key, frames: [frame] });
    else if (current) current.frames.push(frame);
    else runs.push({ keyframe: 0, frames: [frame] });
  }
  return runs;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('Video decoding was aborted.'), { name: 'AbortError' });
}

/** A seek run that cannot prove its frames equal the decode from the start; caught, never shown. */
class SeekUnproven extends Error {
  constructor(
    message: string,
    readonly decoded: readonly number[],
  ) {
    super(message);
  }
}

/** What every run of one call shares. */
interface DecodeContext {
  readonly file: string;
  readonly probe: VideoProbe;
  readonly tools: FfmpegTools;
  readonly signal?: AbortSignal;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly onRun?: (run: DecodeRunReport) => void;
}

/** One ffmpeg child with its kill switch, timeout and abort wiring. */
function startFfmpeg(ctx: DecodeContext, args: string[]): {
  child: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<number | null>;
  kill: (why: Error) => void;
  failure: () => Error | null;
  dispose: () => void;
} {
  const child = spawn(ctx.tools.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => {}); // observed by the caller; avoid an unhandled rejection while we stream
  let failure: Error | null = null;
  const kill = (why: Error): void => {
    failure ??= why;
    child.kill('SIGKILL');
  };
  const onAbort = (): void => kill(abortError(ctx.signal!));
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => kill(new VideoReadError(`Decoding '${ctx.file}' took longer than ${Math.round(ctx.timeoutMs / 1000)} s and was stopped; the file may be damaged or very long.`)),
    Math.max(0, ctx.deadline - Date.now()),
  );
  return {
    child,
    exited,
    kill,
    failure: () => failure,
    dispose: () => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Cuts a raw rgb24 stream into frames of `bytes` each. */
async function* rawFrames(stdout: Readable, bytes: number): AsyncGenerator<Uint8Array> {
  let frame = new Uint8Array(bytes);
  let filled = 0;
  for await (const chunk of stdout as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(bytes - filled, chunk.length - offset);
      frame.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === bytes) {
        yield frame;
        frame = new Uint8Array(bytes);
        filled = 0;
      }
    }
  }
}

/**
 * The reference path: decode from frame 0, keep frames by decode-output number. If the decoder
 * produces fewer frames than the probe counted (a damaged tail), the missing trailing frames repeat
 * the last decoded one, like decord's cached-frame fallback.
 */
async function* decodeFromStart(ctx: DecodeContext, wanted: readonly number[], previous: RgbImage | null): AsyncGenerator<DecodedFrame, number, undefined> {
  const { file, probe } = ctx;
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error',
    '-i', file,
    '-map', `0:${probe.streamIndex}`,
    '-an', '-sn', '-dn',
    '-vf', selectFilterFor(wanted),
    ...passthroughTiming(ctx.tools),
    '-frames:v', String(wanted.length), // ffmpeg stops by itself after the last wanted frame
    // Each frame leaves at once: without this the tail of a frame waits in the output buffer for
    // the next wanted frame, so a run stopped early (when seeking takes over) would decode to it.
    '-flush_packets', '1',
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
  const run = startFfmpeg(ctx, args);
  let stderr = '';
  run.child.stderr.setEncoding('utf8');
  run.child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  let produced = 0;
  // `previous`: the last frame a seek run of this call yielded, i.e. what a single decode from
  // frame 0 would have decoded last if this run finds none of its frames.
  let last: RgbImage | null = previous;
  try {
    for await (const data of rawFrames(run.child.stdout, probe.width * probe.height * 3)) {
      if (produced >= wanted.length) throw new VideoReadError(`ffmpeg returned more frames than requested from '${file}'; this is a bug, please report it.`);
      last = { width: probe.width, height: probe.height, data };
      yield { index: wanted[produced++], image: last };
      if (produced === wanted.length) run.child.kill('SIGKILL'); // nothing more needed: stop decoding the tail
    }
    const code = await run.exited;
    const failure = run.failure();
    if (failure) throw failure;
    if (produced < wanted.length) {
      if (code !== 0 && code !== null && last === null) {
        throw new VideoReadError(`ffmpeg could not decode '${file}': ${stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`}. The file is damaged or truncated; re-export or re-download it.`);
      }
      if (last === null) {
        throw new VideoReadError(`No frame of '${file}' could be decoded; the file is damaged or truncated. Re-export or re-download it.`);
      }
      const substituted = wanted.length - produced;
      while (produced < wanted.length) yield { index: wanted[produced++], image: last };
      return substituted;
    }
    return 0;
  } finally {
    run.dispose();
    ctx.onRun?.({ mode: 'start', args, frames: wanted });
  }
}

/** Frame number of `pts` in the sorted pts list, or −1. */
function frameOfPts(pts: Float64Array, value: number): number {
  let lo = 0;
  let hi = pts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid] === value) return mid;
    if (pts[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const SHOWINFO_PTS = /\[Parsed_showinfo_\d+ @ [^\]]*\] n:\s*\d+ pts:\s*(\S+)/;

/**
 * One seek run: ffmpeg starts at `run.keyframe` and yields `run.frames`, each only after the
 * decoded frames up to it are proven to be the packet order from a keyframe at or before the
 * planned one. Throws `SeekUnproven` (nothing wrong with the file necessarily) when that fails.
 */
async function* decodeBySeeking(ctx: DecodeContext, index: VideoPacketIndex, run: DecodePlanRun): AsyncGenerator<DecodedFrame, void, undefined> {
  const { file, probe } = ctx;
  const v = ctx.tools.version;
  // showinfo's per-frame checksum costs a pass over every decoded frame; off where the option exists (5.0+).
  const showinfo = v === null || v[0] >= 5 ? 'showinfo=checksum=0' : 'showinfo';
  const args = [
    '-hide_banner', '-nostdin', '-nostats', '-v', 'info',
    // -seek_timestamp: -ss is the stream's own timestamp, not an offset from the file's start time
    // (so files whose first pts is not 0 seek right); -noaccurate_seek: no trim, every frame from
    // the keyframe reaches the filters; -copyts: frames keep the pts the packet index lists.
    '-seek_timestamp', '1', '-ss', seekTimeFor(index.pts[run.keyframe], index.timeBase), '-noaccurate_seek', '-copyts',
    '-i', file,
    '-map', `0:${probe.streamIndex}`,
    '-an', '-sn', '-dn',
    '-vf', `${showinfo},${selectPtsFilterFor(run.frames.map((f) => index.pts[f]))}`,
    ...passthroughTiming(ctx.tools),
    '-frames:v', String(run.frames.length),
    '-flush_packets', '1',
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
  const proc = startFfmpeg(ctx, args);
  const wantedSet = new Set(run.frames);
  const decoded: number[] = [];
  let next = -1; // frame number the next decoded frame must be; −1 until the first keyframe
  let confirmed = 0; // wanted frames proven so far (they leave ffmpeg in this order)
  let unproven: string | null = null;
  let stderrDone = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (why: string): void => {
    unproven ??= why;
    proc.child.kill('SIGKILL');
  };
  const onDecoded = (ptsText: string): void => {
    const frame = ptsText === 'NOPTS' ? -1 : frameOfPts(index.pts, Number(ptsText));
    decoded.push(frame);
    if (next < 0) {
      // Frames before the first keyframe (open-GOP leading frames) may lack references: ignored,
      // unless select would pass one on, which would put a wrong frame in the output.
      if (frame >= 0 && index.keyframe[frame]) {
        if (frame > run.keyframe) return fail(`the seek landed at frame ${frame}, after keyframe ${run.keyframe}`);
        next = frame;
      } else {
        if (wantedSet.has(frame)) return fail(`frame ${frame} was decoded before any keyframe`);
        return;
      }
    }
    if (frame !== next) return fail(`frame ${frame < 0 ? `with pts ${ptsText}` : frame} was decoded where frame ${next} belongs`);
    next++;
    if (wantedSet.has(frame)) confirmed++;
  };
  let pending = '';
  proc.child.stderr.setEncoding('utf8');
  proc.child.stderr.on('data', (s: string) => {
    const lines = (pending + s).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const m = SHOWINFO_PTS.exec(line);
      if (m && unproven === null) onDecoded(m[1]);
    }
    notify();
  });
  proc.child.stderr.once('end', () => {
    stderrDone = true;
    notify();
  });
  let produced = 0;
  let complete = false;
  try {
    for await (const data of rawFrames(proc.child.stdout, probe.width * probe.height * 3)) {
      // showinfo logs a frame before select passes it on, but the two pipes are read independently:
      // wait until stderr has vouched for this frame.
      while (confirmed <= produced && unproven === null && !stderrDone && proc.failure() === null) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (proc.failure()) break;
      if (unproven !== null) break;
      if (confirmed <= produced) {
        fail('ffmpeg output a frame that its log does not account for');
        break;
      }
      if (produced >= run.frames.length) {
        fail('ffmpeg returned more frames than requested');
        break;
      }
      yield { index: run.frames[produced++], image: { width: probe.width, height: probe.height, data } };
      if (produced === run.frames.length) {
        complete = true;
        proc.child.kill('SIGKILL'); // nothing more needed: stop decoding
        return;
      }
    }
    await proc.exited.catch(() => {});
    const failure = proc.failure();
    if (failure) throw failure;
    unproven ??= `ffmpeg stopped after ${produced} of ${run.frames.length} frames`;
    throw new SeekUnproven(unproven, decoded);
  } finally {
    proc.dispose();
    ctx.onRun?.({ mode: 'seek', args, frames: run.frames, keyframe: run.keyframe, decoded: decoded.slice(), ...(complete || unproven === null ? {} : { abandoned: unproven }) });
  }
}

/**
 * Yields the frames with the given numbers, in ascending order, each once (duplicates in
 * `indices` are merged). Seeks to the keyframe before each group of frames when the probe's packet
 * index allows (see the top of this file); the frames are the same bytes either way. If the
 * decoder produces fewer frames than the probe counted (a damaged tail), the missing trailing
 * frames repeat the last decoded one, like decord's cached-frame fallback; `substituted` in the
 * final result says how many.
 */
export async function* decodeFramesByNumber(
  file: string,
  probe: VideoProbe,
  indices: readonly number[],
  options: DecodeFramesOptions = {},
): AsyncGenerator<DecodedFrame, DecodeResult, undefined> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  if (wanted.length === 0) return { substituted: 0, seekSkipped: null };
  if (wanted[0] < 0 || wanted[wanted.length - 1] >= probe.totalFrames || !wanted.every(Number.isInteger)) {
    throw new RangeError(`Frame numbers must be integers in [0, ${probe.totalFrames - 1}], got ${wanted[0]}…${wanted[wanted.length - 1]}.`);
  }
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  const tools = await locateFfmpeg();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ctx: DecodeContext = { file, probe, tools, signal, deadline: Date.now() + timeoutMs, timeoutMs, onRun: options.onRun };

  const index = probe.packets;
  const skipped = options.seek === false ? 'seeking turned off' : !index ? 'no packet index' : index.unseekable;
  if (skipped !== null || !index) {
    const substituted = yield* decodeFromStart(ctx, wanted, null);
    return { substituted, seekSkipped: skipped };
  }
  const runs = planDecodeRuns(index, wanted, Math.max(1, options.minSeekSkip ?? minSeekSkip(probe)));
  let done = 0; // wanted[0..done) have been yielded
  let last: RgbImage | null = null; // the last of them
  for (const run of runs) {
    if (run.keyframe === 0) {
      // From the start: the reference decode of everything still wanted, stopped (killed) once this
      // run's frames are out. If it ends early it has already repeated the last frame for the rest.
      const inner = decodeFromStart(ctx, wanted.slice(done), last);
      let taken = 0;
      try {
        while (taken < run.frames.length) {
          const step = await inner.next();
          if (step.done) return { substituted: step.value, seekSkipped: null };
          done++;
          taken++;
          last = step.value.image;
          yield step.value;
        }
      } finally {
        await inner.return(0);
      }
      if (signal?.aborted) throw abortError(signal); // an abort while the last frames were in flight still counts
      continue;
    }
    const inner = decodeBySeeking(ctx, index, run);
    let unproven: SeekUnproven | null = null;
    try {
      for (;;) {
        let step: IteratorResult<DecodedFrame, void>;
        try {
          step = await inner.next();
        } catch (error) {
          if (!(error instanceof SeekUnproven)) throw error;
          unproven = error;
          break;
        }
        if (step.done) break;
        done++;
        last = step.value.image;
        yield step.value;
      }
    } finally {
      await inner.return();
    }
    if (unproven) {
      // The seek could not be shown to match (e.g. the container's index made ffmpeg land after the
      // keyframe, or the tail is damaged): decode the rest from frame 0 exactly as without seeking.
      const substituted = yield* decodeFromStart(ctx, wanted.slice(done), last);
      return { substituted, seekSkipped: null };
    }
    if (signal?.aborted) throw abortError(signal);
  }
  return { substituted: 0, seekSkipped: null };
}
