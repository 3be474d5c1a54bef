// Reads what the sampler needs from a video file with ffprobe, counted the way decord 0.6.0
// (the reference decoder) counts (docs/qwen3-vl-model.md#video-sampling):
//  - frame count = number of *packets* of the video stream. decord's `len(vr)` is the size of
//    the packet index it builds at open (`IndexKeyframes`), not the container's nb_frames and not
//    a count of decoded frames; `ffprobe -count_packets` reads the same packets (demux only, no decoding).
//  - average fps = the stream's avg_frame_rate (decord `get_avg_fps`).
//  - rotation: decord turns frames upright for 90/180/270° display matrices (transpose filters), as
//    the ffmpeg CLI's autorotate does; `width`/`height` here are the upright frame size.
//  - packet index: the same ffprobe pass lists every packet's pts and keyframe flag, so a decode
//    can seek to the keyframe before a moment instead of decoding from frame 0 (video-frames.ts).
//    Frame i is the packet with the i-th smallest pts (decord's frame order too).
import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { locateFfmpeg } from './ffmpeg-locate.ts';

export interface VideoProbe {
  /** Frames as decord counts them (video packets). */
  readonly totalFrames: number;
  /** Average frame rate (avg_frame_rate num/den, as a double). */
  readonly fps: number;
  /** Seconds, from the stream (or the container when the stream has none); NaN if unknown. */
  readonly durationSeconds: number;
  /** Size of decoded frames after the upright rotation. */
  readonly width: number;
  readonly height: number;
  /** Size as stored in the stream, before rotation. */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Clockwise degrees applied to show the video upright (0, 90, 180, 270 or other display-matrix values). */
  readonly rotation: number;
  readonly codec: string;
  /** The container's own frame count (0 when absent); may differ from `totalFrames`. */
  readonly containerFrameCount: number;
  /** Index of the chosen stream in the file (for `-map 0:<index>`). */
  readonly streamIndex: number;
  /** Packet timestamps for seeking; absent on hand-made probes (those always decode from frame 0). */
  readonly packets?: VideoPacketIndex;
}

/**
 * Where each frame number sits on the stream's timeline. Frame i (decode-output order, as the
 * full decode counts with `select=eq(n,i)`) is the packet with the i-th smallest pts, provided
 * every packet becomes exactly one frame in pts order; `unseekable` says why a file does not
 * meet the conditions we can check up front (then decoding always starts at frame 0).
 */
export interface VideoPacketIndex {
  /** Stream time base as [num, den]; pts × num / den = seconds. */
  readonly timeBase: readonly [number, number];
  /** pts of frame i, ascending (length = frames). Empty when `unseekable` is set. */
  readonly pts: Float64Array;
  /** 1 where frame i's packet is a keyframe (a point a decoder can start from). */
  readonly keyframe: Uint8Array;
  /** Null when seeking is safe as far as the index can tell; otherwise the reason. */
  readonly unseekable: string | null;
}

/** A file that is not a readable video; the message says what the user can do. */
export class VideoReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VideoReadError';
  }
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Runs a tool and returns its stdout; rejects with stderr's last lines on failure. */
export function runCapture(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { signal: options.signal, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(String(stdout));
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.name === 'AbortError') return reject(e);
        const detail = String(stderr).trim().split('\n').slice(-3).join(' | ');
        reject(Object.assign(new Error(e.killed ? `timed out after ${options.timeoutMs ?? 60_000} ms` : detail || e.message), { cause: err }));
      },
    );
  });
}

/**
 * Runs a tool and hands each stdout line to `onLine` as it arrives (outputs that would not fit in
 * memory as one string, e.g. a packet list of a long video); rejects like `runCapture`.
 */
export function runLines(file: string, args: readonly string[], onLine: (line: string) => void, options: RunOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, killSignal: 'SIGKILL' });
    let stderr = '';
    let rest = '';
    let timedOut = false;
    let failed: Error | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      try {
        for (const line of lines) onLine(line);
      } catch (error) {
        failed ??= error as Error;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.once('error', (error) => {
      failed ??= error;
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (failed?.name === 'AbortError') return reject(failed);
      if (failed) return reject(Object.assign(new Error(failed.message), { cause: failed }));
      if (timedOut) return reject(new Error(`timed out after ${timeoutMs} ms`));
      if (code !== 0) return reject(new Error(stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`));
      try {
        if (rest) onLine(rest);
      } catch (error) {
        return reject(error as Error);
      }
      resolve();
    });
  });
}

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  return den === undefined ? num : num / den;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  time_base?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

/** decord's `GetRotation`: the `rotate` tag, else minus the display matrix angle; in [0, 360). */
function clockwiseRotation(stream: FfprobeStream): number {
  let theta = 0;
  const tag = stream.tags?.rotate;
  if (tag && tag !== '0') theta = Number.parseFloat(tag);
  const matrix = stream.side_data_list?.find((d) => /display\s*matrix/i.test(d.side_data_type ?? ''));
  if (!theta && matrix && typeof matrix.rotation === 'number') theta = -matrix.rotation;
  theta %= 360;
  if (theta < 0) theta += 360;
  return theta === 0 ? 0 : theta; // no -0
}

/**
 * Codecs whose ffmpeg decoder turns every packet of a well-formed stream into exactly one frame,
 * so packet pts order = decode-output order. Others can hide frames in packets (VP8 alt-ref in some
 * muxers, MPEG-4 part 2 packed B-frames and not-coded VOPs) and always decode from frame 0.
 */
const ONE_FRAME_PER_PACKET = new Set(['h264', 'hevc', 'vp9', 'av1', 'mpeg1video', 'mpeg2video', 'mjpeg', 'prores', 'dnxhd']);

/** One packet of the chosen stream as ffprobe lists it (decode order). */
export interface ProbedPacket {
  /** In stream time base; NaN when the container has none for it. */
  readonly pts: number;
  readonly flags: string;
}

/**
 * Builds the frame-number → pts index, or says why seeking would not be provably the same as
 * decoding from frame 0. The checks cover what the full decode would count differently from the
 * packet order: packets without pts, discarded (edit list) or corrupt packets, shared pts, a stream
 * that does not start on a keyframe (its leading frames are dropped by the decoder) and codecs that
 * may not map packets to frames one to one. The decode re-checks every frame it sees (video-frames.ts).
 */
export function buildPacketIndex(codec: string, timeBase: string | undefined, packets: readonly ProbedPacket[], totalFrames: number): VideoPacketIndex {
  const [num, den] = (timeBase ?? '').split('/').map(Number);
  const tb: [number, number] = [num, den];
  const none = (why: string): VideoPacketIndex => ({ timeBase: tb, pts: new Float64Array(0), keyframe: new Uint8Array(0), unseekable: why });
  if (!ONE_FRAME_PER_PACKET.has(codec)) return none(`codec ${codec} may not turn each packet into one frame`);
  if (!(Number.isSafeInteger(num) && Number.isSafeInteger(den) && num > 0 && den > 0)) return none(`no usable time base (${timeBase})`);
  if (packets.length !== totalFrames || packets.length === 0) return none(`packet list (${packets.length}) does not match the packet count (${totalFrames})`);
  if (!packets.every((p) => Number.isSafeInteger(p.pts))) return none('some packets have no timestamp');
  if (packets.some((p) => /[DC]/.test(p.flags))) return none('the stream has discarded (edit list) or corrupt packets');
  if (!packets[0].flags.startsWith('K')) return none('the stream does not start with a keyframe');
  const pts = Float64Array.from(packets, (p) => p.pts).sort();
  for (let i = 1; i < pts.length; i++) if (pts[i] === pts[i - 1]) return none('two packets share a timestamp');
  const keyPts = new Set(packets.filter((p) => p.flags.startsWith('K')).map((p) => p.pts));
  const keyframe = Uint8Array.from(pts, (t) => (keyPts.has(t) ? 1 : 0));
  // Frames shown before the first keyframe (open-GOP leading frames, a cut start) are dropped by
  // the decoder when it starts at packet 0, which shifts every later frame number.
  if (!keyframe[0]) return none('the first frame shown is not a keyframe');
  return { timeBase: tb, pts, keyframe, unseekable: null };
}

const PROBE_ENTRIES =
  'packet=stream_index,pts,flags:' +
  'stream=index,codec_type,codec_name,width,height,avg_frame_rate,time_base,nb_frames,nb_read_packets,duration:' +
  'stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=side_data_type,rotation:format=duration';

interface ProbeCacheEntry {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly probe: VideoProbe;
}

/**
 * The last few probes, so that the moments of one file (each a separate `preprocessVideo`) read its
 * packet list once instead of once per moment. Keyed by path and checked against size, mtime and
 * inode, so a file that changed is probed again.
 */
const probeCache = new Map<string, ProbeCacheEntry>();
const PROBE_CACHE_SIZE = 8;

/** Probes `file`; throws `VideoReadError` for empty, non-video, corrupt or truncated files. */
export async function probeVideo(file: string, options: RunOptions = {}): Promise<VideoProbe> {
  let info: { size: bigint; mtimeNs: bigint; ino: bigint };
  try {
    info = await stat(file, { bigint: true });
  } catch (err) {
    throw new VideoReadError(`Cannot open video '${file}': ${(err as Error).message}. Check that the file exists and is readable.`);
  }
  if (info.size === 0n) throw new VideoReadError(`Video '${file}' is empty (0 bytes); it was probably not fully copied or downloaded. Replace it with a complete copy.`);
  const cached = probeCache.get(file);
  if (cached && cached.size === info.size && cached.mtimeNs === info.mtimeNs && cached.ino === info.ino) {
    probeCache.delete(file); // refresh its place in the LRU order
    probeCache.set(file, cached);
    return cached.probe;
  }
  const { ffprobe } = await locateFfmpeg();
  // One demux pass: stream info and the packet count as before, plus every packet's pts and flags.
  // `V` = video streams that are not cover art. Compact JSON puts each packet on its own line, so
  // the packet list (millions of lines for a long video) is parsed as it streams, never held whole.
  const packetsByStream = new Map<number, ProbedPacket[]>();
  let json = '';
  let inPackets = false;
  const onLine = (line: string): void => {
    const t = line.trim();
    if (inPackets) {
      // A packet is one line, except for continuation lines of its own side data (MPEG-TS); the
      // list ends at the closing bracket indented like its `"packets": [` line.
      if (/^ {4}\],?\s*$/.test(line)) {
        inPackets = false;
        json += line + '\n';
      } else if (t.startsWith('{ "stream_index"')) {
        const stream = Number(/"stream_index": (\d+)/.exec(t)?.[1] ?? NaN);
        const pts = /"pts": (-?\d+)/.exec(t)?.[1];
        const flags = /"flags": "([^"]*)"/.exec(t)?.[1] ?? '';
        let list = packetsByStream.get(stream);
        if (!list) packetsByStream.set(stream, (list = []));
        list.push({ pts: pts === undefined ? NaN : Number(pts), flags });
      }
      return;
    }
    if (t === '"packets": [') inPackets = true;
    json += line + '\n';
  };
  try {
    await runLines(ffprobe, ['-v', 'error', '-count_packets', '-select_streams', 'V', '-show_entries', PROBE_ENTRIES, '-of', 'json=c=1', '--', file], onLine, options);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new VideoReadError(
      `Cannot read video '${file}': ${(err as Error).message}. The file is damaged, truncated or not a video; re-export or re-download it.`,
    );
  }
  let parsed: { streams?: FfprobeStream[]; format?: { duration?: string } };
  try {
    parsed = JSON.parse(json) as typeof parsed;
  } catch {
    throw new VideoReadError(`Cannot read video '${file}': ffprobe printed output Trove does not understand. Check that ffprobe works (ffprobe -version) or set TROVE_FFPROBE to a working build.`);
  }
  const stream = (parsed.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!stream) throw new VideoReadError(`'${file}' has no video stream (only audio or cover art); it cannot be indexed as a video.`);
  const totalFrames = Number(stream.nb_read_packets ?? 0);
  const fps = parseRate(stream.avg_frame_rate);
  if (!(totalFrames > 0)) throw new VideoReadError(`Video '${file}' contains no frames; it is empty or truncated. Re-export or re-download it.`);
  if (!(Number.isFinite(fps) && fps > 0)) {
    throw new VideoReadError(`Video '${file}' has no usable frame rate (avg_frame_rate ${stream.avg_frame_rate}); re-encode it, e.g. ffmpeg -i in -c:v libx264 out.mp4.`);
  }
  const codedWidth = stream.width ?? 0;
  const codedHeight = stream.height ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) throw new VideoReadError(`Video '${file}' reports no frame size; it is damaged. Re-export it.`);
  const rotation = clockwiseRotation(stream);
  const quarterTurn = Math.round(rotation) === 90 || Math.round(rotation) === 270;
  const streamDuration = Number.parseFloat(stream.duration ?? '');
  const codec = stream.codec_name ?? 'unknown';
  const probe: VideoProbe = {
    totalFrames,
    fps,
    durationSeconds: Number.isFinite(streamDuration) ? streamDuration : Number.parseFloat(parsed.format?.duration ?? 'NaN'),
    width: quarterTurn ? codedHeight : codedWidth,
    height: quarterTurn ? codedWidth : codedHeight,
    codedWidth,
    codedHeight,
    rotation,
    codec,
    containerFrameCount: Number(stream.nb_frames ?? 0) || 0,
    streamIndex: stream.index,
    packets: buildPacketIndex(codec, stream.time_base, packetsByStream.get(stream.index) ?? [], totalFrames),
  };
  probeCache.set(file, { size: info.size, mtimeNs: info.mtimeNs, ino: info.ino, probe });
  while (probeCache.size > PROBE_CACHE_SIZE) probeCache.delete(probeCache.keys().next().value!);
  return probe;
}
