// Reads what the sampler needs from a video file with ffprobe, counted the way decord 0.6.0
// (the reference decoder) counts (design spec §3.1):
//  - frame count = number of *packets* of the video stream. decord's `len(vr)` is the size of
//    the packet index it builds at open (`IndexKeyframes`), not the container's nb_frames and not
//    a count of decoded frames; `ffprobe -count_packets` reads the same packets (demux only, no decoding).
//  - average fps = the stream's avg_frame_rate (decord `get_avg_fps`).
//  - rotation: decord turns frames upright for 90/180/270° display matrices (transpose filters), as
//    the ffmpeg CLI's autorotate does; `width`/`height` here are the upright frame size.
import { execFile } from 'node:child_process';
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

/** Probes `file`; throws `VideoReadError` for empty, non-video, corrupt or truncated files. */
export async function probeVideo(file: string, options: RunOptions = {}): Promise<VideoProbe> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new VideoReadError(`Cannot open video '${file}': ${(err as Error).message}. Check that the file exists and is readable.`);
  }
  if (size === 0) throw new VideoReadError(`Video '${file}' is empty (0 bytes); it was probably not fully copied or downloaded. Replace it with a complete copy.`);
  const { ffprobe } = await locateFfmpeg();
  let json: string;
  try {
    json = await runCapture(
      ffprobe,
      ['-v', 'error', '-count_packets', '-show_entries',
        'stream=index,codec_type,codec_name,width,height,avg_frame_rate,nb_frames,nb_read_packets,duration:stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=side_data_type,rotation:format=duration',
        '-of', 'json', '--', file],
      options,
    );
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new VideoReadError(
      `Cannot read video '${file}': ${(err as Error).message}. The file is damaged, truncated or not a video; re-export or re-download it.`,
    );
  }
  const parsed = JSON.parse(json) as { streams?: FfprobeStream[]; format?: { duration?: string } };
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
  return {
    totalFrames,
    fps,
    durationSeconds: Number.isFinite(streamDuration) ? streamDuration : Number.parseFloat(parsed.format?.duration ?? 'NaN'),
    width: quarterTurn ? codedHeight : codedWidth,
    height: quarterTurn ? codedWidth : codedHeight,
    codedWidth,
    codedHeight,
    rotation,
    codec: stream.codec_name ?? 'unknown',
    containerFrameCount: Number(stream.nb_frames ?? 0) || 0,
    streamIndex: stream.index,
  };
}
