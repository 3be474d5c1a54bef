// Trove inputs → the OpenAI chat-style content parts vLLM reads (see docs/remote-inference.md for
// the request shapes and the vLLM source they were checked against).
//
// - Text: one `text` part holding the input's texts joined with no separator (the wrappers' rule,
//   docs/qwen3-vl-model.md#embedder-prompt); an input with nothing in it is the text "NULL", as the reference renders it.
// - Images: the original file bytes as a `data:<mime>;base64,` URL; the server decodes and resizes
//   them itself, as the reference's processor does.
// - Videos: Trove samples the frames itself (docs/qwen3-vl-model.md#video-sampling, clip windows
//   included), resizes them to the per-frame size qwen-vl-utils would hand the processor
//   (docs/qwen3-vl-model.md#video-frame-size), and sends them as vLLM's frame-sequence URL
//   `data:video/jpeg;base64,<frame1>,<frame2>,…`. vLLM decodes each frame with
//   Pillow, which reads the bytes' own format, so lossless PNG frames work under that media type.
//   The timing the prompt's "<t seconds>" text needs travels as `media_io_kwargs.video`
//   ({fps, frames_indices, total_num_frames, num_frames, do_sample_frames: false}).
// Order inside the user message: videos, then images, then the text (the template renders the
// placeholders in part order, which is the wrappers' order).
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { resizeBicubicTorchvision } from '../../../model-inputs/common/torchvision-resize.ts';
import { checkVideoTokenBudget, temporalGroupTimestamps, videoFrameTargetSize } from '../../../model-inputs/common/video-sampling.ts';
import { planWindowSampling } from '../../../model-inputs/common/video-window.ts';
import { PATCH_SIZE, TEMPORAL_PATCH_SIZE } from '../../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { GridThw, RgbImage } from '../../../media/common/vision-types.ts';
import type { EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import { decodeFramesByNumber } from '../../../media/node/video-frames.ts';
import { probeVideo } from '../../../media/node/video-probe.ts';
import type { VideoClip, VideoInput } from '../../../model-inputs/node/video-preprocess.ts';

export type TextPart = { readonly type: 'text'; readonly text: string };
export type ImagePart = { readonly type: 'image_url'; readonly image_url: { readonly url: string } };
export type VideoPart = { readonly type: 'video_url'; readonly video_url: { readonly url: string } };
export type ContentPart = TextPart | ImagePart | VideoPart;

/** vLLM's `media_io_kwargs.video` for a frame sequence: what the processor's timestamps are computed from. */
export interface VideoTiming {
  /** The file's average frame rate (timestamps are frames_indices / fps). */
  readonly fps: number;
  /** Absolute frame numbers of the frames sent, in order. */
  readonly frames_indices: readonly number[];
  /** Frames of the whole file (decord's count). */
  readonly total_num_frames: number;
  /** Frames sent; vLLM keeps at most num_frames of a sequence (its default is 32). */
  readonly num_frames: number;
  /** The frames are already sampled; the processor must not sample again. */
  readonly do_sample_frames: false;
}

export interface RemoteContent {
  readonly parts: ContentPart[];
  /** Present when the input has a video (at most one per input travels with its timing). */
  readonly videoTiming?: VideoTiming;
  /** Bytes of media in the parts (for the description of what leaves the machine). */
  readonly mediaBytes: number;
}

export interface RemoteContentOptions {
  /** 'png' is lossless; 'jpeg' is quality 95 with full-resolution colour. */
  readonly videoFrameFormat?: 'png' | 'jpeg';
  readonly signal?: AbortSignal;
}

const startsWith = (bytes: Buffer, signature: readonly number[], offset = 0): boolean => signature.every((b, i) => bytes[offset + i] === b);

/** The media type of encoded image bytes, from their signature (what the server's Pillow will sniff too). */
export function sniffImageMime(bytes: Buffer): string {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(bytes, [0x42, 0x4d])) return 'image/bmp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (startsWith(bytes, [0x66, 0x74, 0x79, 0x70], 4)) {
    const brand = bytes.subarray(8, 12).toString('latin1');
    if (brand === 'avif' || brand === 'avis') return 'image/avif';
    if (brand.startsWith('hei') || brand === 'mif1' || brand === 'msf1') return 'image/heic';
  }
  return 'application/octet-stream';
}

/** An image file (or encoded bytes) as a data URL of its original bytes. */
export async function imageDataUrl(source: string | Buffer): Promise<{ url: string; bytes: number }> {
  let bytes: Buffer;
  try {
    bytes = typeof source === 'string' ? await readFile(source) : source;
  } catch (error) {
    throw new Error(`Cannot read image '${String(source)}' to send it to the inference server: ${(error as Error).message}. Check that the file exists and is readable.`);
  }
  if (bytes.length === 0) throw new Error(`Image ${typeof source === 'string' ? `'${source}'` : '(bytes)'} is empty; there is nothing to send to the inference server.`);
  return { url: `data:${sniffImageMime(bytes)};base64,${bytes.toString('base64')}`, bytes: bytes.length };
}

async function encodeFrame(image: RgbImage, format: 'png' | 'jpeg'): Promise<Buffer> {
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const pipeline = sharp(raw, { raw: { width: image.width, height: image.height, channels: 3 } });
  return format === 'png' ? pipeline.png({ compressionLevel: 6 }).toBuffer() : pipeline.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
}

/**
 * A video (a file, or a clip `{ path, start, end, maxFrames }`) as the frames Trove samples for it:
 * the same frame numbers, decoder and per-frame resize as local inference (video-preprocess.ts),
 * encoded one by one into a frame-sequence data URL.
 */
export async function videoPart(source: VideoInput, options: RemoteContentOptions = {}): Promise<{ part: VideoPart; timing: VideoTiming; bytes: number }> {
  const clip: VideoClip = typeof source === 'string' ? { path: source } : source;
  const probe = await probeVideo(clip.path, { signal: options.signal, timeoutMs: 60_000 });
  const window = { start: clip.start, end: clip.end };
  const { frameCount, frameIndices, range } = planWindowSampling(probe.totalFrames, probe.fps, window, { maxFrames: clip.maxFrames });
  const resized = videoFrameTargetSize(probe.height, probe.width, frameCount, 'file');
  const gridThw: GridThw = [frameCount / TEMPORAL_PATCH_SIZE, resized[0] / PATCH_SIZE, resized[1] / PATCH_SIZE];
  const timestamps = temporalGroupTimestamps({ fps: probe.fps, frameIndices });
  const windowed = clip.start !== undefined || clip.end !== undefined;
  // The same refusal as local inference: a video that cannot fit the embedder's 8,192 tokens.
  checkVideoTokenBudget(gridThw, timestamps, { resized, durationSeconds: windowed ? range.frameCount / probe.fps : probe.durationSeconds });

  const byIndex = new Map<number, RgbImage>();
  for await (const frame of decodeFramesByNumber(clip.path, probe, frameIndices, { signal: options.signal })) {
    byIndex.set(frame.index, resizeBicubicTorchvision(frame.image, resized[1], resized[0]));
  }
  const format = options.videoFrameFormat ?? 'png';
  const encoded: string[] = [];
  let bytes = 0;
  for (const index of frameIndices) {
    options.signal?.throwIfAborted();
    const frame = await encodeFrame(byIndex.get(index)!, format);
    bytes += frame.length;
    encoded.push(frame.toString('base64'));
  }
  return {
    part: { type: 'video_url', video_url: { url: `data:video/jpeg;base64,${encoded.join(',')}` } },
    timing: { fps: probe.fps, frames_indices: frameIndices, total_num_frames: probe.totalFrames, num_frames: frameIndices.length, do_sample_frames: false },
    bytes,
  };
}

/** One Trove input as content parts, in the wrappers' order (videos, images, text). */
export async function remoteContent(input: EmbedInput, options: RemoteContentOptions = {}): Promise<RemoteContent> {
  const videos = input.videos ?? [];
  if (videos.length > 1) {
    throw new RangeError(
      `An input with ${videos.length} videos cannot be sent to a vLLM server: the frame timing travels once per request (media_io_kwargs). ` +
        'Embed each video as its own input.',
    );
  }
  const parts: ContentPart[] = [];
  let mediaBytes = 0;
  let videoTiming: VideoTiming | undefined;
  for (const video of videos) {
    const { part, timing, bytes } = await videoPart(video, options);
    parts.push(part);
    videoTiming = timing;
    mediaBytes += bytes;
  }
  for (const image of input.images ?? []) {
    options.signal?.throwIfAborted();
    const { url, bytes } = await imageDataUrl(image);
    parts.push({ type: 'image_url', image_url: { url } });
    mediaBytes += bytes;
  }
  const texts = input.texts ?? [];
  if (texts.length > 0) parts.push({ type: 'text', text: texts.join('') });
  else if (parts.length === 0) parts.push({ type: 'text', text: 'NULL' });
  return { parts, videoTiming, mediaBytes };
}

/** A rerank query or document: a plain string when it is text only, else `{ content: [...] }`. */
export function scoreInput(content: RemoteContent): string | { content: ContentPart[] } {
  const [first] = content.parts;
  if (content.parts.length === 1 && first!.type === 'text') return first!.text;
  return { content: content.parts };
}
