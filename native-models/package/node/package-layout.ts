// What a model package folder holds and how its files are hashed. Shared by the builder and the
// inspector so both agree on names (and a future runtime loader can reuse them).
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PackageFile } from '../../manifest/common/model-manifest.ts';

export const MANIFEST_FILE = 'manifest.json';
export const PACKAGE_FORMAT_NAME = 'trove-model-package';
/** Tokenizer files the runtime cannot work without; the build refuses a checkpoint that lacks one. */
export const REQUIRED_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
/** Copied when the checkpoint has them: chat template (both HF spellings) and pre-processor settings. */
export const OPTIONAL_TOKENIZER_FILES = ['chat_template.json', 'chat_template.jinja', 'preprocessor_config.json', 'video_preprocessor_config.json'] as const;
/** A build in progress lives in `<target>.partial-<random>`; such a folder is never a valid package. */
export const PARTIAL_SUFFIX = '.partial-';

/** Bytes read per hashing step: large enough to keep SHA-256 busy, small enough to keep memory flat. */
const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

export interface HashProgress {
  /** Bytes of this file hashed so far. */
  (bytesDone: number): void;
}

/** SHA-256 of a file, read in fixed chunks through one buffer (constant memory for any size). */
export async function sha256File(file: string, options: { signal?: AbortSignal; onBytes?: HashProgress } = {}): Promise<PackageFile> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let bytes = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
      options.onBytes?.(bytes);
    }
    return { name: path.basename(file), bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/**
 * True when `dir` holds a manifest.json that says it is a Trove model package, of any format
 * version: the builder may replace such a folder (with overwrite), never anything else.
 */
export async function looksLikeModelPackage(dir: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as { format?: unknown } | null;
    return json !== null && typeof json === 'object' && json.format === PACKAGE_FORMAT_NAME;
  } catch {
    return false;
  }
}
